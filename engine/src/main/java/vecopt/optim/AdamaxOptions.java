package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one {@link Adamax} parameter group, with PyTorch's {@code torch.optim.Adamax} names (in Java
 * case) and defaults. The learning rate comes with each {@link Optimizer#step(double)}, times {@code lrScale}.
 *
 * <pre>{@code
 * AdamaxOptions o = AdamaxOptions.DEFAULTS.withWeightDecay(1e-4);
 * }</pre>
 *
 * @param beta1       decay of {@code exp_avg}, in [0, 1)
 * @param beta2       decay of the infinity norm {@code exp_inf}, in [0, 1)
 * @param eps         added to |g| before the maximum; finite, >= 0 as in PyTorch
 * @param weightDecay L2 penalty added to the gradient ({@code weight_decay}); finite, >= 0
 * @param lrScale     this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize    maximize the objective (PyTorch's {@code maximize}: the gradient negated first)
 */
public record AdamaxOptions(double beta1, double beta2, double eps, double weightDecay, double lrScale,
                            boolean maximize) implements GroupOptions {
    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0 (its default lr, 2e-3, is the caller's). */
    public static final AdamaxOptions DEFAULTS = new AdamaxOptions(0.9, 0.999, 1e-8, 0, 1.0, false);

    public AdamaxOptions {
        Require.unitInterval("beta1", beta1);
        Require.unitInterval("beta2", beta2);
        Require.nonNegative("eps", eps);
        Require.nonNegative("weightDecay", weightDecay);
        Require.nonNegative("lrScale", lrScale);
    }

    public AdamaxOptions withBetas(double beta1, double beta2) {
        return new AdamaxOptions(beta1, beta2, eps, weightDecay, lrScale, maximize);
    }

    public AdamaxOptions withEps(double eps) {
        return new AdamaxOptions(beta1, beta2, eps, weightDecay, lrScale, maximize);
    }

    public AdamaxOptions withWeightDecay(double weightDecay) {
        return new AdamaxOptions(beta1, beta2, eps, weightDecay, lrScale, maximize);
    }

    public AdamaxOptions withLrScale(double lrScale) {
        return new AdamaxOptions(beta1, beta2, eps, weightDecay, lrScale, maximize);
    }

    public AdamaxOptions withMaximize(boolean maximize) {
        return new AdamaxOptions(beta1, beta2, eps, weightDecay, lrScale, maximize);
    }
}
