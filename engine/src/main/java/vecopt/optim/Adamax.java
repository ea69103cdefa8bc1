package vecopt.optim;

import java.util.List;
import vecopt.kernel.AdamaxStep;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.param.ParamSet;

/**
 * Adamax, Adam with the infinity norm (Kingma and Ba, "Adam: A Method for Stochastic Optimization", 2015, section
 * 7.1), with PyTorch's {@code torch.optim.Adamax} semantics, as {@code _single_tensor_adamax} in
 * {@code torch/optim/adamax.py} computes it. Per element, at step {@code t} of the group:
 * <pre>
 *   g        = -grad if maximize else grad
 *   g       += weight_decay * p                                 (L2)
 *   exp_avg  = beta1 * exp_avg + (1 - beta1) * g
 *   exp_inf  = max(beta2 * exp_inf, |g| + eps)
 *   p       -= lr / (1 - beta1^t) * exp_avg / exp_inf
 * </pre>
 * State: {@code exp_avg}, {@code exp_inf}; 28 bytes per parameter per step (read p, g, exp_avg, exp_inf; write p,
 * exp_avg, exp_inf). The float operation sequence is in {@code vecopt.kernel.AdamaxStep}. {@code trackNorms(true)}
 * is refused: no tracked loop yet.
 *
 * <pre>{@code
 * try (Adamax opt = Adamax.builder(params).build()) {
 *     opt.step(2e-3);
 * }
 * }</pre>
 */
public final class Adamax extends Optimizer<AdamaxOptions> {
    private static final List<String> STATE = List.of("exp_avg", "exp_inf");
    private final AdamaxStep[] steps;

    private Adamax(Builder b) {
        super(untracked(b, "Adamax"));
        this.steps = new AdamaxStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new AdamaxStep();
        }
    }

    /** A builder whose default group has {@link AdamaxOptions#DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    @Override
    List<String> stateNames(List<ParamGroup<AdamaxOptions>> groups) {
        return STATE;
    }

    @Override
    boolean supportsEightBitState() {
        return true;
    }

    @Override
    boolean eightBitRoot(String stateName) {
        // exp_inf is non-negative: coded as its square root, as exp_avg_sq (a code of the value itself would halve its
        // relative error but is a third code kind, not made yet)
        return stateName.equals("exp_inf");
    }

    @Override
    void prepare(int group, AdamaxOptions o, double lr, long t, double gradScale) {
        steps[group].prepare(lr, o.beta1(), o.beta2(), o.eps(), o.weightDecay(), t, gradScale);
        roundingKeys(steps[group], t);
    }

    @Override
    void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.update(chunk, steps[chunk.group()]);
    }

    public static final class Builder extends Optimizer.Builder<AdamaxOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, AdamaxOptions.DEFAULTS);
        }

        public Adamax build() {
            return new Adamax(this);
        }
    }
}
