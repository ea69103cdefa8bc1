package vecopt.schedule;

import java.util.Arrays;
import java.util.List;

/**
 * Schedules joined at milestones, with PyTorch's {@code SequentialLR} semantics: the schedule in force at step
 * {@code n} is number {@code i = bisect_right(milestones, n)}, and it is evaluated at {@code n - milestones[i-1]}
 * (each schedule restarts counting from 0 at its milestone). The last schedule runs for ever.
 *
 * <pre>{@code
 * // PyTorch: SequentialLR(opt, [LinearLR(opt, 0.1, 1.0, 500), CosineAnnealingLR(opt, 9_500)], milestones=[500])
 * Sequential s = PyTorch.sequentialLR(List.of(PyTorch.linearLR(1e-3, 0.1, 1.0, 500),
 *                                             PyTorch.cosineAnnealingLR(1e-3, 9_500, 0)), 500);
 * }</pre>
 *
 * <p>Every warmup-then-decay schedule of this package is a {@code Sequential} of its phases, so its phase boundaries
 * are {@link #milestones()} and each phase can be looked at on its own ({@link #schedules()}): the tests check that
 * adjacent phases meet at the boundaries.
 *
 * @param name        legend / table name
 * @param schedules   the phases, at least one
 * @param milestones  {@code schedules.size() - 1} steps, strictly increasing, each > 0
 * @param warmupSteps the end of warmup, for plots (0 if none)
 */
public record Sequential(String name, List<Schedule> schedules, long[] milestones, long warmupSteps)
        implements Schedule {

    public Sequential {
        Args.notNull("name", name);
        Args.notNull("schedules", schedules);
        Args.notNull("milestones", milestones);
        if (schedules.isEmpty()) {
            throw new IllegalArgumentException("schedules must hold at least one schedule, got none");
        }
        for (int i = 0; i < schedules.size(); i++) {
            Args.notNull("schedules[" + i + "]", schedules.get(i));
        }
        schedules = List.copyOf(schedules);
        milestones = milestones.clone();
        if (milestones.length != schedules.size() - 1) {
            throw new IllegalArgumentException("milestones must hold one step fewer than schedules ("
                    + (schedules.size() - 1) + "), got " + milestones.length + ": " + Arrays.toString(milestones));
        }
        // PyTorch accepts a milestone of 0 or unsorted milestones and then silently never runs some schedules;
        // here that is an error.
        for (int i = 0; i < milestones.length; i++) {
            if (milestones[i] <= 0 || (i > 0 && milestones[i] <= milestones[i - 1])) {
                throw new IllegalArgumentException("milestones must be > 0 and strictly increasing, got "
                        + Arrays.toString(milestones));
            }
        }
        Args.nonNegative("warmupSteps", warmupSteps);
    }

    @Override
    public double lr(long step) {
        int i = phaseOf(Args.step(step));
        return schedules.get(i).lr(i == 0 ? step : step - milestones[i - 1]);
    }

    /** Index of the schedule in force at {@code step}: the number of milestones {@code <= step} (bisect_right). */
    public int phaseOf(long step) {
        int lo = 0;
        int hi = milestones.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (milestones[mid] <= step) {
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

    @Override
    public long[] milestones() {
        return milestones.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sequential s && name.equals(s.name) && schedules.equals(s.schedules)
                && Arrays.equals(milestones, s.milestones) && warmupSteps == s.warmupSteps;
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + schedules.hashCode()) * 31 + Arrays.hashCode(milestones);
    }

    @Override
    public String toString() {
        return name;
    }
}
