package vecopt.schedule;

import java.util.List;

/**
 * The schedules of the reference material (vecopt's seeds: "Learning Rate Warmup" and the optimization overview),
 * each with its formula as the material states it and the Python the material gives, evaluated in the same order.
 * Where the material says nothing about a step past the end, the schedule holds its final value (decided here; the
 * PyTorch and Hugging Face variants in {@link PyTorch} and {@link HuggingFace} follow their sources instead).
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

    /** {@code lr} at every step. */
    public static Schedule constant(double lr) {
        Args.lr("lr", lr);
        return new Formula("constant(" + lr + ")", 0, t -> lr);
    }

    /**
     * Linear warmup, then constant: {@code target * (t / W)} for {@code t < W}, then {@code target}. Source: the
     * seeds' {@code linear_warmup(step, warmup_steps, target_lr)}. Starts at 0 at step 0. {@code W = 0}: constant.
     */
    public static Schedule linearWarmup(double targetLr, long warmupSteps) {
        Args.lr("targetLr", targetLr);
        Args.nonNegative("warmupSteps", warmupSteps);
        String name = "linear warmup(" + targetLr + ", W=" + warmupSteps + ")";
        Schedule flat = new Formula("constant", 0, t -> targetLr);
        if (warmupSteps == 0) {
            return flat.named(name);
        }
        double w = warmupSteps;
        Schedule ramp = new Formula("linear warmup", 0, t -> targetLr * (t / w));
        return new Sequential(name, List.of(ramp, flat), new long[] {warmupSteps}, warmupSteps);
    }

    /**
     * Exponential warmup, then constant: {@code target * (1 - exp(-5 t / W))} for {@code t < W}, then {@code target}.
     * Source: the seeds' {@code exponential_warmup}. Not continuous at {@code W}: the ramp ends at
     * {@code (1 - e^-5) target}, 0.67% short of the target, and the next step jumps to it (as in the source).
     */
    public static Schedule exponentialWarmup(double targetLr, long warmupSteps) {
        Args.lr("targetLr", targetLr);
        Args.nonNegative("warmupSteps", warmupSteps);
        String name = "exponential warmup(" + targetLr + ", W=" + warmupSteps + ")";
        Schedule flat = new Formula("constant", 0, t -> targetLr);
        if (warmupSteps == 0) {
            return flat.named(name);
        }
        double w = warmupSteps;
        Schedule ramp = new Formula("exponential warmup", 0, t -> targetLr * (1 - Math.exp(-5 * t / w)));
        return new Sequential(name, List.of(ramp, flat), new long[] {warmupSteps}, warmupSteps);
    }

    /**
     * Linear warmup, then cosine decay to a floor. For {@code t < W}: {@code maxLr * t / W}; for
     * {@code W <= t <= T}: {@code minLr + 0.5 (maxLr - minLr)(1 + cos(pi (t - W) / (T - W)))}; after {@code T}:
     * {@code minLr}. Source: the seeds' {@code get_lr(step, warmup_steps, max_lr, total_steps)} (which decays to 0)
     * with the floor of their cosine-decay formula {@code lr_min + 0.5 (lr_max - lr_min)(1 + cos(pi step / T))}.
     * Continuous at {@code W} and at {@code T}.
     *
     * @throws IllegalArgumentException if {@code totalSteps <= warmupSteps}, {@code minLr > maxLr}, or a value is
     *                                  negative or not finite
     */
    public static Schedule warmupCosine(double maxLr, double minLr, long warmupSteps, long totalSteps) {
        Args.lr("maxLr", maxLr);
        floor(minLr, maxLr);
        Args.totalAfterWarmup("totalSteps", totalSteps, "warmupSteps", warmupSteps);
        double w = warmupSteps;
        double span = totalSteps - warmupSteps;
        Schedule ramp = new Formula("linear warmup", 0, t -> maxLr * t / w);
        Schedule cosine = new Formula("cosine decay", 0,
                t -> minLr + 0.5 * (maxLr - minLr) * (1 + Math.cos(Math.PI * (t / span))));
        Schedule hold = new Formula("floor", 0, t -> minLr);
        String name = "warmup cosine(" + maxLr + " -> " + minLr + ", W=" + warmupSteps + ", T=" + totalSteps + ")";
        return warmupThen(name, ramp, warmupSteps, cosine, totalSteps, hold);
    }

    /**
     * Linear decay to 0: {@code initialLr * (1 - t / T)} for {@code t <= T}, then 0. Source: the seeds' linear
     * decay {@code lr = initial_lr x (1 - step/total_steps)}.
     */
    public static Schedule linearDecay(double initialLr, long totalSteps) {
        Args.lr("initialLr", initialLr);
        Args.positive("totalSteps", totalSteps);
        double total = totalSteps;
        Schedule line = new Formula("linear decay", 0, t -> initialLr * (1 - t / total));
        Schedule zero = new Formula("end", 0, t -> 0.0);
        return new Sequential("linear decay(" + initialLr + ", T=" + totalSteps + ")", List.of(line, zero),
                new long[] {totalSteps}, 0);
    }

    /**
     * Cosine decay to a floor: {@code minLr + 0.5 (maxLr - minLr)(1 + cos(pi t / T))} for {@code t <= T}, then
     * {@code minLr}. Source: the seeds' cosine decay formula.
     */
    public static Schedule cosineDecay(double maxLr, double minLr, long totalSteps) {
        Args.lr("maxLr", maxLr);
        floor(minLr, maxLr);
        Args.positive("totalSteps", totalSteps);
        double total = totalSteps;
        Schedule cosine = new Formula("cosine decay", 0,
                t -> minLr + 0.5 * (maxLr - minLr) * (1 + Math.cos(Math.PI * (t / total))));
        Schedule hold = new Formula("floor", 0, t -> minLr);
        return new Sequential("cosine decay(" + maxLr + " -> " + minLr + ", T=" + totalSteps + ")",
                List.of(cosine, hold), new long[] {totalSteps}, 0);
    }

    /**
     * Step decay: {@code lr * gamma^floor(t / stepSize)}. The seeds name it (the CNN configuration) without a
     * formula; this is PyTorch's {@code StepLR} closed form.
     */
    public static Schedule stepDecay(double lr, double gamma, long stepSize) {
        Args.lr("lr", lr);
        Args.openClosed("gamma", gamma, 0, 1);
        Args.positive("stepSize", stepSize);
        return new Formula("step decay(" + lr + ", x" + gamma + " every " + stepSize + ")", 0,
                t -> lr * Math.pow(gamma, (double) (t / stepSize)));
    }

    /**
     * Warmup, constant, then decay (warmup-stable-decay, the seeds' "Warmup + Decay" figure: warmup, constant,
     * decay). For {@code t < W}: {@code peak * t / W}; then {@code peak} for {@code stable} steps; then
     * {@code minLr + (peak - minLr) * shape(p)} with {@code p = (t - W - stable) / decay} over {@code decay} steps;
     * then {@code minLr}. The seeds give no formula; the decay shapes are Hugging Face's {@code get_wsd_schedule}
     * ones, written in absolute lr so that the floor is exact. Continuous at every boundary (the warmup at W, the
     * decay at its start within one ULP, at its end exactly).
     */
    public static Schedule warmupStableDecay(double peakLr, double minLr, long warmupSteps, long stableSteps,
            long decaySteps, DecayShape shape) {
        Args.lr("peakLr", peakLr);
        floor(minLr, peakLr);
        Args.nonNegative("warmupSteps", warmupSteps);
        Args.nonNegative("stableSteps", stableSteps);
        Args.positive("decaySteps", decaySteps);
        Args.notNull("shape", shape);
        double w = warmupSteps;
        double d = decaySteps;
        Schedule ramp = new Formula("linear warmup", 0, t -> peakLr * t / w);
        Schedule stable = new Formula("stable", 0, t -> peakLr);
        Schedule decay = new Formula(shape.name().toLowerCase() + " decay", 0,
                t -> minLr + (peakLr - minLr) * shape.remaining(t / d));
        Schedule hold = new Formula("floor", 0, t -> minLr);
        String name = "warmup-stable-decay(" + peakLr + " -> " + minLr + ", W=" + warmupSteps + ", S="
                + stableSteps + ", D=" + decaySteps + ", " + shape.name().toLowerCase() + ")";
        return Phases.of(name, warmupSteps)
                .then(ramp, warmupSteps)
                .then(stable, stableSteps)
                .then(decay, decaySteps)
                .last(hold);
    }

    /**
     * Warmup, then the main schedule, which restarts counting at the end of warmup: PyTorch's
     * {@code SequentialLR([warmup, main], milestones=[warmupSteps])}, with the warmup end marked for plots.
     */
    public static Sequential warmupThen(Schedule warmup, long warmupSteps, Schedule main) {
        Args.notNull("warmup", warmup);
        Args.notNull("main", main);
        Args.positive("warmupSteps", warmupSteps);
        return new Sequential(warmup.name() + " then " + main.name(), List.of(warmup, main),
                new long[] {warmupSteps}, warmupSteps);
    }

    private static Schedule warmupThen(String name, Schedule ramp, long warmupSteps, Schedule decay, long totalSteps,
            Schedule hold) {
        return Phases.of(name, warmupSteps)
                .then(ramp, warmupSteps)
                .then(decay, totalSteps - warmupSteps)
                .last(hold);
    }

    private static void floor(double minLr, double maxLr) {
        Args.lr("minLr", minLr);
        if (minLr > maxLr) {
            throw new IllegalArgumentException("minLr must be <= the peak lr (" + maxLr + "), got " + minLr);
        }
    }
}
