package vecopt.schedule;

import vecopt.check.Require;

/**
 * The schedules of Hugging Face {@code transformers.optimization} ({@code src/transformers/optimization.py}), under
 * their names. Each is there a multiplier function handed to PyTorch's {@code LambdaLR}, so the lr is
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

    /**
     * {@code get_constant_schedule}: multiplier 1, so the lr is {@code baseLr} at every step. The same formula as
     * {@link Schedules#constant(double)}, which this returns; kept under Hugging Face's name for code ported from it.
     */
    public static Schedule constantSchedule(double baseLr) {
        // checked here too so that a bad value is reported under this method's parameter name
        return Schedules.constant(Require.nonNegative("baseLr", baseLr));
    }

    /**
     * {@code get_constant_schedule_with_warmup}: {@code current_step / max(1, num_warmup_steps)} while
     * {@code current_step < num_warmup_steps}, then 1.
     */
    public static Schedule constantScheduleWithWarmup(double baseLr, long numWarmupSteps) {
        Require.nonNegative("baseLr", baseLr);
        Require.nonNegative("numWarmupSteps", numWarmupSteps);
        // the source's multiplier is 1.0 after warmup; baseLr * 1.0 is baseLr exactly, so the constant phase is it
        return withWarmup(baseLr, numWarmupSteps, Schedules.constant(baseLr),
                "get_constant_schedule_with_warmup(" + baseLr + ", W=" + numWarmupSteps + ")");
    }

    /**
     * {@code get_linear_schedule_with_warmup}: warmup, then
     * {@code max(0, (num_training_steps - current_step) / max(1, num_training_steps - num_warmup_steps))}.
     * Past the end: 0 (the {@code max(0, ...)}).
     */
    public static Schedule linearScheduleWithWarmup(double baseLr, long numWarmupSteps, long numTrainingSteps) {
        requireWarmupThenDecay(baseLr, numWarmupSteps, numTrainingSteps);
        long decay = numTrainingSteps - numWarmupSteps;
        double den = decay;
        Schedule linear = new Formula("linear decay " + baseLr + " * max(0, (" + decay + " - s) / " + decay + ")",
                s -> baseLr * Math.max(0.0, (decay - s) / den));
        return withWarmup(baseLr, numWarmupSteps, linear, "get_linear_schedule_with_warmup(" + baseLr + ", W="
                + numWarmupSteps + ", T=" + numTrainingSteps + ")");
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
        requireWarmupThenDecay(baseLr, numWarmupSteps, numTrainingSteps);
        Require.positive("numCycles", numCycles);
        double den = numTrainingSteps - numWarmupSteps;
        Schedule cosine = new Formula("cosine decay, " + numCycles + " cycles", s -> {
            double progress = s / den;
            return baseLr * Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress)));
        });
        return withWarmup(baseLr, numWarmupSteps, cosine, "get_cosine_schedule_with_warmup(" + baseLr + ", W="
                + numWarmupSteps + ", T=" + numTrainingSteps + ", num_cycles=" + numCycles + ")");
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
        requireWarmupThenDecay(baseLr, numWarmupSteps, numTrainingSteps);
        Require.positive("numCycles", numCycles);
        double den = numTrainingSteps - numWarmupSteps;
        double cycles = numCycles;
        Schedule restarts = new Formula("cosine with " + numCycles + " hard restarts", s -> {
            double progress = s / den;
            if (progress >= 1.0) {
                return baseLr * 0.0;
            }
            return baseLr * Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * pyMod1(cycles * progress))));
        });
        return withWarmup(baseLr, numWarmupSteps, restarts, "get_cosine_with_hard_restarts_schedule_with_warmup("
                + baseLr + ", W=" + numWarmupSteps + ", T=" + numTrainingSteps + ", num_cycles=" + numCycles + ")");
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
        requireWarmupThenDecay(baseLr, numWarmupSteps, numTrainingSteps);
        Require.nonNegative("lrEnd", lrEnd);
        // strictly smaller, as Hugging Face checks (lr_init > lr_end): unlike the floors of the other schedules
        if (!(baseLr > lrEnd)) {
            throw new IllegalArgumentException("lrEnd (" + lrEnd + ") must be smaller than baseLr, the initial lr ("
                    + baseLr + ")");
        }
        Require.positive("power", power);
        double lrInit = baseLr;
        long decaySteps = numTrainingSteps - numWarmupSteps;
        double den = decaySteps;
        Schedule poly = new Formula("polynomial decay to " + lrEnd + ", power " + power, s -> {
            if (s > decaySteps) {
                return baseLr * (lrEnd / lrInit);
            }
            double lrRange = lrInit - lrEnd;
            double pctRemaining = 1 - s / den;
            double decay = lrRange * Math.pow(pctRemaining, power) + lrEnd;
            return baseLr * (decay / lrInit);
        });
        return withWarmup(baseLr, numWarmupSteps, poly, "get_polynomial_decay_schedule_with_warmup(" + baseLr
                + ", W=" + numWarmupSteps + ", T=" + numTrainingSteps + ", lr_end=" + lrEnd + ", power=" + power
                + ")");
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
        Require.nonNegative("baseLr", baseLr);
        Require.nonNegative("numWarmupSteps", numWarmupSteps);
        Require.nonNegative("numStableSteps", numStableSteps);
        Require.positive("numDecaySteps", numDecaySteps);
        Require.notNull("warmupType", warmupType);
        Require.notNull("decayType", decayType);
        Require.closed("minLrRatio", minLrRatio, 0, 1);
        Require.positive("numCycles", numCycles);
        double r = minLrRatio;
        double w = Math.max(1, numWarmupSteps);
        double d = Math.max(1, numDecaySteps);
        Schedule warm = new Formula(warmupType.name().toLowerCase() + " warmup from ratio " + r, s -> {
            double progress = s / w;
            double factor = switch (warmupType) {
                case LINEAR -> progress;
                case COSINE -> 0.5 * (1.0 - Math.cos(Math.PI * progress));
                case ONE_MINUS_SQRT -> 1.0 - Math.sqrt(1.0 - progress);
            };
            factor = factor * (1.0 - r) + r;
            return baseLr * Math.max(0.0, factor);
        });
        Schedule decay = new Formula(decayType.name().toLowerCase() + " decay to ratio " + r, s -> {
            double progress = s / d;
            double factor = switch (decayType) {
                case LINEAR -> 1.0 - progress;
                case COSINE -> 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress));
                case ONE_MINUS_SQRT -> 1.0 - Math.sqrt(progress);
            };
            factor = factor * (1.0 - r) + r;
            return baseLr * Math.max(0.0, factor);
        });
        // the stable phase's multiplier is 1.0 and the floor's is r: constant lrs (baseLr * 1.0 is baseLr exactly,
        // and baseLr * r is the same product whether computed once here or at every step)
        return Phases.of("get_wsd_schedule(" + baseLr + ", W=" + numWarmupSteps + ", S=" + numStableSteps + ", D="
                        + numDecaySteps + ", " + warmupType.name().toLowerCase() + "/"
                        + decayType.name().toLowerCase() + ", min_lr_ratio=" + r + ", num_cycles=" + numCycles + ")")
                .then(warm, numWarmupSteps)
                .then(Schedules.constant(baseLr), numStableSteps)
                .then(decay, numDecaySteps)
                .last(Schedules.constant(baseLr * r));
    }

    /** The checks shared by every warmup-then-decay schedule here, under Hugging Face's parameter names. */
    private static void requireWarmupThenDecay(double baseLr, long numWarmupSteps, long numTrainingSteps) {
        Require.nonNegative("baseLr", baseLr);
        Phases.requireDecayAfterWarmup("numTrainingSteps", numTrainingSteps, "numWarmupSteps", numWarmupSteps);
    }

    /** Hugging Face's warmup for {@code numWarmupSteps} (none if 0), then {@code after} from its own step 0. */
    private static Sequential withWarmup(double baseLr, long numWarmupSteps, Schedule after, String formula) {
        return Phases.of(formula).then(warmup(baseLr, numWarmupSteps), numWarmupSteps).last(after);
    }

    /** Hugging Face's warmup multiplier {@code current_step / max(1, num_warmup_steps)}, times {@code baseLr}. */
    private static Schedule warmup(double baseLr, long numWarmupSteps) {
        double den = Math.max(1, numWarmupSteps);
        return new Formula("linear warmup " + baseLr + " * (t / max(1, " + numWarmupSteps + "))",
                t -> baseLr * (t / den));
    }

    /** Python's {@code x % 1.0} for x >= 0 (the sign of the divisor); the same as Java's {@code %} there. */
    private static double pyMod1(double x) {
        double m = x % 1.0;
        return m < 0 ? m + 1.0 : m;
    }
}
