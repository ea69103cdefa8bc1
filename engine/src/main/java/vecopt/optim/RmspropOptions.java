package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one {@link Rmsprop} parameter group, with PyTorch's {@code torch.optim.RMSprop} names (in Java
 * case) and defaults. The learning rate comes with each {@link Optimizer#step(double)}, times {@code lrScale}.
 *
 * <pre>{@code
 * RmspropOptions o = RmspropOptions.DEFAULTS.withMomentum(0.9).withCentered(true);
 * }</pre>
 *
 * @param alpha       smoothing constant of {@code square_avg} (and {@code grad_avg}), in [0, 1) (PyTorch accepts
 *                    any alpha >= 0; 1 and above make no average)
 * @param eps         added to the root of the average; finite, >= 0 as in PyTorch
 * @param weightDecay L2 penalty added to the gradient ({@code weight_decay}); finite, >= 0
 * @param momentum    momentum factor, in [0, 1) (PyTorch accepts any momentum >= 0); 0 keeps no buffer
 * @param centered    normalize by the estimated variance, {@code square_avg - grad_avg^2}, instead of the second
 *                    moment (keeps {@code grad_avg})
 * @param lrScale     this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize    maximize the objective (PyTorch's {@code maximize}: the gradient negated first)
 */
public record RmspropOptions(double alpha, double eps, double weightDecay, double momentum, boolean centered,
                             double lrScale, boolean maximize) implements GroupOptions {
    /**
     * PyTorch's defaults: alpha 0.99, eps 1e-8, weight_decay 0, momentum 0, not centered (PyTorch's default lr,
     * 1e-2, is the caller's to pass to {@code step}).
     */
    public static final RmspropOptions DEFAULTS = new RmspropOptions(0.99, 1e-8, 0, 0, false, 1.0, false);

    public RmspropOptions {
        Require.unitInterval("alpha", alpha);
        Require.nonNegative("eps", eps);
        Require.nonNegative("weightDecay", weightDecay);
        Require.unitInterval("momentum", momentum);
        Require.nonNegative("lrScale", lrScale);
    }

    public RmspropOptions withAlpha(double alpha) {
        return new RmspropOptions(alpha, eps, weightDecay, momentum, centered, lrScale, maximize);
    }

    public RmspropOptions withEps(double eps) {
        return new RmspropOptions(alpha, eps, weightDecay, momentum, centered, lrScale, maximize);
    }

    public RmspropOptions withWeightDecay(double weightDecay) {
        return new RmspropOptions(alpha, eps, weightDecay, momentum, centered, lrScale, maximize);
    }

    public RmspropOptions withMomentum(double momentum) {
        return new RmspropOptions(alpha, eps, weightDecay, momentum, centered, lrScale, maximize);
    }

    public RmspropOptions withCentered(boolean centered) {
        return new RmspropOptions(alpha, eps, weightDecay, momentum, centered, lrScale, maximize);
    }

    public RmspropOptions withLrScale(double lrScale) {
        return new RmspropOptions(alpha, eps, weightDecay, momentum, centered, lrScale, maximize);
    }

    public RmspropOptions withMaximize(boolean maximize) {
        return new RmspropOptions(alpha, eps, weightDecay, momentum, centered, lrScale, maximize);
    }
}
