package vecopt.djl.train;

import java.util.List;
import vecopt.clip.NonFinite;
import vecopt.djl.gpt.GptConfig;
import vecopt.optim.Optimizer;
import vecopt.optim.ScheduleFreeAdamW;
import vecopt.optim.ScheduleFreeAdamWOptions;
import vecopt.param.ParamSet;

/**
 * Schedule-free AdamW ({@link ScheduleFreeAdamW}: Defazio et al. 2024, {@code facebookresearch/schedule_free}'s
 * {@code AdamWScheduleFree}) as a setup of the demo's training run, and the runs of {@code ./vecopt schedule-free}
 * that compare it with the demo's AdamW recipe (10% linear warmup, cosine decay to 0, peak lr 6e-3).
 *
 * <p>It is the demo's AdamW in every option the two share: betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on the
 * weight matrices and embeddings and none on biases and LayerNorm parameters (schedule_free's default is 0; the
 * comparison keeps the demo's, applied at y as the original applies it), non-finite steps skipped. What differs is
 * what the method is about: no lr schedule (every step gets the same lr, {@link Recipe.Decay#CONSTANT}), its own
 * linear warmup ({@code warmup_steps}, 10% of the run as the AdamW recipe's), and evaluation at the averaged iterate
 * x. The training loop follows the original's examples: {@code optimizer.train()} before training (here: when the
 * bridge builds the optimizer at its first step), {@code optimizer.eval()} before every held-out evaluation and
 * checkpoint, {@code optimizer.train()} after ({@link #beforeEvaluation}, {@link #afterEvaluation}, which
 * {@link TrainingRun} calls); the final evaluation leaves it in eval mode, so the run's final parameters are x.
 *
 * <pre>{@code
 * OptimizerSetup sf = new ScheduleFree("sf lr 0.012", 20);        // warmup_steps 20
 * RunLog log = TrainingRun.run(cfg, ScheduleFree.recipe("sf lr 0.012", true), sf, data, listener);
 * }</pre>
 *
 * @param name        shown in tables and charts
 * @param warmupSteps the optimizer's {@code warmup_steps} (0: none)
 */
record ScheduleFree(String name, long warmupSteps) implements OptimizerSetup {
    /** The demo's AdamW recipe, the comparison's reference. */
    static final String ADAMW_RECIPE = "warmup";
    /**
     * The lr sweep, as multiples of the AdamW recipe's peak 6e-3: 0.25x, 0.5x, 1x and 2x. The authors recommend a
     * larger lr than a scheduled AdamW's, "often 1-10x" (the schedule_free README), but a first sweep of 1x, 2x, 4x
     * and 8x on this task got worse with every doubling (README "Schedule-free AdamW against warmup + cosine"), so
     * the sweep is centred where the best run was, by doublings.
     */
    static final List<Double> LRS = List.of(1.5e-3, 3e-3, 6e-3, 1.2e-2);

    ScheduleFree {
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        }
    }

    /**
     * A run of schedule-free AdamW: pre-LN as the AdamW recipe, no schedule, no clipping; its warmup (10% of the run,
     * or none) is the optimizer's, so the recipe's warmup fraction only says how long it is.
     */
    static Recipe recipe(String name, boolean warmup) {
        return new Recipe(name, "schedule-free AdamW, " + (warmup ? "10% warmup (warmup_steps)" : "no warmup")
                + ", no schedule", GptConfig.Norm.PRE, warmup ? Recipe.WARMUP : 0, Recipe.Decay.CONSTANT, 0);
    }

    /** The options: schedule_free's defaults but the demo's weight decay, with {@link #warmupSteps}. */
    ScheduleFreeAdamWOptions options() {
        return ScheduleFreeAdamWOptions.DEFAULTS.withWeightDecay(TrainingRun.ADAMW.weightDecay())
                .withWarmupSteps(warmupSteps);
    }

    /** Builds the optimizer and puts it in train mode (the original's {@code optimizer.train()} before training). */
    @Override
    public Optimizer<?> build(ParamSet params, double clipNorm, int threads) {
        ScheduleFreeAdamWOptions o = options();
        ScheduleFreeAdamW.Builder b = ScheduleFreeAdamW.builder(params).options(o)
                .group("no_decay", o.withWeightDecay(0), TrainingRun::noDecay)
                .threads(threads).onNonFinite(NonFinite.SKIP);
        if (clipNorm > 0) {
            b.clipGradNorm(clipNorm);
        }
        ScheduleFreeAdamW opt = b.build();
        opt.train();
        return opt;
    }

    /** {@code optimizer.eval()}: the parameters become x, the averaged iterate, which is what gets evaluated. */
    @Override
    public void beforeEvaluation(Optimizer<?> optimizer) {
        ((ScheduleFreeAdamW) optimizer).eval();
    }

    /** {@code optimizer.train()}: back to y, where the next gradient is taken. */
    @Override
    public void afterEvaluation(Optimizer<?> optimizer) {
        ((ScheduleFreeAdamW) optimizer).train();
    }
}
