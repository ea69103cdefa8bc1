package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one {@link Lars} parameter group, with optax's {@code lars} names (in Java case) and defaults
 * ({@code optax/_src/alias.py}). The learning rate comes with each {@link Optimizer#step(double)}, times
 * {@code lrScale}. optax's two masks are group options: {@code weight_decay_mask} is a group with
 * {@code weightDecay} 0, {@code trust_ratio_mask} a group with {@code trustRatio} false (biases and norm scales,
 * which LARS usually leaves out of the adaptation).
 *
 * <pre>{@code
 * LarsOptions o = LarsOptions.DEFAULTS.withWeightDecay(1e-4);
 * LarsOptions noAdapt = o.withWeightDecay(0).withTrustRatio(false);     // for ".bias" and norm layers
 * }</pre>
 *
 * @param weightDecay      added to the gradient ({@code g + wd * p}) before the trust ratio; finite, >= 0
 * @param trustCoefficient multiplier of the trust ratio ({@code trust_coefficient}); finite, > 0
 * @param eps              added to the update norm in the ratio's denominator; finite, >= 0
 * @param trustRatio       scale this group's tensors by their trust ratio ({@code trust_ratio_mask})
 * @param momentum         decay of the {@code trace}; finite, in [0, 1]
 * @param nesterov         Nesterov momentum ({@code trace}'s {@code nesterov})
 * @param lrScale          this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize         maximize the objective (the gradient negated first; not an optax option)
 */
public record LarsOptions(double weightDecay, double trustCoefficient, double eps, boolean trustRatio,
                          double momentum, boolean nesterov, double lrScale, boolean maximize) implements GroupOptions {
    /** optax's defaults: weight_decay 0, trust_coefficient 0.001, eps 0, both masks true, momentum 0.9, no Nesterov. */
    public static final LarsOptions DEFAULTS = new LarsOptions(0, 0.001, 0, true, 0.9, false, 1.0, false);

    public LarsOptions {
        Require.nonNegative("weightDecay", weightDecay);
        Require.positive("trustCoefficient", trustCoefficient);
        Require.nonNegative("eps", eps);
        Require.closed("momentum", momentum, 0, 1);
        Require.nonNegative("lrScale", lrScale);
    }

    public LarsOptions withWeightDecay(double weightDecay) {
        return new LarsOptions(weightDecay, trustCoefficient, eps, trustRatio, momentum, nesterov, lrScale, maximize);
    }

    public LarsOptions withTrustCoefficient(double trustCoefficient) {
        return new LarsOptions(weightDecay, trustCoefficient, eps, trustRatio, momentum, nesterov, lrScale, maximize);
    }

    public LarsOptions withEps(double eps) {
        return new LarsOptions(weightDecay, trustCoefficient, eps, trustRatio, momentum, nesterov, lrScale, maximize);
    }

    public LarsOptions withTrustRatio(boolean trustRatio) {
        return new LarsOptions(weightDecay, trustCoefficient, eps, trustRatio, momentum, nesterov, lrScale, maximize);
    }

    public LarsOptions withMomentum(double momentum) {
        return new LarsOptions(weightDecay, trustCoefficient, eps, trustRatio, momentum, nesterov, lrScale, maximize);
    }

    public LarsOptions withNesterov(boolean nesterov) {
        return new LarsOptions(weightDecay, trustCoefficient, eps, trustRatio, momentum, nesterov, lrScale, maximize);
    }

    public LarsOptions withLrScale(double lrScale) {
        return new LarsOptions(weightDecay, trustCoefficient, eps, trustRatio, momentum, nesterov, lrScale, maximize);
    }

    public LarsOptions withMaximize(boolean maximize) {
        return new LarsOptions(weightDecay, trustCoefficient, eps, trustRatio, momentum, nesterov, lrScale, maximize);
    }
}
