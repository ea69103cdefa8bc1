package vecopt.verification.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vecopt.verification.schedule.Near.assertNear;

import org.junit.jupiter.api.Test;
import vecopt.optim.AdamOptions;
import vecopt.optim.SgdOptions;
import vecopt.schedule.LinearScaling;
import vecopt.schedule.Preset;
import vecopt.schedule.Schedule;
import vecopt.schedule.WarmupSteps;

/** Warmup counting, the linear scaling rule and the configuration presets, against the reference material. */
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

    /** The seeds' example: base lr 1e-4 at batch 256, warmup 1000, scaled to batch 8192: 32x both. */
    @Test
    void linearScalingRule() {
        LinearScaling s = LinearScaling.of(1e-4, 1000, 256, 8192);
        assertEquals(32.0, s.ratio());
        assertNear(3.2e-3, s.lr(), "scaled lr");
        assertEquals(32_000, s.warmupSteps());
        LinearScaling down = LinearScaling.of(1e-4, 1000, 256, 100);
        assertEquals(391, down.warmupSteps(), "390.625 rounds to 391");
    }

    @Test
    void presetsMatchTheConfigurationsTable() {
        long total = 10_000;
        Schedule pre = Preset.LLM_PRETRAINING.schedule(total);
        assertEquals(100, pre.warmupSteps(), "1% warmup");
        assertEquals(3e-4, pre.lr(100), "cosine starts at the peak");
        assertTrue(pre.lr(5000) < 3e-4 && pre.lr(total) == 0.0, "cosine decay to 0");
        assertEquals(AdamOptions.LLM_PRETRAINING, Preset.LLM_PRETRAINING.adamOptions().orElseThrow());

        Schedule ft = Preset.LLM_FINE_TUNING.schedule(total);
        assertEquals(300, ft.warmupSteps(), "3% warmup");
        assertEquals(2e-5, ft.lr(300));
        assertNear(1e-5, ft.lr(300 + 4850), "linear: half of the decay left");

        Schedule bert = Preset.BERT_FINE_TUNING.schedule(total);
        assertEquals(1000, bert.warmupSteps(), "10% warmup");
        assertEquals(5e-5, bert.lr(1000));
        assertEquals(AdamOptions.FINE_TUNING, Preset.BERT_FINE_TUNING.adamOptions().orElseThrow());

        Schedule cnn = Preset.CNN.schedule(total);
        assertEquals(0, cnn.warmupSteps(), "no warmup");
        assertEquals(1e-3, cnn.lr(0));
        assertEquals(1e-3, cnn.lr(3333));
        assertNear(1e-4, cnn.lr(3334), "first decay at a third");
        assertNear(1e-5, cnn.lr(9999), "second decay, and no third inside the run");
        assertEquals(SgdOptions.MOMENTUM, Preset.CNN.sgdOptions().orElseThrow());
        assertTrue(Preset.CNN.adamOptions().isEmpty());
    }
}
