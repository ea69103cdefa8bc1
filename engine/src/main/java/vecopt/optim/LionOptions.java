package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one {@link Lion} parameter group, with lion-pytorch's names (in Java case) and defaults. The
 * learning rate comes with each {@link Optimizer#step(double)}, times {@code lrScale}; Lion wants one 3 to 10 times
 * smaller than AdamW's (its update has size lr in every coordinate), and a weight decay as many times larger.
 *
 * <pre>{@code
 * LionOptions o = LionOptions.DEFAULTS.withWeightDecay(1.0);
 * }</pre>
 *
 * @param beta1       interpolation between momentum and gradient for the update's sign, in [0, 1] (lion-pytorch
 *                    asserts {@code 0 <= beta <= 1})
 * @param beta2       decay of the momentum {@code exp_avg}, in [0, 1]
 * @param weightDecay decoupled weight decay, {@code p *= 1 - lr * weightDecay}; finite, >= 0
 * @param lrScale     this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize    maximize the objective (the gradient negated first, PyTorch's {@code maximize}; lion-pytorch
 *                    has no such option)
 */
public record LionOptions(double beta1, double beta2, double weightDecay, double lrScale, boolean maximize)
        implements GroupOptions {
    /** lion-pytorch's defaults: betas (0.9, 0.99), weight_decay 0 (its default lr, 1e-4, is the caller's). */
    public static final LionOptions DEFAULTS = new LionOptions(0.9, 0.99, 0, 1.0, false);

    public LionOptions {
        Require.closed("beta1", beta1, 0, 1);
        Require.closed("beta2", beta2, 0, 1);
        Require.nonNegative("weightDecay", weightDecay);
        Require.nonNegative("lrScale", lrScale);
    }

    public LionOptions withBetas(double beta1, double beta2) {
        return new LionOptions(beta1, beta2, weightDecay, lrScale, maximize);
    }

    public LionOptions withWeightDecay(double weightDecay) {
        return new LionOptions(beta1, beta2, weightDecay, lrScale, maximize);
    }

    public LionOptions withLrScale(double lrScale) {
        return new LionOptions(beta1, beta2, weightDecay, lrScale, maximize);
    }

    public LionOptions withMaximize(boolean maximize) {
        return new LionOptions(beta1, beta2, weightDecay, lrScale, maximize);
    }
}
