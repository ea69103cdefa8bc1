package vecopt.schedule;

import java.util.Arrays;
import java.util.List;
import vecopt.check.Require;

/**
 * Schedules joined at milestones, with the semantics of PyTorch's {@code torch.optim.lr_scheduler.SequentialLR}:
 * the schedule in force at step {@code n} is number {@code i = bisect_right(milestones, n)}, and it is evaluated at
 * {@code n - milestones[i-1]} (each schedule restarts counting from 0 at its milestone). The last schedule runs for
 * ever. Built by {@link PyTorch#sequentialLR(List, long...)} and
 * {@link Schedules#warmupThen(Schedule, long, Schedule)}.
 *
 * <pre>{@code
 * // PyTorch: SequentialLR(opt, [LinearLR(opt, 0.1, 1.0, 500), CosineAnnealingLR(opt, 9_500)], milestones=[500])
 * Sequential s = PyTorch.sequentialLR(List.of(PyTorch.linearLR(1e-3, 0.1, 1.0, 500),
 *                                             PyTorch.cosineAnnealingLR(1e-3, 9_500, 0)), 500);
 * s.phaseOf(499);  // 0: still warming up
 * s.start(1);      // 500: where the cosine starts
 * }</pre>
 *
 * <p>Every warmup-then-decay schedule of this package is a {@code Sequential} of its phases (an empty phase, such as
 * a warmup of 0 steps, is left out), so its phase boundaries are {@link #milestones()} and each phase can be looked
 * at on its own through {@link #schedules()}.
 */
public final class Sequential implements Schedule {
    private final String formula;
    private final List<Schedule> schedules;
    private final long[] milestones;

    /**
     * @param formula    the {@code toString()}: the schedule's formula and parameters
     * @param schedules  the phases, at least one
     * @param milestones {@code schedules.size() - 1} steps, strictly increasing, each {@code > 0}
     */
    Sequential(String formula, List<Schedule> schedules, long[] milestones) {
        this.formula = Require.notNull("formula", formula);
        // the messages say "schedulers", the parameter's name in PyTorch.sequentialLR, the public way here
        Require.notNull("schedulers", schedules);
        Require.notNull("milestones", milestones);
        if (schedules.isEmpty()) {
            throw new IllegalArgumentException("schedulers must hold at least one schedule, got none");
        }
        for (int i = 0; i < schedules.size(); i++) {
            Require.notNull("schedulers[" + i + "]", schedules.get(i));
        }
        if (milestones.length != schedules.size() - 1) {
            throw new IllegalArgumentException("milestones must hold one step fewer than schedulers ("
                    + (schedules.size() - 1) + "), got " + milestones.length + ": " + Arrays.toString(milestones));
        }
        // PyTorch accepts a milestone of 0 or unsorted milestones and then silently never runs some schedules;
        // here that is an error.
        this.milestones = increasing("milestones", milestones, 1);
        this.schedules = List.copyOf(schedules);
    }

    /**
     * A copy of {@code values} after checking that each is {@code >= min} and each is larger than the one before.
     * Shared by the milestones of {@code SequentialLR} and {@code MultiStepLR}: in both, PyTorch takes duplicate or
     * unsorted milestones without a word and the schedule then differs from what was written.
     */
    static long[] increasing(String name, long[] values, long min) {
        long[] copy = Require.notNull(name, values).clone();
        for (int i = 0; i < copy.length; i++) {
            if (copy[i] < min || (i > 0 && copy[i] <= copy[i - 1])) {
                throw new IllegalArgumentException(name + " must be >= " + min + " and strictly increasing, got "
                        + Arrays.toString(copy));
            }
        }
        return copy;
    }

    @Override
    public double lr(long step) {
        int i = phaseOf(Require.nonNegative("step", step));
        return schedules.get(i).lr(i == 0 ? step : step - milestones[i - 1]);
    }

    /** Index of the schedule in force at {@code step}: the number of milestones {@code <= step} (bisect_right). */
    public int phaseOf(long step) {
        return bisectRight(milestones, step);
    }

    /** Number of elements of the sorted {@code a} that are {@code <= x}: Python's {@code bisect_right}. */
    static int bisectRight(long[] a, long x) {
        int lo = 0;
        int hi = a.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] <= x) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** First step of phase {@code i}. */
    public long start(int i) {
        return i == 0 ? 0 : milestones[i - 1];
    }

    /** The phases, in order: an unmodifiable list. */
    public List<Schedule> schedules() {
        return schedules;
    }

    /** The steps at which phase {@code i + 1} takes over from phase {@code i}: a copy. */
    public long[] milestones() {
        return milestones.clone();
    }

    @Override
    public String toString() {
        return formula;
    }
}
