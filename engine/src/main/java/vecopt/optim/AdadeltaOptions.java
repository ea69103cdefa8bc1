package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one {@link Adadelta} parameter group, with PyTorch's {@code torch.optim.Adadelta} names (in
 * Java case) and defaults. The learning rate comes with each {@link Optimizer#step(double)}, times {@code lrScale}
 * (PyTorch's default lr for Adadelta is 1.0: the delta is already in the parameters' units).
 *
 * <pre>{@code
 * AdadeltaOptions o = AdadeltaOptions.DEFAULTS.withRho(0.95);
 * }</pre>
 *
 * @param rho         decay of {@code square_avg} and {@code acc_delta}, in [0, 1] (as PyTorch)
 * @param eps         added inside both roots; finite, > 0 (PyTorch accepts 0, which divides 0 by 0 for a zero
 *                    gradient on fresh state)
 * @param weightDecay L2 penalty added to the gradient ({@code weight_decay}); finite, >= 0
 * @param lrScale     this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize    maximize the objective (PyTorch's {@code maximize}: the gradient negated first)
 */
public record AdadeltaOptions(double rho, double eps, double weightDecay, double lrScale, boolean maximize)
        implements GroupOptions {
    /** PyTorch's defaults: rho 0.9, eps 1e-6, weight_decay 0 (its default lr, 1.0, is the caller's). */
    public static final AdadeltaOptions DEFAULTS = new AdadeltaOptions(0.9, 1e-6, 0, 1.0, false);

    public AdadeltaOptions {
        Require.closed("rho", rho, 0, 1);
        Require.positive("eps", eps);
        Require.nonNegative("weightDecay", weightDecay);
        Require.nonNegative("lrScale", lrScale);
    }

    public AdadeltaOptions withRho(double rho) {
        return new AdadeltaOptions(rho, eps, weightDecay, lrScale, maximize);
    }

    public AdadeltaOptions withEps(double eps) {
        return new AdadeltaOptions(rho, eps, weightDecay, lrScale, maximize);
    }

    public AdadeltaOptions withWeightDecay(double weightDecay) {
        return new AdadeltaOptions(rho, eps, weightDecay, lrScale, maximize);
    }

    public AdadeltaOptions withLrScale(double lrScale) {
        return new AdadeltaOptions(rho, eps, weightDecay, lrScale, maximize);
    }

    public AdadeltaOptions withMaximize(boolean maximize) {
        return new AdadeltaOptions(rho, eps, weightDecay, lrScale, maximize);
    }
}
