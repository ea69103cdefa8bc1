package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one {@link Asgd} parameter group, with PyTorch's {@code torch.optim.ASGD} names (in Java case)
 * and defaults. The learning rate comes with each {@link Optimizer#step(double)}, times {@code lrScale}, and is used
 * as PyTorch uses the group's {@code lr}: the first step's is eta's starting value, each step's sets the eta of the
 * next one.
 *
 * <pre>{@code
 * AsgdOptions o = AsgdOptions.DEFAULTS.withT0(100).withWeightDecay(1e-4);
 * }</pre>
 *
 * @param lambd       decay term ({@code lambd}): each step multiplies p by {@code 1 - lambd * eta}, and eta decays
 *                    as {@code (1 + lambd * lr * step)^-alpha}; finite, >= 0
 * @param alpha       power of eta's decay ({@code alpha}); finite, >= 0
 * @param t0          the point at which averaging starts ({@code t0}): {@code mu = 1 / max(1, step - t0)}, so
 *                    {@code ax} is a copy of p through step {@code t0 + 2} and an average after it; finite
 *                    (negative starts it earlier, as PyTorch allows)
 * @param weightDecay L2 penalty added to the gradient ({@code weight_decay}); finite, >= 0
 * @param lrScale     this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize    maximize the objective (PyTorch's {@code maximize}: the gradient negated first)
 */
public record AsgdOptions(double lambd, double alpha, double t0, double weightDecay, double lrScale,
                          boolean maximize) implements GroupOptions {
    /**
     * PyTorch's defaults: lambd 1e-4, alpha 0.75, t0 1e6, weight_decay 0 (its default lr, 1e-2, is the caller's).
     * PyTorch checks only lr and weight_decay; lambd and alpha are checked here too (finite, >= 0) and t0 (finite),
     * a deliberate difference: a negative lambd or alpha makes eta grow instead of decay, a non-finite value makes
     * eta, the decay or mu meaningless.
     */
    public static final AsgdOptions DEFAULTS = new AsgdOptions(1e-4, 0.75, 1e6, 0, 1.0, false);

    public AsgdOptions {
        Require.nonNegative("lambd", lambd);
        Require.nonNegative("alpha", alpha);
        Require.finite("t0", t0);
        Require.nonNegative("weightDecay", weightDecay);
        Require.nonNegative("lrScale", lrScale);
    }

    public AsgdOptions withLambd(double lambd) {
        return new AsgdOptions(lambd, alpha, t0, weightDecay, lrScale, maximize);
    }

    public AsgdOptions withAlpha(double alpha) {
        return new AsgdOptions(lambd, alpha, t0, weightDecay, lrScale, maximize);
    }

    public AsgdOptions withT0(double t0) {
        return new AsgdOptions(lambd, alpha, t0, weightDecay, lrScale, maximize);
    }

    public AsgdOptions withWeightDecay(double weightDecay) {
        return new AsgdOptions(lambd, alpha, t0, weightDecay, lrScale, maximize);
    }

    public AsgdOptions withLrScale(double lrScale) {
        return new AsgdOptions(lambd, alpha, t0, weightDecay, lrScale, maximize);
    }

    public AsgdOptions withMaximize(boolean maximize) {
        return new AsgdOptions(lambd, alpha, t0, weightDecay, lrScale, maximize);
    }
}
