package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one {@link Rprop} parameter group, with PyTorch's {@code torch.optim.Rprop} names (in Java
 * case) and defaults. The learning rate of the group's first {@link Optimizer#step(double)} (times {@code lrScale})
 * is every step size's starting value; later steps' lr is not used, as in PyTorch.
 *
 * <pre>{@code
 * RpropOptions o = RpropOptions.DEFAULTS.withStepSizes(1e-6, 1.0);
 * }</pre>
 *
 * @param etaMinus    PyTorch's {@code etas[0]}: the step size's factor when the gradient changed sign, in (0, 1)
 * @param etaPlus     {@code etas[1]}: its factor when the sign held, > 1 and finite
 * @param stepSizeMin {@code step_sizes[0]}: the smallest step size; finite, >= 0
 * @param stepSizeMax {@code step_sizes[1]}: the largest; finite, >= stepSizeMin
 * @param lrScale     this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize    maximize the objective (PyTorch's {@code maximize}: the gradient negated first)
 */
public record RpropOptions(double etaMinus, double etaPlus, double stepSizeMin, double stepSizeMax, double lrScale,
                           boolean maximize) implements GroupOptions {
    /** PyTorch's defaults: etas (0.5, 1.2), step_sizes (1e-6, 50) (its default lr, 1e-2, is the caller's). */
    public static final RpropOptions DEFAULTS = new RpropOptions(0.5, 1.2, 1e-6, 50, 1.0, false);

    public RpropOptions {
        if (!(etaMinus > 0 && etaMinus < 1)) {
            throw new IllegalArgumentException("etaMinus must be in (0, 1), got " + etaMinus);
        }
        if (!(etaPlus > 1) || etaPlus == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("etaPlus must be finite and > 1, got " + etaPlus);
        }
        Require.nonNegative("stepSizeMin", stepSizeMin);
        Require.nonNegative("stepSizeMax", stepSizeMax);
        if (stepSizeMax < stepSizeMin) {
            throw new IllegalArgumentException("stepSizeMax must be >= stepSizeMin (" + stepSizeMin + "), got "
                    + stepSizeMax);
        }
        Require.nonNegative("lrScale", lrScale);
    }

    /** Rprop has no weight decay (PyTorch's has none): 0. */
    @Override
    public double weightDecay() {
        return 0;
    }

    public RpropOptions withEtas(double etaMinus, double etaPlus) {
        return new RpropOptions(etaMinus, etaPlus, stepSizeMin, stepSizeMax, lrScale, maximize);
    }

    public RpropOptions withStepSizes(double stepSizeMin, double stepSizeMax) {
        return new RpropOptions(etaMinus, etaPlus, stepSizeMin, stepSizeMax, lrScale, maximize);
    }

    public RpropOptions withLrScale(double lrScale) {
        return new RpropOptions(etaMinus, etaPlus, stepSizeMin, stepSizeMax, lrScale, maximize);
    }

    public RpropOptions withMaximize(boolean maximize) {
        return new RpropOptions(etaMinus, etaPlus, stepSizeMin, stepSizeMax, lrScale, maximize);
    }
}
