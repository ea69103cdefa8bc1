package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one {@link ScheduleFreeAdamW} parameter group, with the names (in Java case) and defaults of
 * {@code facebookresearch/schedule_free}'s {@code AdamWScheduleFree} ({@code schedulefree/adamw_schedulefree.py}).
 * Its {@code lr} (default {@link #DEFAULT_LR}, 0.0025) is the argument of {@link Optimizer#step(double)}, times
 * {@code lrScale}, as every vecopt optimizer takes it: pass the same value every step (the method needs no
 * schedule; warmup is {@code warmupSteps}).
 *
 * <pre>{@code
 * ScheduleFreeAdamWOptions o = ScheduleFreeAdamWOptions.DEFAULTS.withWarmupSteps(1000).withWeightDecay(0.01);
 * }</pre>
 *
 * @param beta1         interpolation between z and the average x that gives y ({@code betas[0]}); in (0, 1): the
 *                      eval switch divides by it
 * @param beta2         decay of {@code exp_avg_sq} ({@code betas[1]}); in [0, 1)
 * @param eps           added to the denominator after the square root ({@code eps}); finite, >= 0
 * @param weightDecay   decay added to the normalized gradient, computed at y ({@code weight_decay}); finite, >= 0
 * @param warmupSteps   linear warmup of the lr over the first steps ({@code warmup_steps}); >= 0
 * @param r             power of the step number in the averaging weight ({@code r}); finite
 * @param weightLrPower power of {@code lr_max} in the averaging weight ({@code weight_lr_power}); finite, >= 0
 * @param lrScale       this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize      maximize the objective (not in the original: the gradient negated first, as PyTorch's own
 *                      optimizers do)
 */
public record ScheduleFreeAdamWOptions(double beta1, double beta2, double eps, double weightDecay, long warmupSteps,
                                       double r, double weightLrPower, double lrScale, boolean maximize)
        implements GroupOptions {
    /** The original's default {@code lr}, to pass to {@code step}. */
    public static final double DEFAULT_LR = 0.0025;

    /**
     * The original's defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0, warmup_steps 0, r 0,
     * weight_lr_power 2. The original checks none of them; here they are checked as the parameters say, a deliberate
     * difference: beta1 0 would divide by zero in {@code eval()}, a negative weight_lr_power divides by zero when
     * lr_max is 0, and a non-finite value makes the averaging weights meaningless.
     */
    public static final ScheduleFreeAdamWOptions DEFAULTS =
            new ScheduleFreeAdamWOptions(0.9, 0.999, 1e-8, 0, 0, 0.0, 2.0, 1.0, false);

    public ScheduleFreeAdamWOptions {
        if (!(beta1 > 0 && beta1 < 1)) {
            throw new IllegalArgumentException("beta1 must be in (0, 1), got " + beta1);
        }
        Require.unitInterval("beta2", beta2);
        Require.nonNegative("eps", eps);
        Require.nonNegative("weightDecay", weightDecay);
        Require.nonNegative("warmupSteps", warmupSteps);
        Require.finite("r", r);
        Require.nonNegative("weightLrPower", weightLrPower);
        Require.nonNegative("lrScale", lrScale);
    }

    public ScheduleFreeAdamWOptions withBetas(double beta1, double beta2) {
        return new ScheduleFreeAdamWOptions(beta1, beta2, eps, weightDecay, warmupSteps, r, weightLrPower, lrScale,
                maximize);
    }

    public ScheduleFreeAdamWOptions withEps(double eps) {
        return new ScheduleFreeAdamWOptions(beta1, beta2, eps, weightDecay, warmupSteps, r, weightLrPower, lrScale,
                maximize);
    }

    public ScheduleFreeAdamWOptions withWeightDecay(double weightDecay) {
        return new ScheduleFreeAdamWOptions(beta1, beta2, eps, weightDecay, warmupSteps, r, weightLrPower, lrScale,
                maximize);
    }

    public ScheduleFreeAdamWOptions withWarmupSteps(long warmupSteps) {
        return new ScheduleFreeAdamWOptions(beta1, beta2, eps, weightDecay, warmupSteps, r, weightLrPower, lrScale,
                maximize);
    }

    public ScheduleFreeAdamWOptions withR(double r) {
        return new ScheduleFreeAdamWOptions(beta1, beta2, eps, weightDecay, warmupSteps, r, weightLrPower, lrScale,
                maximize);
    }

    public ScheduleFreeAdamWOptions withWeightLrPower(double weightLrPower) {
        return new ScheduleFreeAdamWOptions(beta1, beta2, eps, weightDecay, warmupSteps, r, weightLrPower, lrScale,
                maximize);
    }

    public ScheduleFreeAdamWOptions withLrScale(double lrScale) {
        return new ScheduleFreeAdamWOptions(beta1, beta2, eps, weightDecay, warmupSteps, r, weightLrPower, lrScale,
                maximize);
    }

    public ScheduleFreeAdamWOptions withMaximize(boolean maximize) {
        return new ScheduleFreeAdamWOptions(beta1, beta2, eps, weightDecay, warmupSteps, r, weightLrPower, lrScale,
                maximize);
    }
}
