package vecopt.schedule;

import java.util.List;

/**
 * The schedules of Hugging Face {@code transformers} ({@code src/transformers/optimization.py}), under their names.
 * Each is there a multiplier function handed to PyTorch's {@code LambdaLR}, so the lr is
 * {@code base_lr * lambda(current_step)}; here the same multiplier is computed with the same operations in the same
 * order and multiplied by {@code baseLr} (pass {@code baseLr = 1} for the multiplier itself). Every one is a
 * {@link Sequential} of its phases (warmup, then decay), with the decay phase's local step
 * {@code s = current_step - num_warmup_steps} giving exactly the source's {@code current_step - num_warmup_steps}.
 *
 * <pre>{@code
 * // transformers: get_linear_schedule_with_warmup(opt, num_warmup_steps=100, num_training_steps=1000), lr=5e-5
 * Schedule s = HuggingFace.linearScheduleWithWarmup(5e-5, 100, 1000);
 * }</pre>
 *
 * <p>All warmups here are Hugging Face's: {@code current_step / max(1, num_warmup_steps)}, so step 0 has lr 0.
 *
 * <p>Deliberate differences from Hugging Face: {@code num_training_steps <= num_warmup_steps}, negative step
 * counts, {@code num_cycles <= 0} and NaN are rejected (Hugging Face divides by {@code max(1, ...)} and goes on).
 * Past {@code num_training_steps} each schedule does what its source code does, said at each method.
 */
public final class HuggingFace {
    private HuggingFace() {
    }

    /** {@code get_constant_schedule}: multiplier 1. */
    public static Schedule constantSchedule(double baseLr) {
        Args.lr("baseLr", baseLr);
        return new Formula("constant(" + baseLr + ")", 0, t -> baseLr * 1.0);
    }

    /**
     * {@code get_constant_schedule_with_warmup}: {@code current_step / max(1, num_warmup_steps)} while
     * {@code current_step < num_warmup_steps}, then 1.
     */
    public static Schedule constantScheduleWithWarmup(double baseLr, long numWarmupSteps) {
        Args.lr("baseLr", baseLr);
        Args.nonNegative("numWarmupSteps", numWarmupSteps);
        return Phases.of("constant with warmup(" + baseLr + ", W=" + numWarmupSteps + ")", numWarmupSteps)
                .then(warmup(baseLr, numWarmupSteps), numWarmupSteps)
                .last(new Formula("constant", 0, s -> baseLr * 1.0));
    }

    /**
     * {@code get_linear_schedule_with_warmup}: warmup, then
     * {@code max(0, (num_training_steps - current_step) / max(1, num_training_steps - num_warmup_steps))}.
     * Past the end: 0 (the {@code max(0, ...)}).
     */
    public static Schedule linearScheduleWithWarmup(double baseLr, long numWarmupSteps, long numTrainingSteps) {
        Args.lr("baseLr", baseLr);
        Args.totalAfterWarmup("numTrainingSteps", numTrainingSteps, "numWarmupSteps", numWarmupSteps);
        long decay = numTrainingSteps - numWarmupSteps;
        double den = decay;
        Schedule linear = new Formula("linear decay", 0, s -> baseLr * Math.max(0.0, (decay - s) / den));
        return Phases.of("linear with warmup(" + baseLr + ", W=" + numWarmupSteps + ", T=" + numTrainingSteps + ")",
                        numWarmupSteps)
                .then(warmup(baseLr, numWarmupSteps), numWarmupSteps)
                .last(linear);
    }

    /** {@link #cosineScheduleWithWarmup(double, long, long, double)} with Hugging Face's default 0.5 cycles. */
    public static Schedule cosineScheduleWithWarmup(double baseLr, long numWarmupSteps, long numTrainingSteps) {
        return cosineScheduleWithWarmup(baseLr, numWarmupSteps, numTrainingSteps, 0.5);
    }

    /**
     * {@code get_cosine_schedule_with_warmup}: warmup, then with
     * {@code progress = (current_step - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps)}:
     * {@code max(0, 0.5 * (1 + cos(pi * num_cycles * 2 * progress)))}. Past the end the cosine goes on, as in
     * Hugging Face's code: with the default 0.5 cycles the lr rises again after {@code num_training_steps}.
     *
     * @param numCycles finite, > 0 (0.5: one half cosine from the peak down to 0)
     */
    public static Schedule cosineScheduleWithWarmup(double baseLr, long numWarmupSteps, long numTrainingSteps,
            double numCycles) {
        Args.lr("baseLr", baseLr);
        Args.totalAfterWarmup("numTrainingSteps", numTrainingSteps, "numWarmupSteps", numWarmupSteps);
        Args.positive("numCycles", numCycles);
        double den = numTrainingSteps - numWarmupSteps;
        Schedule cosine = new Formula("cosine decay", 0, s -> {
            double progress = s / den;
            return baseLr * Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress)));
        });
        return Phases.of("cosine with warmup(" + baseLr + ", W=" + numWarmupSteps + ", T=" + numTrainingSteps
                        + (numCycles == 0.5 ? "" : ", cycles=" + numCycles) + ")", numWarmupSteps)
                .then(warmup(baseLr, numWarmupSteps), numWarmupSteps)
                .last(cosine);
    }

    /** {@link #cosineWithHardRestartsScheduleWithWarmup(double, long, long, long)} with the default 1 cycle. */
    public static Schedule cosineWithHardRestartsScheduleWithWarmup(double baseLr, long numWarmupSteps,
            long numTrainingSteps) {
        return cosineWithHardRestartsScheduleWithWarmup(baseLr, numWarmupSteps, numTrainingSteps, 1);
    }

    /**
     * {@code get_cosine_with_hard_restarts_schedule_with_warmup}: warmup, then with {@code progress} as in the cosine
     * schedule: 0 if {@code progress >= 1}, else
     * {@code max(0, 0.5 * (1 + cos(pi * ((num_cycles * progress) % 1))))}. Past the end: 0.
     *
     * @param numCycles > 0, the number of cosine decays (restarts + 1)
     */
    public static Schedule cosineWithHardRestartsScheduleWithWarmup(double baseLr, long numWarmupSteps,
            long numTrainingSteps, long numCycles) {
        Args.lr("baseLr", baseLr);
        Args.totalAfterWarmup("numTrainingSteps", numTrainingSteps, "numWarmupSteps", numWarmupSteps);
        Args.positive("numCycles", numCycles);
        double den = numTrainingSteps - numWarmupSteps;
        double cycles = numCycles;
        Schedule restarts = new Formula("cosine with hard restarts", 0, s -> {
            double progress = s / den;
            if (progress >= 1.0) {
                return baseLr * 0.0;
            }
            return baseLr * Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * pyMod1(cycles * progress))));
        });
        return Phases.of("cosine with hard restarts(" + baseLr + ", W=" + numWarmupSteps + ", T=" + numTrainingSteps
                        + ", cycles=" + numCycles + ")", numWarmupSteps)
                .then(warmup(baseLr, numWarmupSteps), numWarmupSteps)
                .last(restarts);
    }

    /**
     * {@link #polynomialDecayScheduleWithWarmup(double, long, long, double, double)} with Hugging Face's defaults
     * {@code lr_end = 1e-7}, {@code power = 1}.
     */
    public static Schedule polynomialDecayScheduleWithWarmup(double baseLr, long numWarmupSteps,
            long numTrainingSteps) {
        return polynomialDecayScheduleWithWarmup(baseLr, numWarmupSteps, numTrainingSteps, 1e-7, 1.0);
    }

    /**
     * {@code get_polynomial_decay_schedule_with_warmup}, with {@code lr_init = baseLr} (Hugging Face takes the
     * optimizer's default lr): warmup, then
     * {@code ((lr_init - lr_end) * (1 - (current_step - num_warmup_steps) / decay_steps) ** power + lr_end) / lr_init}
     * with {@code decay_steps = num_training_steps - num_warmup_steps}; past {@code num_training_steps}:
     * {@code lr_end / lr_init}. (The lr is that multiplier times {@code baseLr}, as in {@code LambdaLR}; it can differ
     * from the unscaled polynomial in the last bit, as it does in Hugging Face.)
     *
     * @param lrEnd finite, >= 0 and {@code < baseLr} (as Hugging Face checks)
     * @param power finite, > 0
     */
    public static Schedule polynomialDecayScheduleWithWarmup(double baseLr, long numWarmupSteps,
            long numTrainingSteps, double lrEnd, double power) {
        Args.lr("baseLr", baseLr);
        Args.totalAfterWarmup("numTrainingSteps", numTrainingSteps, "numWarmupSteps", numWarmupSteps);
        Args.lr("lrEnd", lrEnd);
        if (!(baseLr > lrEnd)) {
            throw new IllegalArgumentException("lrEnd (" + lrEnd + ") must be smaller than baseLr, the initial lr ("
                    + baseLr + ")");
        }
        Args.positive("power", power);
        double lrInit = baseLr;
        long decaySteps = numTrainingSteps - numWarmupSteps;
        double den = decaySteps;
        Schedule poly = new Formula("polynomial decay", 0, s -> {
            if (s > decaySteps) {
                return baseLr * (lrEnd / lrInit);
            }
            double lrRange = lrInit - lrEnd;
            double pctRemaining = 1 - s / den;
            double decay = lrRange * Math.pow(pctRemaining, power) + lrEnd;
            return baseLr * (decay / lrInit);
        });
        return Phases.of("polynomial decay with warmup(" + baseLr + " -> " + lrEnd + ", W=" + numWarmupSteps + ", T="
                        + numTrainingSteps + ", power=" + power + ")", numWarmupSteps)
                .then(warmup(baseLr, numWarmupSteps), numWarmupSteps)
                .last(poly);
    }

    /**
     * {@code get_wsd_schedule} (warmup-stable-decay), with {@code num_stable_steps} given: with
     * {@code r = min_lr_ratio}, warmup {@code max(0, f(progress) * (1 - r) + r)} with
     * {@code progress = current_step / max(1, W)} and {@code f} = {@code progress} (linear),
     * {@code 0.5 (1 - cos(pi progress))} (cosine) or {@code 1 - sqrt(1 - progress)} (1-sqrt); then 1 for
     * {@code numStableSteps}; then {@code max(0, g(progress) * (1 - r) + r)} over {@code numDecaySteps} with
     * {@code g} = {@code 1 - progress}, {@code 0.5 (1 + cos(pi num_cycles 2 progress))}, {@code 1 - sqrt(progress)};
     * then {@code r}. Unlike Hugging Face's other warmups this one starts at {@code r}, not 0.
     *
     * @param minLrRatio in [0, 1]
     * @param numCycles  finite, > 0 (used by the cosine decay only; default 0.5)
     */
    public static Schedule wsdSchedule(double baseLr, long numWarmupSteps, long numStableSteps, long numDecaySteps,
            DecayShape warmupType, DecayShape decayType, double minLrRatio, double numCycles) {
        Args.lr("baseLr", baseLr);
        Args.nonNegative("numWarmupSteps", numWarmupSteps);
        Args.nonNegative("numStableSteps", numStableSteps);
        Args.positive("numDecaySteps", numDecaySteps);
        Args.notNull("warmupType", warmupType);
        Args.notNull("decayType", decayType);
        Args.closed("minLrRatio", minLrRatio, 0, 1);
        Args.positive("numCycles", numCycles);
        double r = minLrRatio;
        double w = Math.max(1, numWarmupSteps);
        double d = Math.max(1, numDecaySteps);
        Schedule warm = new Formula(warmupType.name().toLowerCase() + " warmup", 0, s -> {
            double progress = s / w;
            double factor = switch (warmupType) {
                case LINEAR -> progress;
                case COSINE -> 0.5 * (1.0 - Math.cos(Math.PI * progress));
                case ONE_MINUS_SQRT -> 1.0 - Math.sqrt(1.0 - progress);
            };
            factor = factor * (1.0 - r) + r;
            return baseLr * Math.max(0.0, factor);
        });
        Schedule stable = new Formula("stable", 0, s -> baseLr * 1.0);
        Schedule decay = new Formula(decayType.name().toLowerCase() + " decay", 0, s -> {
            double progress = s / d;
            double factor = switch (decayType) {
                case LINEAR -> 1.0 - progress;
                case COSINE -> 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress));
                case ONE_MINUS_SQRT -> 1.0 - Math.sqrt(progress);
            };
            factor = factor * (1.0 - r) + r;
            return baseLr * Math.max(0.0, factor);
        });
        Schedule tail = new Formula("floor", 0, s -> baseLr * r);
        return Phases.of("wsd(" + baseLr + ", W=" + numWarmupSteps + ", S=" + numStableSteps + ", D=" + numDecaySteps
                        + ", " + warmupType.name().toLowerCase() + "/" + decayType.name().toLowerCase()
                        + ", min ratio " + r + ")", numWarmupSteps)
                .then(warm, numWarmupSteps)
                .then(stable, numStableSteps)
                .then(decay, numDecaySteps)
                .last(tail);
    }

    /** Hugging Face's warmup multiplier {@code current_step / max(1, num_warmup_steps)}, times {@code baseLr}. */
    private static Schedule warmup(double baseLr, long numWarmupSteps) {
        double den = Math.max(1, numWarmupSteps);
        return new Formula("linear warmup", 0, t -> baseLr * (t / den));
    }

    /** Python's {@code x % 1.0} for x >= 0 (the sign of the divisor); the same as Java's {@code %} there. */
    private static double pyMod1(double x) {
        double m = x % 1.0;
        return m < 0 ? m + 1.0 : m;
    }
}
