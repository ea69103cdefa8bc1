package vecopt.verification.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple2;
import vecopt.schedule.Schedule;
import vecopt.schedule.Sequential;

/**
 * The properties every schedule family must have (closed form equal to its source's, random access, bounds,
 * monotone phases, continuity), checked against its transcription in the reference module. Tries are
 * sized to keep the class near a second or two (cheap single-step checks get more, whole-course walks fewer); each
 * passed 20 000 tries when written.
 */
class ScheduleProperties {

    @Provide
    Arbitrary<ScheduleCase> cases() {
        return ScheduleCases.all();
    }

    /** A case and a step: its boundaries and both sides of them first, then anywhere up to twice its course. */
    @Provide
    Arbitrary<Tuple2<ScheduleCase, Long>> casesAndSteps() {
        return ScheduleCases.all().flatMap(c -> {
            Sequential q = ScheduleCase.phases(c.schedule());
            List<Long> special = new ArrayList<>(List.of(0L, 1L, c.end() - 1, c.end(), c.end() + 1));
            if (q != null) {
                for (long m : q.milestones()) {
                    special.add(m - 1);
                    special.add(m);
                }
            }
            Arbitrary<Long> steps = Arbitraries.oneOf(List.of(
                    Arbitraries.of(special.stream().filter(s -> s >= 0).toList()),
                    Arbitraries.longs().between(0, 2 * c.end() + 10)));
            return steps.map(s -> Tuple.of(c, s));
        });
    }

    /**
     * Engine and reference evaluate the same operations in the same order with the same {@code Math} functions, so
     * they must agree to the bit: tolerance 0.
     */
    @Property(tries = 1000)
    void equalsItsClosedFormFromTheReference(@ForAll("casesAndSteps") Tuple2<ScheduleCase, Long> cs) {
        ScheduleCase c = cs.get1();
        long step = cs.get2();
        double engine = c.schedule().lr(step);
        double reference = c.reference().applyAsDouble(step);
        assertEquals(Double.doubleToLongBits(reference), Double.doubleToLongBits(engine),
                () -> c + " at step " + step + ": engine " + engine + ", reference " + reference);
    }

    /**
     * Random access equals sequential evaluation: the values of steps 0..n asked in order equal, bit for bit, the
     * values asked in a shuffled order of a fresh instance, and asked again of the first instance afterwards (nothing
     * is cached or carried from one call to the next).
     */
    @Property(tries = 200)
    void randomAccessEqualsSequentialEvaluation(@ForAll("cases") ScheduleCase c, @ForAll long seed) {
        int n = (int) Math.min(2 * c.end() + 2, 3000);
        Schedule sequential = c.schedule();
        double[] inOrder = new double[n];
        for (int s = 0; s < n; s++) {
            inOrder[s] = sequential.lr(s);
        }
        List<Integer> order = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            order.add(s);
        }
        Collections.shuffle(order, new Random(seed));
        Schedule fresh = c.schedule();
        for (int s : order) {
            double v = fresh.lr(s);
            double again = sequential.lr(s);
            assertEquals(Double.doubleToLongBits(inOrder[s]), Double.doubleToLongBits(v),
                    () -> c + ": step " + s + " asked out of order");
            assertEquals(Double.doubleToLongBits(inOrder[s]), Double.doubleToLongBits(again),
                    () -> c + ": step " + s + " asked again");
        }
    }

    /**
     * Never above the peak, never below the floor (from the end of warmup on; a warmup starts from 0), at every step
     * of the course and past it. The bound is exact except where the case counts the roundings by which the
     * source's own arithmetic may cross it ({@code ScheduleCases.roundings}, ULPs of the peak).
     */
    @Property(tries = 300)
    void neverAbovePeakNeverBelowFloor(@ForAll("cases") ScheduleCase c) {
        Schedule s = c.schedule();
        double over = c.boundUlps() * Math.ulp(c.peak());
        double under = over; // the sources' roundings are relative to the larger operands, i.e. to the peak
        long n = Math.min(2 * c.end() + 2, 5000);
        for (long t = 0; t < n; t++) {
            double v = s.lr(t);
            long step = t;
            if (t < c.warmup()) {
                assertTrue(v >= 0 && v <= c.peak() + over, () -> c + " at warmup step " + step + ": " + v);
                continue;
            }
            assertTrue(v <= c.peak() + over, () -> c + " at step " + step + ": " + v + " above peak " + c.peak());
            assertTrue(v >= c.floor() - under, () -> c + " at step " + step + ": " + v + " below floor " + c.floor());
        }
    }

    /**
     * Monotone in each phase: over each phase's own course (its local steps 0 .. length, the last being where the
     * next phase takes over), the values never change direction. For one-formula schedules the course is
     * 0 .. end.
     */
    @Property(tries = 300)
    void monotoneInEachPhase(@ForAll("cases") ScheduleCase c) {
        if (!c.monotonePhases()) {
            return; // cycling cosines and restarts: the generator says so, the other properties still hold
        }
        Schedule s = c.schedule();
        Sequential q = ScheduleCase.phases(s);
        if (q == null) {
            assertMonotone(c, "whole", s, c.end());
            return;
        }
        long[] m = q.milestones();
        for (int i = 0; i < q.schedules().size(); i++) {
            long start = q.start(i);
            long length = i < m.length ? m[i] - start : c.end() - start;
            if (length > 0) {
                assertMonotone(c, "phase " + i, q.schedules().get(i), length);
            }
        }
    }

    private static void assertMonotone(ScheduleCase c, String phase, Schedule s, long length) {
        double first = s.lr(0);
        double last = s.lr(length);
        int direction = Double.compare(last, first);
        double prev = first;
        for (long t = 1; t <= length; t++) {
            double v = s.lr(t);
            long step = t;
            double p = prev;
            if (direction >= 0) {
                assertTrue(v >= p, () -> c + ", " + phase + ": falls at local step " + step + " (" + p + " -> " + v
                        + ") in a rising phase");
            }
            if (direction <= 0) {
                assertTrue(v <= p, () -> c + ", " + phase + ": rises at local step " + step + " (" + p + " -> " + v
                        + ") in a falling phase");
            }
            prev = v;
        }
    }

    /**
     * Continuity at phase boundaries: where the schedule's formula is continuous, the phase before a milestone,
     * carried to the milestone (its local step = its length), and the phase after it, at its local step 0, agree
     * within one ULP (each side's arithmetic rounds differently; the exact values are equal), or within the
     * case's counted roundings where the source multiplies a base lr by a multiplier ({@code ScheduleCases.roundings}).
     */
    @Property(tries = 1000)
    void phasesMeetAtTheirBoundaries(@ForAll("cases") ScheduleCase c) {
        Sequential q = ScheduleCase.phases(c.schedule());
        if (q == null || !c.continuous()) {
            return; // one formula: nothing to join; a jump by design is tested in GuideExamplesTest
        }
        long[] m = q.milestones();
        for (int i = 0; i < m.length; i++) {
            double left = q.schedules().get(i).lr(m[i] - q.start(i));
            double right = q.schedules().get(i + 1).lr(0);
            double ulp = c.joinUlps() * Math.ulp(Math.max(Math.abs(left), Math.abs(right)));
            int boundary = i;
            assertTrue(Math.abs(left - right) <= ulp, () -> c + ": at milestone " + m[boundary] + " phase "
                    + boundary + " ends at " + left + " but phase " + (boundary + 1) + " starts at " + right);
        }
    }
}
