package vecopt.verification.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static vecopt.verification.schedule.Near.assertNear;

import org.junit.jupiter.api.Test;
import vecopt.schedule.DecayShape;
import vecopt.schedule.Schedule;
import vecopt.schedule.Schedules;
import vecopt.schedule.Sequential;

/**
 * The schedules of the warmup guide "Learning Rate Warmup" and the optimizer guide "Optimizers and Schedules" at
 * hand-computed points, and what they do past the end.
 */
class GuideExamplesTest {
    @Test
    void linearWarmup() {
        Schedule s = Schedules.linearWarmup(1e-4, 1000);
        assertEquals(0.0, s.lr(0));
        assertNear(5e-5, s.lr(500), "half way");
        assertEquals(1e-4, s.lr(1000));
        assertEquals(1e-4, s.lr(5000));
    }

    /**
     * The source's exponential warmup ends its ramp at 1 - e^-5 (99.3%) and then jumps to the target: a
     * discontinuity of the formula, kept (the continuity property exempts exactly this schedule).
     */
    @Test
    void exponentialWarmupAndItsJump() {
        Schedule s = Schedules.exponentialWarmup(1.0, 100);
        assertNear(1 - 1 / Math.E, s.lr(20), "1 - e^-1 at a fifth of warmup");
        assertEquals(1.0, s.lr(100));
        Sequential q = assertInstanceOf(Sequential.class, s);
        double rampAtEnd = q.schedules().get(0).lr(100);
        // 1 - e^-5 = 1 - 0.006737946999085467 = 0.9932620530009145: the jump to the target is e^-5 of it
        assertNear(0.9932620530009145, rampAtEnd, "the ramp, carried to the end of warmup, stops short");
    }

    @Test
    void warmupCosineAndHoldingTheFloor() {
        Schedule s = Schedules.warmupCosine(1e-4, 1e-5, 1000, 11_000);
        assertNear(5e-5, s.lr(500), "warmup half way");
        assertEquals(1e-4, s.lr(1000));
        assertNear(5.5e-5, s.lr(6000), "cosine half way: 1e-5 + 0.5 * 9e-5");
        assertEquals(1e-5, s.lr(11_000));
        assertEquals(1e-5, s.lr(50_000), "past total_steps: the floor (the guide says nothing; vecopt holds)");
        assertEquals(0.0, Schedules.warmupCosine(1e-4, 0, 10, 20).lr(20), "the warmup guide's get_lr decays to 0");
    }

    @Test
    void decays() {
        assertNear(0.75, Schedules.linearDecay(1.0, 100).lr(25), "1 - 25/100");
        assertEquals(0.0, Schedules.linearDecay(1.0, 100).lr(150), "past total: 0");
        assertNear(0.55, Schedules.cosineDecay(1.0, 0.1, 100).lr(50), "0.1 + 0.45 (1 + cos(pi/2))");
        assertEquals(0.1, Schedules.cosineDecay(1.0, 0.1, 100).lr(150), "past total: the floor");
        assertNear(1e-4, Schedules.stepDecay(1e-3, 0.1, 30).lr(30), "one decay");
        assertEquals(1e-3, Schedules.stepDecay(1e-3, 0.1, 30).lr(29));
    }

    @Test
    void warmupStableDecay() {
        Schedule s = Schedules.warmupStableDecay(1.0, 0.1, 10, 20, 10, DecayShape.LINEAR);
        assertEquals(0.0, s.lr(0));
        assertEquals(1.0, s.lr(10));
        assertEquals(1.0, s.lr(29));
        assertEquals(1.0, s.lr(30), "decay's first step is the peak");
        assertNear(0.55, s.lr(35), "0.1 + 0.9 * 0.5");
        assertEquals(0.1, s.lr(40));
        assertEquals(0.1, s.lr(1000));
        assertNear(0.55, Schedules.warmupStableDecay(1.0, 0.1, 0, 0, 100, DecayShape.COSINE).lr(50),
                "cosine decay half way");
        // the warmup is the first phase and ends at step 10, where the stable phase takes over
        Sequential q = assertInstanceOf(Sequential.class, s);
        assertEquals(10, q.milestones()[0], "warmup ends at W");
        assertEquals(0, q.phaseOf(9));
        assertEquals(1, q.phaseOf(10));
    }
}
