package vecopt.optim;

import java.util.List;
import vecopt.kernel.AdagradStep;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.param.ParamSet;

/**
 * Adagrad (Duchi, Hazan and Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
 * Optimization", JMLR 2011) with PyTorch's {@code torch.optim.Adagrad} semantics, as {@code _single_tensor_adagrad}
 * in {@code torch/optim/adagrad.py} computes it on dense tensors. Per element, at step {@code t} of the group:
 * <pre>
 *   g    = -grad if maximize else grad
 *   g   += weight_decay * p                          (L2)
 *   sum += g * g
 *   p   -= clr * g / (sqrt(sum) + eps),   clr = lr / (1 + (t - 1) * lr_decay)
 * </pre>
 * State: {@code sum} (starting at {@code initial_accumulator_value}); 12 bytes per parameter per step (read p, g,
 * sum; write p, sum). The float operation sequence is in {@code vecopt.kernel.AdagradStep}. Sparse gradients are
 * not supported (the engine's gradients are dense). {@code trackNorms(true)} is refused: no tracked loop yet.
 *
 * <pre>{@code
 * try (Adagrad opt = Adagrad.builder(params).options(AdagradOptions.DEFAULTS.withInitialAccumulatorValue(0.1))
 *         .build()) {
 *     opt.step(1e-2);
 * }
 * }</pre>
 */
public final class Adagrad extends Optimizer<AdagradOptions> {
    private static final List<String> STATE = List.of("sum");
    private final AdagradStep[] steps;

    private Adagrad(Builder b) {
        super(untracked(b, "Adagrad"));
        this.steps = new AdagradStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new AdagradStep();
        }
    }

    /** A builder whose default group has {@link AdagradOptions#DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    @Override
    List<String> stateNames(List<ParamGroup<AdagradOptions>> groups) {
        return STATE;
    }

    @Override
    float initialState(String stateName, AdagradOptions o) {
        return (float) o.initialAccumulatorValue(); // torch.full_like(p, initial_accumulator_value)
    }

    @Override
    boolean supportsEightBitState() {
        return true;
    }

    @Override
    boolean eightBitRoot(String stateName) {
        return true; // sum, non-negative
    }

    @Override
    void prepare(int group, AdagradOptions o, double lr, long t, double gradScale) {
        steps[group].prepare(lr, o.lrDecay(), o.weightDecay(), o.eps(), t, gradScale);
        roundingKeys(steps[group], t);
    }

    @Override
    void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.update(chunk, steps[chunk.group()]);
    }

    public static final class Builder extends Optimizer.Builder<AdagradOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, AdagradOptions.DEFAULTS);
        }

        public Adagrad build() {
            return new Adagrad(this);
        }
    }
}
