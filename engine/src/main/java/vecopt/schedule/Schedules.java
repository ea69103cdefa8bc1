package vecopt.schedule;

import java.util.List;
import vecopt.check.Require;

/**
 * The schedules of two guides, each with its formula as the guide states it and the Python the guide gives,
 * evaluated in the same order: the warmup guide "Learning Rate Warmup" (linear and exponential warmup, its
 * {@code get_lr} warmup-then-cosine, the "Warmup + Decay" figure) and the optimizer guide "Optimizers and Schedules"
 * (its "Learning Rate Schedules": linear and cosine decay; its quick-reference table: step decay for a CNN). Where a
 * guide says nothing about a step past the end, the schedule holds its final value (decided here; the PyTorch and
 * Hugging Face variants in {@link PyTorch} and {@link HuggingFace} follow their sources instead).
 *
 * <pre>{@code
 * Schedule s = Schedules.warmupCosine(3e-4, 3e-5, 2_000, 100_000);  // 2k steps of warmup, cosine to a floor of 3e-5
 * double lr = s.lr(50_000);
 * }</pre>
 *
 * <p>Step {@code t} is 0-based; {@code W} is the warmup length, {@code T} the total number of steps.
 */
public final class Schedules {
    private Schedules() {
    }

    /**
     * {@code lr} at every step. The one constant schedule of the package: {@link HuggingFace#constantSchedule} and
     * the constant phases of the other schedules are this one.
     *
     * @param lr finite, {@code >= 0}
     */
    public static Schedule constant(double lr) {
        Require.nonNegative("lr", lr);
        return new Formula("constant " + lr, t -> lr);
    }

    /**
     * Linear warmup, then constant: {@code target * (t / W)} for {@code t < W}, then {@code target}. Source: the
     * warmup guide's {@code linear_warmup(step, warmup_steps, target_lr)}. Starts at 0 at step 0. {@code W = 0}:
     * constant.
     */
    public static Schedule linearWarmup(double targetLr, long warmupSteps) {
        double w = warmupSteps;
        // target * (t / W), not target * t / W: the guide's Python divides first, and the rounding follows it
        return warmupThenConstant("linear", targetLr, warmupSteps, new Formula("linear warmup " + targetLr
                + " * (t / " + warmupSteps + ")", t -> targetLr * (t / w)));
    }

    /**
     * Exponential warmup, then constant: {@code target * (1 - exp(-5 t / W))} for {@code t < W}, then {@code target}.
     * Source: the warmup guide's {@code exponential_warmup}. Not continuous at {@code W}: the ramp ends at
     * {@code (1 - e^-5) target}, 0.67% short of the target, and the next step jumps to it (as in the source).
     */
    public static Schedule exponentialWarmup(double targetLr, long warmupSteps) {
        double w = warmupSteps;
        return warmupThenConstant("exponential", targetLr, warmupSteps, new Formula("exponential warmup " + targetLr
                + " * (1 - exp(-5 t / " + warmupSteps + "))", t -> targetLr * (1 - Math.exp(-5 * t / w))));
    }

    /** {@code ramp} for {@code warmupSteps} steps (none if 0), then {@code targetLr}: the guide's two warmups. */
    private static Schedule warmupThenConstant(String kind, double targetLr, long warmupSteps, Schedule ramp) {
        Require.nonNegative("targetLr", targetLr);
        Require.nonNegative("warmupSteps", warmupSteps);
        return Phases.of(kind + " warmup to " + targetLr + " over " + warmupSteps + " steps")
                .then(ramp, warmupSteps)
                .last(constant(targetLr));
    }

    /**
     * Linear warmup, then cosine decay to a floor. For {@code t < W}: {@code maxLr * t / W}; for
     * {@code W <= t <= T}: {@code minLr + 0.5 (maxLr - minLr)(1 + cos(pi (t - W) / (T - W)))}; after {@code T}:
     * {@code minLr}. Source: the warmup guide's {@code get_lr(step, warmup_steps, max_lr, total_steps)} (which
     * decays to 0) with the floor of the optimizer guide's cosine decay
     * {@code lr_min + 0.5 (lr_max - lr_min)(1 + cos(pi step / T))}. Continuous at {@code W} and at {@code T}.
     *
     * @throws IllegalArgumentException if {@code totalSteps <= warmupSteps}, {@code minLr > maxLr}, or a value is
     *                                  negative or not finite
     */
    public static Schedule warmupCosine(double maxLr, double minLr, long warmupSteps, long totalSteps) {
        Require.nonNegative("maxLr", maxLr);
        Phases.requireFloorAtMostPeak("minLr", minLr, "maxLr", maxLr);
        Phases.requireDecayAfterWarmup("totalSteps", totalSteps, "warmupSteps", warmupSteps);
        return Phases.of("linear warmup to " + maxLr + " over " + warmupSteps + " steps, then cosine decay to "
                        + minLr + " at step " + totalSteps)
                .then(ramp(maxLr, warmupSteps), warmupSteps)
                .then(cosine(maxLr, minLr, totalSteps - warmupSteps), totalSteps - warmupSteps)
                .last(constant(minLr));
    }

    /**
     * Linear decay to 0: {@code initialLr * (1 - t / T)} for {@code t <= T}, then 0. Source: the optimizer guide's
     * linear decay {@code lr = initial_lr x (1 - step/total_steps)}.
     */
    public static Schedule linearDecay(double initialLr, long totalSteps) {
        Require.nonNegative("initialLr", initialLr);
        Require.positive("totalSteps", totalSteps);
        double total = totalSteps;
        Schedule line = new Formula("linear decay " + initialLr + " * (1 - t / " + totalSteps + ")",
                t -> initialLr * (1 - t / total));
        return new Sequential("linear decay from " + initialLr + " to 0 at step " + totalSteps,
                List.of(line, constant(0.0)), new long[] {totalSteps});
    }

    /**
     * Cosine decay to a floor: {@code minLr + 0.5 (maxLr - minLr)(1 + cos(pi t / T))} for {@code t <= T}, then
     * {@code minLr}. Source: the optimizer guide's cosine decay formula.
     */
    public static Schedule cosineDecay(double maxLr, double minLr, long totalSteps) {
        Require.nonNegative("maxLr", maxLr);
        Phases.requireFloorAtMostPeak("minLr", minLr, "maxLr", maxLr);
        Require.positive("totalSteps", totalSteps);
        return new Sequential("cosine decay from " + maxLr + " to " + minLr + " at step " + totalSteps,
                List.of(cosine(maxLr, minLr, totalSteps), constant(minLr)), new long[] {totalSteps});
    }

    /**
     * Step decay: {@code baseLr * gamma^floor(t / stepSize)}; keeps decaying for ever. The optimizer guide names it
     * (its CNN configuration) without a formula; this is PyTorch's {@code StepLR} closed form, and the one
     * implementation of it: {@link PyTorch#stepLR(double, long, double)} is this schedule.
     *
     * @param gamma in {@code (0, 1]}: a factor above 1 would make the lr grow, which is no decay
     */
    public static Schedule stepDecay(double baseLr, double gamma, long stepSize) {
        Require.nonNegative("baseLr", baseLr);
        Require.openClosed("gamma", gamma, 0, 1);
        Require.positive("stepSize", stepSize);
        return new Formula("step decay " + baseLr + " * " + gamma + "^floor(t / " + stepSize + ")",
                t -> baseLr * Math.pow(gamma, (double) (t / stepSize)));
    }

    /**
     * Warmup, constant, then decay (warmup-stable-decay, the warmup guide's "Warmup + Decay" figure: warmup,
     * constant, decay). For {@code t < W}: {@code peak * t / W}; then {@code peak} for {@code stable} steps; then
     * {@code minLr + (peak - minLr) * shape(p)} with {@code p = (t - W - stable) / decay} over {@code decay} steps;
     * then {@code minLr}. The guide gives no formula; the decay shapes are Hugging Face
     * {@code transformers.optimization}'s {@code get_wsd_schedule} ones, written in absolute lr so that the floor is
     * exact. Continuous at every boundary (the warmup at W, the decay at its start within one ULP, at its end
     * exactly).
     */
    public static Schedule warmupStableDecay(double peakLr, double minLr, long warmupSteps, long stableSteps,
            long decaySteps, DecayShape shape) {
        Require.nonNegative("peakLr", peakLr);
        Phases.requireFloorAtMostPeak("minLr", minLr, "peakLr", peakLr);
        Require.nonNegative("warmupSteps", warmupSteps);
        Require.nonNegative("stableSteps", stableSteps);
        Require.positive("decaySteps", decaySteps);
        Require.notNull("shape", shape);
        double d = decaySteps;
        String shapeName = shape.name().toLowerCase();
        Schedule decay = new Formula(shapeName + " decay " + peakLr + " -> " + minLr + " over " + decaySteps
                + " steps", t -> minLr + (peakLr - minLr) * shape.remaining(t / d));
        return Phases.of("warmup-stable-decay: linear warmup to " + peakLr + " over " + warmupSteps + " steps, "
                        + stableSteps + " steps at it, " + shapeName + " decay to " + minLr + " over " + decaySteps
                        + " steps")
                .then(ramp(peakLr, warmupSteps), warmupSteps)
                .then(constant(peakLr), stableSteps)
                .then(decay, decaySteps)
                .last(constant(minLr));
    }

    /**
     * Warmup, then the main schedule, which restarts counting at the end of warmup: PyTorch's
     * {@code SequentialLR([warmup, main], milestones=[warmupSteps])}.
     *
     * <pre>{@code
     * Sequential s = Schedules.warmupThen(Schedules.linearWarmup(1e-3, 500), 500,
     *                                     PyTorch.cosineAnnealingLR(1e-3, 9_500, 0));
     * }</pre>
     */
    public static Sequential warmupThen(Schedule warmup, long warmupSteps, Schedule main) {
        Require.notNull("warmup", warmup);
        Require.notNull("main", main);
        Require.positive("warmupSteps", warmupSteps);
        return new Sequential(warmup + " until step " + warmupSteps + ", then " + main, List.of(warmup, main),
                new long[] {warmupSteps});
    }

    /** The warmup guide's {@code get_lr} ramp, {@code peak * t / W} (multiplied first, as its Python does). */
    private static Schedule ramp(double peak, long warmupSteps) {
        double w = warmupSteps;
        return new Formula("linear warmup " + peak + " * t / " + warmupSteps, t -> peak * t / w);
    }

    /** The optimizer guide's cosine decay from {@code max} to {@code min} over {@code span} steps. */
    private static Schedule cosine(double max, double min, long span) {
        double s = span;
        return new Formula("cosine decay " + min + " + 0.5 (" + max + " - " + min + ")(1 + cos(pi t / " + span + "))",
                t -> min + 0.5 * (max - min) * (1 + Math.cos(Math.PI * (t / s))));
    }
}
