package vecopt.schedule;

import java.util.ArrayList;
import java.util.List;
import vecopt.check.Require;

/**
 * Builds a {@link Sequential} from phases of given lengths, leaving out empty ones (a warmup of 0 steps is no
 * phase), so that milestones stay strictly increasing. Also holds the two argument rules that every warmup-then-decay
 * factory of this package shares and that no general check expresses, because they relate two parameters.
 */
final class Phases {
    private final String formula;
    private final List<Schedule> schedules = new ArrayList<>();
    private final List<Long> milestones = new ArrayList<>();
    private long end;

    private Phases(String formula) {
        this.formula = formula;
    }

    static Phases of(String formula) {
        return new Phases(formula);
    }

    Phases then(Schedule phase, long length) {
        if (length > 0) {
            if (!schedules.isEmpty()) {
                milestones.add(end);
            }
            schedules.add(phase);
            end = Math.addExact(end, length);
        }
        return this;
    }

    /** The phase that runs from the end of the others for ever. */
    Sequential last(Schedule phase) {
        if (!schedules.isEmpty()) {
            milestones.add(end);
        }
        schedules.add(phase);
        long[] m = milestones.stream().mapToLong(Long::longValue).toArray();
        return new Sequential(formula, schedules, m);
    }

    /**
     * The decay phase has at least one step: {@code total > warmup}. PyTorch and Hugging Face divide by
     * {@code max(1, total - warmup)} and go on, which turns a misconfigured run (total steps not past the warmup) into
     * a schedule that never decays; here it fails when the schedule is built.
     */
    static void requireDecayAfterWarmup(String totalName, long total, String warmupName, long warmup) {
        Require.nonNegative(warmupName, warmup);
        if (total <= warmup) {
            throw new IllegalArgumentException(totalName + " must be > " + warmupName + " (" + warmup + "), got "
                    + total);
        }
    }

    /**
     * The floor a decay ends at is finite, {@code >= 0} and not above the peak it starts from: a floor above the
     * peak would make the "decay" rise, which no source means (PyTorch's {@code CosineAnnealingLR} computes it
     * silently).
     */
    static double requireFloorAtMostPeak(String floorName, double floor, String peakName, double peak) {
        Require.nonNegative(floorName, floor);
        if (floor > peak) {
            throw new IllegalArgumentException(floorName + " must be <= " + peakName + " (" + peak + "), got "
                    + floor);
        }
        return floor;
    }
}
