package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one {@link Adagrad} parameter group, with PyTorch's {@code torch.optim.Adagrad} names (in Java
 * case) and defaults. The learning rate is not here: it comes with each {@link Optimizer#step(double)} and is
 * multiplied by {@code lrScale} for this group.
 *
 * <pre>{@code
 * AdagradOptions o = AdagradOptions.DEFAULTS.withInitialAccumulatorValue(0.1).withLrDecay(1e-4);
 * }</pre>
 *
 * @param lrDecay                 PyTorch's {@code lr_decay}: the step's lr is divided by {@code 1 + (t - 1) lrDecay};
 *                                finite, >= 0
 * @param weightDecay             L2 penalty added to the gradient ({@code weight_decay}); finite, >= 0
 * @param initialAccumulatorValue the value {@code sum} starts at ({@code initial_accumulator_value}); finite, >= 0
 * @param eps                     added to {@code sqrt(sum)}; finite, >= 0 as in PyTorch (0 with a zero accumulator
 *                                and a zero gradient gives 0 / 0 = NaN, as in PyTorch)
 * @param lrScale                 this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize                maximize the objective (PyTorch's {@code maximize}: the gradient negated first)
 */
public record AdagradOptions(double lrDecay, double weightDecay, double initialAccumulatorValue, double eps,
                             double lrScale, boolean maximize) implements GroupOptions {
    /**
     * PyTorch's defaults: lr_decay 0, weight_decay 0, initial_accumulator_value 0, eps 1e-10 (PyTorch's default lr,
     * 1e-2, is the caller's to pass to {@code step}).
     */
    public static final AdagradOptions DEFAULTS = new AdagradOptions(0, 0, 0, 1e-10, 1.0, false);

    public AdagradOptions {
        Require.nonNegative("lrDecay", lrDecay);
        Require.nonNegative("weightDecay", weightDecay);
        Require.nonNegative("initialAccumulatorValue", initialAccumulatorValue);
        Require.nonNegative("eps", eps);
        Require.nonNegative("lrScale", lrScale);
    }

    public AdagradOptions withLrDecay(double lrDecay) {
        return new AdagradOptions(lrDecay, weightDecay, initialAccumulatorValue, eps, lrScale, maximize);
    }

    public AdagradOptions withWeightDecay(double weightDecay) {
        return new AdagradOptions(lrDecay, weightDecay, initialAccumulatorValue, eps, lrScale, maximize);
    }

    public AdagradOptions withInitialAccumulatorValue(double initialAccumulatorValue) {
        return new AdagradOptions(lrDecay, weightDecay, initialAccumulatorValue, eps, lrScale, maximize);
    }

    public AdagradOptions withEps(double eps) {
        return new AdagradOptions(lrDecay, weightDecay, initialAccumulatorValue, eps, lrScale, maximize);
    }

    public AdagradOptions withLrScale(double lrScale) {
        return new AdagradOptions(lrDecay, weightDecay, initialAccumulatorValue, eps, lrScale, maximize);
    }

    public AdagradOptions withMaximize(boolean maximize) {
        return new AdagradOptions(lrDecay, weightDecay, initialAccumulatorValue, eps, lrScale, maximize);
    }
}
