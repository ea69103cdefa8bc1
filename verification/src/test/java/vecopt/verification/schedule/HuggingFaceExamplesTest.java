package vecopt.verification.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static vecopt.verification.schedule.Near.assertNear;

import org.junit.jupiter.api.Test;
import vecopt.schedule.DecayShape;
import vecopt.schedule.HuggingFace;
import vecopt.schedule.Schedule;

/** Hugging Face schedules at hand-computed points, with warmup 10 and 100 decay steps unless said otherwise. */
class HuggingFaceExamplesTest {
    @Test
    void linearWithWarmup() {
        Schedule s = HuggingFace.linearScheduleWithWarmup(2e-3, 10, 110);
        assertEquals(0.0, s.lr(0), "step 0 of a Hugging Face warmup is 0");
        assertNear(1e-3, s.lr(5), "half way through warmup");
        assertEquals(2e-3, s.lr(10));
        assertNear(1e-3, s.lr(60), "half way through the decay");
        assertEquals(0.0, s.lr(110));
        assertEquals(0.0, s.lr(500), "past num_training_steps: max(0, ...) = 0");
    }

    @Test
    void cosineWithWarmup() {
        Schedule s = HuggingFace.cosineScheduleWithWarmup(1.0, 10, 110);
        assertEquals(1.0, s.lr(10));
        assertNear(0.5 * (1 + Math.sqrt(0.5)), s.lr(35), "quarter way: 0.5 (1 + cos(pi/4))");
        assertNear(0.5, s.lr(60), "half way");
        assertEquals(0.0, s.lr(110), "end: 0.5 (1 + cos(pi)) = 0");
        assertNear(0.5, s.lr(160), "past the end Hugging Face's cosine climbs again: 0.5 (1 + cos(1.5 pi))");
        Schedule twoCycles = HuggingFace.cosineScheduleWithWarmup(1.0, 10, 110, 1.0);
        assertNear(1.0, twoCycles.lr(110), "one full cycle ends back at the peak");
    }

    @Test
    void cosineWithHardRestarts() {
        Schedule s = HuggingFace.cosineWithHardRestartsScheduleWithWarmup(1.0, 10, 110, 2);
        assertNear(0.5, s.lr(35), "a quarter of the run is half of the first cycle");
        assertEquals(1.0, s.lr(60), "the restart");
        assertNear(0.5, s.lr(85), "half of the second cycle");
        assertEquals(0.0, s.lr(110), "progress >= 1: 0");
        assertEquals(0.0, s.lr(1000), "and after");
    }

    /** lr_init 1e-3, lr_end 1e-7, power 2, no warmup, 100 steps: (1e-3 - 1e-7) * 0.5^2 + 1e-7 = 2.50075e-4 at 50. */
    @Test
    void polynomialDecayWithWarmup() {
        Schedule s = HuggingFace.polynomialDecayScheduleWithWarmup(1e-3, 0, 100, 1e-7, 2.0);
        assertEquals(1e-3, s.lr(0));
        assertNear(2.50075e-4, s.lr(50), "half way");
        assertNear(1e-7, s.lr(100), "num_training_steps: lr_end");
        assertNear(1e-7, s.lr(101), "past it: lr_end / lr_init, times lr_init");
    }

    @Test
    void constantWithWarmupAndConstant() {
        Schedule s = HuggingFace.constantScheduleWithWarmup(1.0, 4);
        assertEquals(0.25, s.lr(1));
        assertEquals(0.75, s.lr(3));
        assertEquals(1.0, s.lr(4));
        assertEquals(1.0, s.lr(1_000_000));
        assertEquals(3e-4, HuggingFace.constantSchedule(3e-4).lr(123));
        assertEquals(1.0, HuggingFace.constantScheduleWithWarmup(1.0, 0).lr(0), "no warmup: the peak at once");
    }

    /** W 10, stable 20, decay 10, linear both ways, min ratio 0.1: factor = f (1 - 0.1) + 0.1. */
    @Test
    void warmupStableDecay() {
        Schedule s = HuggingFace.wsdSchedule(1.0, 10, 20, 10, DecayShape.LINEAR, DecayShape.LINEAR, 0.1, 0.5);
        assertNear(0.1, s.lr(0), "Hugging Face's wsd warmup starts at the min ratio");
        assertNear(0.55, s.lr(5), "0.5 * 0.9 + 0.1");
        assertEquals(1.0, s.lr(10));
        assertEquals(1.0, s.lr(29));
        assertNear(0.55, s.lr(35), "half way through the decay");
        assertNear(0.1, s.lr(40), "floor");
        assertNear(0.1, s.lr(400), "floor for ever");
        Schedule sqrt = HuggingFace.wsdSchedule(1.0, 0, 0, 100, DecayShape.LINEAR, DecayShape.ONE_MINUS_SQRT, 0, 0.5);
        assertNear(0.5, sqrt.lr(25), "1 - sqrt(0.25)");
    }

    @Test
    void multiplierTimesGroupBaseLrIsLambdaLr() {
        Schedule multiplier = HuggingFace.linearScheduleWithWarmup(1.0, 10, 110);
        Schedule group = multiplier.scaled(3e-4);
        for (long t = 0; t < 200; t++) {
            assertEquals(3e-4 * multiplier.lr(t), group.lr(t)); // base_lr * lmbda(epoch), the same product
        }
    }
}
