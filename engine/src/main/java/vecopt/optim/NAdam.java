package vecopt.optim;

import java.util.List;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.kernel.NAdamStep;
import vecopt.param.ParamSet;

/**
 * NAdam, Adam with Nesterov momentum (Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop), with
 * PyTorch's {@code torch.optim.NAdam} semantics, as {@code _single_tensor_nadam} in {@code torch/optim/nadam.py}
 * computes it. Per element, at step {@code t} of the group:
 * <pre>
 *   g           = -grad if maximize else grad
 *   p          *= 1 - lr * weight_decay      (decoupled_weight_decay)   or   g += weight_decay * p   (L2)
 *   mu_t        = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay));   mu_product *= mu_t
 *   exp_avg     = beta1 * exp_avg + (1 - beta1) * g
 *   exp_avg_sq  = beta2 * exp_avg_sq + (1 - beta2) * g^2
 *   denom       = sqrt(exp_avg_sq / (1 - beta2^t)) + eps
 *   p          -= lr * (1 - mu_t) / (1 - mu_product) * g / denom
 *   p          -= lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * exp_avg / denom
 * </pre>
 * State: {@code exp_avg}, {@code exp_avg_sq} per element (28 bytes per parameter per step), and per group the scalar
 * {@code mu_product} ({@link #muProduct}; PyTorch keeps one per parameter tensor, all equal within a group, as a
 * float32 tensor, which this keeps as a float too). The float operation sequence is in
 * {@code vecopt.kernel.NAdamStep}. {@code trackNorms(true)} is refused: no tracked loop yet.
 *
 * <pre>{@code
 * try (NAdam opt = NAdam.builder(params).build()) {
 *     opt.step(2e-3);
 * }
 * }</pre>
 */
public final class NAdam extends Optimizer<NAdamOptions> {
    private static final List<String> STATE = List.of("exp_avg", "exp_avg_sq");
    private static final List<String> SCALARS = List.of("mu_product");
    private final NAdamStep[] steps;

    private NAdam(Builder b) {
        super(untracked(b, "NAdam"));
        this.steps = new NAdamStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new NAdamStep();
        }
    }

    /** A builder whose default group has {@link NAdamOptions#DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    /** PyTorch's state {@code mu_product} of the group called {@code group}: 1 before its first step. */
    public double muProduct(String group) {
        return steps[groups().indexOf(group(group))].muProduct();
    }

    @Override
    List<String> stateNames(List<ParamGroup<NAdamOptions>> groups) {
        return STATE;
    }

    @Override
    List<String> scalarStateNames() {
        return SCALARS;
    }

    @Override
    double scalarState(int group, String name) {
        return "mu_product".equals(name) ? steps[group].muProduct() : super.scalarState(group, name);
    }

    @Override
    void restoreScalarState(int group, double[] values) {
        steps[group].restoreMuProduct((float) values[0]);
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
    void prepare(int group, NAdamOptions o, double lr, long t, double gradScale) {
        steps[group].prepare(lr, o.beta1(), o.beta2(), o.eps(), o.weightDecay(), o.momentumDecay(),
                o.decoupledWeightDecay(), t, gradScale);
        roundingKeys(steps[group], t);
    }

    @Override
    void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.update(chunk, steps[chunk.group()]);
    }

    public static final class Builder extends Optimizer.Builder<NAdamOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, NAdamOptions.DEFAULTS);
        }

        public NAdam build() {
            return new NAdam(this);
        }
    }
}
