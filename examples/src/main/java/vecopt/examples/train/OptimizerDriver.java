package vecopt.examples.train;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * Everything the trainer asks of vecopt in one step: global-norm clipping, the AdamW or SGD update, and the numbers
 * the summary reports (gradient norm, clip coefficient, skipped step, update and parameter norms).
 *
 * <p>Parameters are grouped the usual way: biases and LayerNorm parameters get no weight decay.
 *
 * <p>Stand-in: until issue 3 (fused clipping, thread pool, step report norms) lands in main, the norm pass, the
 * clipping, the non-finite skip and the update norm are done here, in plain fixed-order loops, so the run is
 * deterministic; {@code threads} is recorded but not yet used.
 */
final class OptimizerDriver implements AutoCloseable {
    /** Which update rule. */
    enum Kind { ADAMW, SGD }

    /** What the last step did; overwritten by the next one. */
    static final class Outcome {
        double gradNorm;
        double clipCoef;
        boolean skipped;
        double updateNorm;
        double paramNorm;
    }

    private final Optimizer<?> optimizer;
    private final ParamSet set;
    private final double clipNorm;
    private final float[] before;
    private final Outcome outcome = new Outcome();

    OptimizerDriver(Kind kind, Recipe recipe, ParamSet set, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.set = set;
        this.clipNorm = recipe.clipNorm();
        this.optimizer = switch (kind) {
            case ADAMW -> AdamW.builder(set)
                    .options(recipe.adam())
                    .group("no_decay", recipe.adam().withWeightDecay(0), OptimizerDriver::noDecay)
                    .build();
            case SGD -> Sgd.builder(set)
                    .options(SgdOptions.MOMENTUM)
                    .group("no_decay", SgdOptions.MOMENTUM, OptimizerDriver::noDecay)
                    .build();
        };
        this.before = new float[Math.toIntExact(set.tensors().get(0).params().length())];
    }

    /** Biases and LayerNorm parameters: the tensors weight decay should not shrink. */
    static boolean noDecay(Tensor t) {
        return t.name().endsWith(".bias") || t.name().startsWith("ln");
    }

    String describe() {
        return optimizer.getClass().getSimpleName() + " on " + optimizer.kernels().describe();
    }

    /** Clips, updates with learning rate {@code lr} (unless the gradient is not finite), and reports. */
    Outcome step(double lr) {
        Storage grads = set.tensors().get(0).grads();
        Storage params = set.tensors().get(0).params();
        double sum = 0;
        for (Tensor t : set.tensors()) {
            for (long i = t.offset(); i < t.end(); i++) {
                double g = grads.get(i);
                sum += g * g;
            }
        }
        double norm = Math.sqrt(sum);
        outcome.gradNorm = norm;
        if (!Double.isFinite(norm)) {
            outcome.skipped = true;
            outcome.clipCoef = Double.NaN;
            outcome.updateNorm = 0;
            return outcome;
        }
        outcome.skipped = false;
        double coef = clipNorm > 0 ? Math.min(1.0, clipNorm / (norm + 1e-6)) : 1.0;
        outcome.clipCoef = coef;
        if (coef < 1) {
            float c = (float) coef;
            for (Tensor t : set.tensors()) {
                for (long i = t.offset(); i < t.end(); i++) {
                    grads.set(i, grads.get(i) * c);
                }
            }
        }
        MemorySegment.copy(params.segment(), JAVA_FLOAT, 0, before, 0, before.length);
        optimizer.step(lr);
        double du = 0, pn = 0;
        for (Tensor t : set.tensors()) {
            for (long i = t.offset(); i < t.end(); i++) {
                double p = params.get(i);
                double d = p - before[(int) i];
                du += d * d;
                pn += p * p;
            }
        }
        outcome.updateNorm = Math.sqrt(du);
        outcome.paramNorm = Math.sqrt(pn);
        return outcome;
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
