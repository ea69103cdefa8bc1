package vecopt.examples;

import java.util.Objects;
import vecopt.schedule.Schedule;

/**
 * A schedule with what a table or chart says about it: its name and where its warmup ends. Both come from whoever
 * built the schedule (the warmup steps it passed to the factory), since a schedule itself is only {@code lr(step)}.
 *
 * @param name        legend entry and table header
 * @param schedule    the learning rate of each step
 * @param warmupSteps the first step after the warmup, or 0 when there is none
 */
public record NamedSchedule(String name, Schedule schedule, long warmupSteps) {
    public NamedSchedule {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(schedule, "schedule");
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps + " for " + name);
        }
    }

    /** A schedule without warmup. */
    public static NamedSchedule of(String name, Schedule schedule) {
        return new NamedSchedule(name, schedule, 0);
    }

    public boolean hasWarmup() {
        return warmupSteps > 0;
    }
}
