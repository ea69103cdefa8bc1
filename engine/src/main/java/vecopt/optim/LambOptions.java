package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one {@link Lamb} parameter group, with optax's {@code lamb} names (in Java case) and defaults
 * ({@code optax/_src/alias.py}). The learning rate comes with each {@link Optimizer#step(double)}, times
 * {@code lrScale}. optax's weight-decay {@code mask} is a group: give the biases and norm scales a group with
 * {@code weightDecay} 0.
 *
 * <pre>{@code
 * LambOptions o = LambOptions.DEFAULTS.withWeightDecay(0.01);
 * }</pre>
 *
 * @param b1            decay of the first moment {@code mu}, in [0, 1)
 * @param b2            decay of the second moment {@code nu}, in [0, 1)
 * @param eps           added to the root of the corrected second moment; finite, >= 0
 * @param epsRoot       added to the corrected second moment inside the root; finite, >= 0
 * @param weightDecay   decoupled decay added to the update before the trust ratio; finite, >= 0
 * @param maxWeightNorm the parameter norm is clamped to this before the trust ratio (> 0; infinite: no clamp, as
 *                      optax; the clamp is not optax's: torch-optimizer's {@code Lamb} clamps at
 *                      {@code clamp_value} 10, the paper's phi)
 * @param lrScale       this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize      maximize the objective (the gradient negated first; not an optax option)
 */
public record LambOptions(double b1, double b2, double eps, double epsRoot, double weightDecay, double maxWeightNorm,
                          double lrScale, boolean maximize) implements GroupOptions {
    /** optax's defaults: b1 0.9, b2 0.999, eps 1e-6, eps_root 0, weight_decay 0; no clamp. */
    public static final LambOptions DEFAULTS = new LambOptions(0.9, 0.999, 1e-6, 0, 0, Double.POSITIVE_INFINITY, 1.0,
            false);

    public LambOptions {
        Require.unitInterval("b1", b1);
        Require.unitInterval("b2", b2);
        Require.nonNegative("eps", eps);
        Require.nonNegative("epsRoot", epsRoot);
        Require.nonNegative("weightDecay", weightDecay);
        if (!(maxWeightNorm > 0)) {
            throw new IllegalArgumentException("maxWeightNorm must be > 0 (infinite for no clamp), got " + maxWeightNorm);
        }
        Require.nonNegative("lrScale", lrScale);
    }

    public LambOptions withBetas(double b1, double b2) {
        return new LambOptions(b1, b2, eps, epsRoot, weightDecay, maxWeightNorm, lrScale, maximize);
    }

    public LambOptions withEps(double eps) {
        return new LambOptions(b1, b2, eps, epsRoot, weightDecay, maxWeightNorm, lrScale, maximize);
    }

    public LambOptions withEpsRoot(double epsRoot) {
        return new LambOptions(b1, b2, eps, epsRoot, weightDecay, maxWeightNorm, lrScale, maximize);
    }

    public LambOptions withWeightDecay(double weightDecay) {
        return new LambOptions(b1, b2, eps, epsRoot, weightDecay, maxWeightNorm, lrScale, maximize);
    }

    public LambOptions withMaxWeightNorm(double maxWeightNorm) {
        return new LambOptions(b1, b2, eps, epsRoot, weightDecay, maxWeightNorm, lrScale, maximize);
    }

    public LambOptions withLrScale(double lrScale) {
        return new LambOptions(b1, b2, eps, epsRoot, weightDecay, maxWeightNorm, lrScale, maximize);
    }

    public LambOptions withMaximize(boolean maximize) {
        return new LambOptions(b1, b2, eps, epsRoot, weightDecay, maxWeightNorm, lrScale, maximize);
    }
}
