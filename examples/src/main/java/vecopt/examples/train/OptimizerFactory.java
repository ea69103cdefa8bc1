package vecopt.examples.train;

import vecopt.clip.NonFinite;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * Builds the optimizer a recipe asks for: AdamW (or SGD with momentum 0.9) over the model's shard, biases and
 * LayerNorm parameters in a "no_decay" group, the recipe's global-norm clipping fused into the step, non-finite
 * gradients skipped, and update and parameter norms tracked for the report.
 */
final class OptimizerFactory {
    private OptimizerFactory() {
    }

    static Optimizer<?> build(OptimizerKind kind, Recipe recipe, ParamSet set, int threads) {
        return switch (kind) {
            case ADAMW -> configure(AdamW.builder(set)
                    .options(recipe.adam())
                    .group("no_decay", recipe.adam().withWeightDecay(0), OptimizerFactory::noDecay), recipe, threads)
                    .build();
            case SGD -> configure(Sgd.builder(set)
                    .options(SgdOptions.MOMENTUM)
                    .group("no_decay", SgdOptions.MOMENTUM, OptimizerFactory::noDecay), recipe, threads)
                    .build();
        };
    }

    private static <B extends Optimizer.Builder<?, B>> B configure(B b, Recipe recipe, int threads) {
        b.threads(threads).onNonFinite(NonFinite.SKIP).trackNorms(true);
        if (recipe.clips()) {
            b.clipGradNorm(recipe.clipNorm());
        }
        return b;
    }

    /** Biases and LayerNorm parameters: the tensors weight decay should not shrink. */
    static boolean noDecay(Tensor t) {
        return t.name().endsWith(".bias") || t.name().startsWith("ln");
    }
}
