package vecopt.optim;

import java.util.List;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.kernel.RAdamStep;
import vecopt.param.ParamSet;

/**
 * RAdam, rectified Adam (Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020): Adam
 * whose adaptive step is switched on only once the variance of its denominator is tractable, with a rectification
 * factor in place of a warmup, with PyTorch's {@code torch.optim.RAdam} semantics, as {@code _single_tensor_radam}
 * in {@code torch/optim/radam.py} computes it. Per element, at step {@code t} of the group:
 * <pre>
 *   g          = -grad if maximize else grad
 *   p         *= 1 - lr * weight_decay      (decoupled_weight_decay)   or   g += weight_decay * p   (L2)
 *   exp_avg    = beta1 * exp_avg + (1 - beta1) * g
 *   exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g^2
 *   rho_inf    = 2 / (1 - beta2) - 1;   rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
 *   if rho_t > 5:  p -= lr * exp_avg / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(exp_avg_sq) + eps) * rect,
 *                  rect = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
 *   else:          p -= lr * exp_avg / (1 - beta1^t)
 * </pre>
 * With the default beta2 0.999 the first five steps are momentum SGD steps and the sixth is the first adaptive one.
 * State: {@code exp_avg}, {@code exp_avg_sq}; 28 bytes per parameter per step. The float operation sequence is in
 * {@code vecopt.kernel.RAdamStep}. {@code trackNorms(true)} is refused: no tracked loop yet.
 *
 * <pre>{@code
 * try (RAdam opt = RAdam.builder(params).build()) {
 *     opt.step(1e-3);     // no warmup schedule needed: that is RAdam's point
 * }
 * }</pre>
 */
public final class RAdam extends Optimizer<RAdamOptions> {
    private static final List<String> STATE = List.of("exp_avg", "exp_avg_sq");
    private final RAdamStep[] steps;

    private RAdam(Builder b) {
        super(untracked(b, "RAdam"));
        this.steps = new RAdamStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new RAdamStep();
        }
    }

    /** A builder whose default group has {@link RAdamOptions#DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    @Override
    List<String> stateNames(List<ParamGroup<RAdamOptions>> groups) {
        return STATE;
    }

    @Override
    boolean supportsEightBitState() {
        return true;
    }

    @Override
    boolean eightBitRoot(String stateName) {
        return stateName.equals("exp_avg_sq"); // non-negative: coded as its square root, as Adam's
    }

    @Override
    void prepare(int group, RAdamOptions o, double lr, long t, double gradScale) {
        steps[group].prepare(lr, o.beta1(), o.beta2(), o.eps(), o.weightDecay(), o.decoupledWeightDecay(), t,
                gradScale);
        roundingKeys(steps[group], t);
    }

    @Override
    void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.update(chunk, steps[chunk.group()]);
    }

    public static final class Builder extends Optimizer.Builder<RAdamOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, RAdamOptions.DEFAULTS);
        }

        public RAdam build() {
            return new RAdam(this);
        }
    }
}
