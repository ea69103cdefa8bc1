package vecopt.djl.train;

import java.util.List;
import vecopt.clip.NonFinite;
import vecopt.djl.gpt.GptConfig;
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.optim.Lars;
import vecopt.optim.LarsOptions;
import vecopt.optim.Optimizer;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.param.ParamSet;

/**
 * The optimizers of the large-batch comparison and how one of its runs is set up: at the same budget of sequences,
 * a batch k times the base batch takes k times fewer steps at k times the base lr (the linear scaling rule, Goyal et
 * al. 2017, "Accurate, Large Minibatch SGD"), with or without a linear warmup over the first 10% of its steps
 * (10% of the sequences whatever the batch: Goyal et al. keep the warmup fixed in epochs, so both readings agree at
 * a fixed budget), then cosine decay to 0.
 *
 * <ul>
 *   <li>{@code adamw}: the demo's AdamW (weight decay 0.01, none on biases and LayerNorm parameters);</li>
 *   <li>{@code lamb}: optax's {@code lamb} (You et al. 2019), b1 0.9, b2 0.999, eps 1e-6, weight decay 0.01 on the
 *       same tensors as AdamW (optax's mask), the trust ratio on every tensor (optax has no trust-ratio mask for
 *       LAMB);</li>
 *   <li>{@code sgd}: SGD with momentum 0.9, weight decay 1e-4 (L2, Goyal et al.'s) on weights only;</li>
 *   <li>{@code lars}: optax's {@code lars} (You, Gitman and Ginsburg 2017), momentum 0.9, trust coefficient 0.001,
 *       weight decay 1e-4 on weights; biases and LayerNorm parameters neither decayed nor adapted (a group with
 *       {@code trustRatio(false)}: optax's {@code trust_ratio_mask}), as is standard.</li>
 * </ul>
 *
 * <pre>{@code
 * OptimizerSetup lars = LargeBatch.setup("lars");
 * Recipe r = LargeBatch.recipe("lars", 8, true);     // "lars x8 warmup"
 * TrainConfig cfg = flags.config(200 / 8, 8 * 8, LargeBatch.baseLr("lars") * 8);
 * }</pre>
 */
final class LargeBatch {
    /** The optimizers compared, in table order. */
    static final List<String> OPTIMIZERS = List.of("adamw", "lamb", "sgd", "lars");
    /** The demo's batch, the base of the scaling. */
    static final int BASE_BATCH = 8;
    /** Warmup of the runs with warmup: this fraction of the run's steps, linear from 0. */
    static final double WARMUP = 0.10;
    static final double SGD_WEIGHT_DECAY = 1e-4;

    private LargeBatch() {
    }

    /**
     * The base-batch lr of each optimizer, chosen from {@link #sweep}'s runs at batch 8 with warmup (README
     * "Large-batch training", docs/large-batch/sweep.md): the lowest final held-out loss for LAMB, SGD and LARS;
     * for AdamW the demo's 6e-3, 0.005 behind 2e-3, a difference far inside the seed-to-seed spread.
     */
    static double baseLr(String optimizer) {
        return switch (optimizer) {
            case "adamw" -> 6e-3;
            case "lamb" -> 1e-2;
            case "sgd" -> 0.1;
            case "lars" -> 3;
            default -> throw unknown(optimizer);
        };
    }

    /**
     * The lrs tried at the base batch: around AdamW's demo lr for AdamW; for LAMB around the same relative step
     * (its step is lr times each tensor's norm, so lr is the relative change, about what AdamW's upd/weight shows);
     * for SGD a decade around the usual 0.1; for LARS a decade whose relative step {@code lr * 0.001} (the trust
     * coefficient) matches LAMB's, momentum's 1 / (1 - 0.9) on top.
     */
    static List<Double> sweep(String optimizer) {
        return switch (optimizer) {
            case "adamw" -> List.of(2e-3, 6e-3, 1.2e-2);
            case "lamb" -> List.of(3e-3, 1e-2, 3e-2);
            case "sgd" -> List.of(0.03, 0.1, 0.3, 1.0);
            case "lars" -> List.of(0.3, 1.0, 3.0, 10.0);
            default -> throw unknown(optimizer);
        };
    }

    static OptimizerSetup setup(String optimizer) {
        return switch (optimizer) {
            case "adamw" -> OptimizerSetup.of("adamw", TrainingRun::adamW);
            case "lamb" -> OptimizerSetup.of("lamb", LargeBatch::lamb);
            case "sgd" -> OptimizerSetup.of("sgd", LargeBatch::sgd);
            case "lars" -> OptimizerSetup.of("lars", LargeBatch::lars);
            default -> throw unknown(optimizer);
        };
    }

    /** "lamb x8 warmup", "adamw x1": pre-LN, cosine decay to 0, no clipping. */
    static Recipe recipe(String optimizer, int multiplier, boolean warmup) {
        String name = optimizer + " x" + multiplier + (warmup ? " warmup" : " no-warmup");
        return new Recipe(name, optimizer + ", batch " + BASE_BATCH * multiplier + (warmup ? ", 10% warmup" : ", no warmup")
                + ", cosine decay", GptConfig.Norm.PRE, warmup ? WARMUP : 0, Recipe.Decay.COSINE, 0);
    }

    private static Optimizer<?> lamb(ParamSet params, double clipNorm, int threads) {
        LambOptions o = LambOptions.DEFAULTS.withWeightDecay(TrainingRun.ADAMW.weightDecay());
        Lamb.Builder b = Lamb.builder(params).options(o).group("no_decay", o.withWeightDecay(0), TrainingRun::noDecay)
                .threads(threads).onNonFinite(NonFinite.SKIP);
        if (clipNorm > 0) {
            b.clipGradNorm(clipNorm);
        }
        return b.build();
    }

    private static Optimizer<?> sgd(ParamSet params, double clipNorm, int threads) {
        SgdOptions o = SgdOptions.MOMENTUM.withWeightDecay(SGD_WEIGHT_DECAY);
        Sgd.Builder b = Sgd.builder(params).options(o).group("no_decay", o.withWeightDecay(0), TrainingRun::noDecay)
                .threads(threads).onNonFinite(NonFinite.SKIP);
        if (clipNorm > 0) {
            b.clipGradNorm(clipNorm);
        }
        return b.build();
    }

    private static Optimizer<?> lars(ParamSet params, double clipNorm, int threads) {
        LarsOptions o = LarsOptions.DEFAULTS.withWeightDecay(SGD_WEIGHT_DECAY);
        Lars.Builder b = Lars.builder(params).options(o)
                .group("no_adapt", o.withWeightDecay(0).withTrustRatio(false), TrainingRun::noDecay)
                .threads(threads).onNonFinite(NonFinite.SKIP);
        if (clipNorm > 0) {
            b.clipGradNorm(clipNorm);
        }
        return b.build();
    }

    private static IllegalArgumentException unknown(String optimizer) {
        return new IllegalArgumentException("unknown optimizer '" + optimizer + "'; known: " + OPTIMIZERS);
    }
}
