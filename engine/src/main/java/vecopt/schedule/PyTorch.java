package vecopt.schedule;

import java.util.Arrays;
import java.util.List;
import java.util.function.LongToDoubleFunction;
import vecopt.check.Require;

/**
 * The schedulers of PyTorch's {@code torch.optim.lr_scheduler}, under their PyTorch names, each computing its
 * documented closed form ({@code _get_closed_form_lr}, the form PyTorch itself uses when stepped to an explicit
 * epoch) with the same operations in the same order. {@code step} is PyTorch's {@code last_epoch}; {@code baseLr} is
 * the group's {@code initial_lr}.
 *
 * <pre>{@code
 * // torch: StepLR(opt, step_size=30, gamma=0.1) with lr=0.05
 * Schedule s = PyTorch.stepLR(0.05, 30, 0.1);
 * s.lr(29);  // 0.05
 * s.lr(30);  // 0.005
 * }</pre>
 *
 * <p>Deliberate differences from PyTorch:
 * <ul>
 *   <li>PyTorch's {@code scheduler.step()} uses the recursive ("chainable") form, which multiplies the previous lr by
 *       a ratio; it agrees with the closed form up to accumulated rounding (and, for {@code CosineAnnealingLR},
 *       drifts measurably over long runs). vecopt always uses the closed form: random access, no drift.</li>
 *   <li>Arguments PyTorch accepts silently but that make no sense are rejected: non-increasing or duplicate
 *       milestones, {@code total_iters} or {@code T_max} of 0, {@code eta_min > base lr}, a {@code StepLR} gamma
 *       above 1, NaN anywhere.</li>
 *   <li>Per-group base lrs: here a schedule carries its base lr; a group with another base lr uses
 *       {@link Schedule#scaled(double)} or the optimizer's {@code lrScale}. That equals PyTorch's per-group value for
 *       every scheduler here except {@code CosineAnnealingLR} with {@code eta_min > 0}, where PyTorch does not
 *       scale {@code eta_min} with the group (build one schedule per group with its own base lr instead).</li>
 *   <li>Transcendental functions are Java's {@code Math.cos} / {@code Math.pow} (within 1 ULP, as is C's libm that
 *       Python calls), so single values can differ from PyTorch's in the last bit.</li>
 * </ul>
 */
public final class PyTorch {
    private PyTorch() {
    }

    /**
     * {@code LambdaLR}: {@code baseLr * lrLambda(t)}. {@code lrLambda} must be pure (a function of {@code t} only).
     */
    public static Schedule lambdaLR(double baseLr, LongToDoubleFunction lrLambda) {
        Require.nonNegative("baseLr", baseLr);
        Require.notNull("lrLambda", lrLambda);
        return new Formula("LambdaLR: " + baseLr + " * lr_lambda(t)", t -> baseLr * lrLambda.applyAsDouble(t));
    }

    /**
     * {@code StepLR}: {@code base_lr * gamma ** (last_epoch // step_size)}. Past any end: keeps decaying. The same
     * formula as {@link Schedules#stepDecay(double, double, long)}, which this returns (arguments in PyTorch's
     * order); kept under PyTorch's name for code ported from it.
     *
     * @param gamma in {@code (0, 1]} (PyTorch does not check; a gamma above 1 would grow the lr, which is no decay)
     */
    public static Schedule stepLR(double baseLr, long stepSize, double gamma) {
        return Schedules.stepDecay(baseLr, gamma, stepSize);
    }

    /**
     * {@code MultiStepLR}: {@code base_lr * gamma ** bisect_right(milestones, last_epoch)}.
     *
     * @param milestones strictly increasing, >= 0 (PyTorch counts duplicates twice; here they are an error)
     */
    public static Schedule multiStepLR(double baseLr, long[] milestones, double gamma) {
        Require.nonNegative("baseLr", baseLr);
        Require.positive("gamma", gamma);
        long[] m = Sequential.increasing("milestones", milestones, 0);
        return new Formula("MultiStepLR(" + baseLr + ", milestones=" + Arrays.toString(m) + ", gamma=" + gamma + ")",
                t -> baseLr * Math.pow(gamma, Sequential.bisectRight(m, t)));
    }

    /**
     * {@code ConstantLR}: {@code base_lr * (factor + (last_epoch >= total_iters) * (1 - factor))}.
     *
     * @param factor in [0, 1], as PyTorch checks
     */
    public static Schedule constantLR(double baseLr, double factor, long totalIters) {
        Require.nonNegative("baseLr", baseLr);
        Require.closed("factor", factor, 0, 1);
        Require.nonNegative("totalIters", totalIters);
        return new Formula("ConstantLR(" + baseLr + ", factor=" + factor + ", total_iters=" + totalIters + ")",
                t -> baseLr * (factor + (t >= totalIters ? 1 : 0) * (1 - factor)));
    }

    /**
     * {@code LinearLR}: {@code base_lr * (start_factor + (end_factor - start_factor) * min(total_iters, last_epoch)
     * / total_iters)}. Past {@code total_iters}: holds {@code base_lr * end_factor}.
     *
     * @param startFactor in (0, 1], as PyTorch checks
     * @param endFactor   in [0, 1], as PyTorch checks
     * @param totalIters  > 0 (PyTorch divides by it)
     */
    public static Schedule linearLR(double baseLr, double startFactor, double endFactor, long totalIters) {
        Require.nonNegative("baseLr", baseLr);
        Require.openClosed("startFactor", startFactor, 0, 1);
        Require.closed("endFactor", endFactor, 0, 1);
        Require.positive("totalIters", totalIters);
        return new Formula("LinearLR(" + baseLr + ", start_factor=" + startFactor + ", end_factor=" + endFactor
                + ", total_iters=" + totalIters + ")",
                t -> baseLr * (startFactor + (endFactor - startFactor) * Math.min(totalIters, t) / totalIters));
    }

    /** {@code ExponentialLR}: {@code base_lr * gamma ** last_epoch}; {@code gamma} finite, > 0. */
    public static Schedule exponentialLR(double baseLr, double gamma) {
        Require.nonNegative("baseLr", baseLr);
        Require.positive("gamma", gamma);
        return new Formula("ExponentialLR(" + baseLr + ", gamma=" + gamma + ")",
                t -> baseLr * Math.pow(gamma, (double) t));
    }

    /**
     * {@code PolynomialLR}: {@code base_lr * (1 - min(total_iters, last_epoch) / total_iters) ** power}. Past
     * {@code total_iters}: 0.
     *
     * @param power finite, >= 0 (a negative power divides by zero at the end, in PyTorch too)
     */
    public static Schedule polynomialLR(double baseLr, long totalIters, double power) {
        Require.nonNegative("baseLr", baseLr);
        Require.positive("totalIters", totalIters);
        Require.nonNegative("power", power);
        double total = totalIters;
        return new Formula("PolynomialLR(" + baseLr + ", total_iters=" + totalIters + ", power=" + power + ")",
                t -> baseLr * Math.pow(1.0 - Math.min(totalIters, t) / total, power));
    }

    /**
     * {@code CosineAnnealingLR}, its documented closed form (SGDR without restarts):
     * {@code eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2}. Past {@code T_max} the cosine
     * goes on, as in PyTorch (both forms): the lr climbs back to {@code base_lr} at {@code 2 T_max}, and so on.
     * Use {@link Schedules#cosineDecay} to hold the floor instead.
     *
     * @param tMax   > 0
     * @param etaMin finite, in [0, baseLr]
     */
    public static Schedule cosineAnnealingLR(double baseLr, long tMax, double etaMin) {
        Require.nonNegative("baseLr", baseLr);
        Require.positive("tMax", tMax);
        Phases.requireFloorAtMostPeak("etaMin", etaMin, "baseLr", baseLr);
        return new Formula("CosineAnnealingLR(" + baseLr + ", T_max=" + tMax + ", eta_min=" + etaMin + ")",
                t -> etaMin + (baseLr - etaMin) * (1 + Math.cos(Math.PI * t / tMax)) / 2);
    }

    /**
     * {@code SequentialLR}: {@code schedulers[i]} with {@code i = bisect_right(milestones, t)}, evaluated at
     * {@code t - milestones[i-1]} (PyTorch restarts each scheduler at its milestone: {@code _update_lr(0)}).
     *
     * @param milestones {@code schedulers.size() - 1} steps, strictly increasing, each {@code > 0} (PyTorch accepts
     *                   others and then never runs some schedulers)
     */
    public static Sequential sequentialLR(List<Schedule> schedulers, long... milestones) {
        Require.notNull("schedulers", schedulers);
        Require.notNull("milestones", milestones);
        return new Sequential("SequentialLR(" + schedulers + ", milestones=" + Arrays.toString(milestones) + ")",
                schedulers, milestones);
    }
}
