package vecopt.optim;

import java.util.List;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.kernel.RpropStep;
import vecopt.param.ParamSet;

/**
 * Rprop, resilient backpropagation (Riedmiller and Braun, "A Direct Adaptive Method for Faster Backpropagation
 * Learning: The RPROP Algorithm", 1993), with PyTorch's {@code torch.optim.Rprop} semantics, as
 * {@code _single_tensor_rprop} in {@code torch/optim/rprop.py} computes it: only the gradient's sign is used, each
 * parameter with its own step size. Per element:
 * <pre>
 *   g         = -grad if maximize else grad
 *   step_size = clamp(step_size * (etaplus if g * prev > 0, etaminus if g * prev &lt; 0, else 1), min, max)
 *   g         = 0 where g * prev &lt; 0                (no move, and no sign to compare with next time)
 *   p        -= sign(g) * step_size
 *   prev      = g
 * </pre>
 * State: {@code prev}, {@code step_size} (starting at the first step's lr); 28 bytes per parameter per step. The
 * float operation sequence is in {@code vecopt.kernel.RpropStep}. Rprop is meant for full-batch gradients; it has no
 * weight decay (PyTorch's has none). {@code trackNorms(true)} is refused: no tracked loop yet.
 *
 * <pre>{@code
 * try (Rprop opt = Rprop.builder(params).build()) {
 *     opt.step(1e-2);
 * }
 * }</pre>
 */
public final class Rprop extends Optimizer<RpropOptions> {
    private static final List<String> STATE = List.of("prev", "step_size");
    private final RpropStep[] steps;

    private Rprop(Builder b) {
        super(untracked(b, "Rprop"));
        this.steps = new RpropStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new RpropStep();
        }
    }

    /** A builder whose default group has {@link RpropOptions#DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    @Override
    List<String> stateNames(List<ParamGroup<RpropOptions>> groups) {
        return STATE;
    }

    @Override
    boolean supportsEightBitState() {
        return true;
    }

    @Override
    boolean eightBitRoot(String stateName) {
        return stateName.equals("step_size"); // positive: coded as its square root, never 0
    }

    @Override
    void prepare(int group, RpropOptions o, double lr, long t, double gradScale) {
        steps[group].prepare(lr, o.etaMinus(), o.etaPlus(), o.stepSizeMin(), o.stepSizeMax(), t, gradScale);
        roundingKeys(steps[group], t);
    }

    @Override
    void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.update(chunk, steps[chunk.group()]);
    }

    public static final class Builder extends Optimizer.Builder<RpropOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, RpropOptions.DEFAULTS);
        }

        public Rprop build() {
            return new Rprop(this);
        }
    }
}
