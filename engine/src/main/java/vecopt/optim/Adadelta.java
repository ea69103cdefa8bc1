package vecopt.optim;

import java.util.List;
import vecopt.kernel.AdadeltaStep;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.param.ParamSet;

/**
 * Adadelta (Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012) with PyTorch's {@code torch.optim.Adadelta}
 * semantics, as {@code _single_tensor_adadelta} in {@code torch/optim/adadelta.py} computes it. Per element:
 * <pre>
 *   g          = -grad if maximize else grad
 *   g         += weight_decay * p                                  (L2)
 *   square_avg = rho * square_avg + (1 - rho) * g^2
 *   delta      = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
 *   acc_delta  = rho * acc_delta + (1 - rho) * delta^2
 *   p         -= lr * delta
 * </pre>
 * State: {@code square_avg}, {@code acc_delta}; 28 bytes per parameter per step. The float operation sequence is in
 * {@code vecopt.kernel.AdadeltaStep}. {@code trackNorms(true)} is refused: no tracked loop yet.
 *
 * <pre>{@code
 * try (Adadelta opt = Adadelta.builder(params).build()) {
 *     opt.step(1.0);
 * }
 * }</pre>
 */
public final class Adadelta extends Optimizer<AdadeltaOptions> {
    private static final List<String> STATE = List.of("square_avg", "acc_delta");
    private final AdadeltaStep[] steps;

    private Adadelta(Builder b) {
        super(untracked(b, "Adadelta"));
        this.steps = new AdadeltaStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new AdadeltaStep();
        }
    }

    /** A builder whose default group has {@link AdadeltaOptions#DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    @Override
    List<String> stateNames(List<ParamGroup<AdadeltaOptions>> groups) {
        return STATE;
    }

    @Override
    String eightBitNever() {
        return "acc_delta grows by (1 - rho) d^2 with d = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g, and"
                + " the only bound on it from a block's largest values divides by sqrt(eps) (square_avg's smallest),"
                + " often orders of magnitude above its values, which would leave most of them below the 8-bit code's range";
    }

    @Override
    void prepare(int group, AdadeltaOptions o, double lr, long t, double gradScale) {
        steps[group].prepare(lr, o.rho(), o.eps(), o.weightDecay(), gradScale);
        roundingKeys(steps[group], t);
    }

    @Override
    void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.update(chunk, steps[chunk.group()]);
    }

    public static final class Builder extends Optimizer.Builder<AdadeltaOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, AdadeltaOptions.DEFAULTS);
        }

        public Adadelta build() {
            return new Adadelta(this);
        }
    }
}
