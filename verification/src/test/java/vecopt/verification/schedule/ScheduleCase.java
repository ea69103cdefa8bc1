package vecopt.verification.schedule;

import java.util.function.LongToDoubleFunction;
import java.util.function.Supplier;
import vecopt.schedule.Schedule;
import vecopt.schedule.Sequential;

/**
 * One generated schedule: how to build it in the engine, its transcription in the reference, and what the
 * properties may assume about it.
 *
 * @param label          what it is, with its parameters (shown when a property fails)
 * @param factory        builds the engine schedule (a fresh instance each call)
 * @param reference      the same schedule from vecopt.reference.schedule
 * @param end            the last step of the schedule's defined course (T, T_max, ...); steps after it are "past the end"
 * @param peak           no step may be above it
 * @param floor          no step may be below it
 * @param warmup         the steps at the start where the lr rises from 0 (or from a start factor) towards the peak
 *                       and may be below the floor: the source's warmup length, 0 if it has none
 * @param boundUlps      ULPs of the peak by which the source's own arithmetic may cross peak or floor (0 unless
 *                       justified at the case)
 * @param continuous     adjacent phases meet at every boundary (false where the source jumps)
 * @param joinUlps       how many ULPs apart two continuous phases may meet: 1, or the roundings of both sides where
 *                       the lr is base times a multiplier ({@code ScheduleCases.roundings}, counted at the case)
 * @param monotonePhases each phase is monotone over its course
 */
record ScheduleCase(String label, Supplier<Schedule> factory, LongToDoubleFunction reference, long end, double peak,
        double floor, long warmup, int boundUlps, boolean continuous, int joinUlps, boolean monotonePhases) {

    Schedule schedule() {
        return factory.get();
    }

    /** The phases' sequential structure, or null for a one-formula schedule. */
    static Sequential phases(Schedule s) {
        return s instanceof Sequential q ? q : null;
    }

    @Override
    public String toString() {
        return label;
    }
}
