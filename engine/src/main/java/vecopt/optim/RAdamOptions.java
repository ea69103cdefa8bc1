package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one {@link RAdam} parameter group, with PyTorch's {@code torch.optim.RAdam} names (in Java
 * case) and defaults. The learning rate comes with each {@link Optimizer#step(double)}, times {@code lrScale}.
 *
 * <pre>{@code
 * RAdamOptions o = RAdamOptions.DEFAULTS.withWeightDecay(0.01).withDecoupledWeightDecay(true);   // RAdamW
 * }</pre>
 *
 * @param beta1                decay of {@code exp_avg}, in [0, 1)
 * @param beta2                decay of {@code exp_avg_sq}, in [0, 1)
 * @param eps                  added to {@code sqrt(exp_avg_sq)} in the rectified update; finite, > 0
 *                             (PyTorch accepts 0, which divides 0 by 0 for a zero gradient on fresh state)
 * @param weightDecay          L2 penalty added to the gradient, or decoupled decay (below); finite, >= 0
 * @param decoupledWeightDecay PyTorch's {@code decoupled_weight_decay}: {@code p *= 1 - lr * weightDecay} as AdamW
 *                             instead of the L2 term
 * @param lrScale              this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize             maximize the objective (PyTorch's {@code maximize}: the gradient negated first)
 */
public record RAdamOptions(double beta1, double beta2, double eps, double weightDecay, boolean decoupledWeightDecay,
                           double lrScale, boolean maximize) implements GroupOptions {
    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0, L2 (its default lr, 1e-3, is the caller's). */
    public static final RAdamOptions DEFAULTS = new RAdamOptions(0.9, 0.999, 1e-8, 0, false, 1.0, false);

    public RAdamOptions {
        Require.unitInterval("beta1", beta1);
        Require.unitInterval("beta2", beta2);
        Require.positive("eps", eps);
        Require.nonNegative("weightDecay", weightDecay);
        Require.nonNegative("lrScale", lrScale);
    }

    public RAdamOptions withBetas(double beta1, double beta2) {
        return new RAdamOptions(beta1, beta2, eps, weightDecay, decoupledWeightDecay, lrScale, maximize);
    }

    public RAdamOptions withEps(double eps) {
        return new RAdamOptions(beta1, beta2, eps, weightDecay, decoupledWeightDecay, lrScale, maximize);
    }

    public RAdamOptions withWeightDecay(double weightDecay) {
        return new RAdamOptions(beta1, beta2, eps, weightDecay, decoupledWeightDecay, lrScale, maximize);
    }

    public RAdamOptions withDecoupledWeightDecay(boolean decoupledWeightDecay) {
        return new RAdamOptions(beta1, beta2, eps, weightDecay, decoupledWeightDecay, lrScale, maximize);
    }

    public RAdamOptions withLrScale(double lrScale) {
        return new RAdamOptions(beta1, beta2, eps, weightDecay, decoupledWeightDecay, lrScale, maximize);
    }

    public RAdamOptions withMaximize(boolean maximize) {
        return new RAdamOptions(beta1, beta2, eps, weightDecay, decoupledWeightDecay, lrScale, maximize);
    }
}
