package vecopt.verification.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static vecopt.verification.schedule.Near.assertNear;

import org.junit.jupiter.api.Test;
import vecopt.schedule.LinearScaling;
import vecopt.schedule.WarmupSteps;

/**
 * Warmup counting and the linear scaling rule, against the warmup guide "Learning Rate Warmup" (the presets are in
 * {@code vecopt.verification.preset.PresetTest}).
 */
class ScheduleHelpersTest {
    @Test
    void warmupFromAFractionTruncatesLikePythonsInt() {
        assertEquals(1000, WarmupSteps.fraction(0.1, 10_000)); // warmup_steps = int(0.1 * total_steps)
        assertEquals(74, WarmupSteps.fraction(0.06, 1234)); // int(74.04)
        assertEquals(0, WarmupSteps.fraction(0.0, 10));
    }

    @Test
    void warmupFromEpochs() {
        assertEquals(3910, WarmupSteps.epochs(5, 782)); // warmup_epochs * steps_per_epoch
        assertEquals(782, WarmupSteps.epochs(1, 782));
        assertEquals(391, WarmupSteps.epochs(0.5, 782));
    }

    /** The warmup guide's example: base lr 1e-4 at batch 256, warmup 1000, scaled to batch 8192: 32x both. */
    @Test
    void linearScalingRule() {
        LinearScaling s = LinearScaling.of(1e-4, 1000, 256, 8192);
        assertEquals(32.0, s.ratio());
        assertNear(3.2e-3, s.lr(), "scaled lr");
        assertEquals(32_000, s.warmupSteps());
        LinearScaling down = LinearScaling.of(1e-4, 1000, 256, 100);
        assertEquals(391, down.warmupSteps(), "390.625 rounds to 391");
    }
}
