package vecopt.schedule;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds a {@link Sequential} from phases of given lengths, leaving out empty ones (a warmup of 0 steps is no
 * phase), so that milestones stay strictly increasing.
 */
final class Phases {
    private final String name;
    private final long warmupSteps;
    private final List<Schedule> schedules = new ArrayList<>();
    private final List<Long> milestones = new ArrayList<>();
    private long end;

    private Phases(String name, long warmupSteps) {
        this.name = name;
        this.warmupSteps = warmupSteps;
    }

    static Phases of(String name, long warmupSteps) {
        return new Phases(name, warmupSteps);
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
        return new Sequential(name, schedules, m, warmupSteps);
    }
}
