package vecopt.verification.preset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vecopt.verification.schedule.Near.assertNear;

import org.junit.jupiter.api.Test;
import vecopt.optim.AdamOptions;
import vecopt.optim.SgdOptions;
import vecopt.preset.Preset;
import vecopt.schedule.Schedule;

/**
 * The presets against the quick-reference table of the optimizer guide "Optimizers and Schedules": warmup fraction,
 * peak, decay and optimizer options of each row.
 */
class PresetTest {
    /** The warmup ends at {@code w}: the lr rises up to it and is at the peak there. */
    private static void assertWarmupEndsAt(long w, double peak, Schedule s, String what) {
        if (w > 0) {
            assertTrue(s.lr(w - 1) < s.lr(w), what + ": still rising just before the end of warmup");
            assertTrue(s.lr(0) < peak, what + ": starts below the peak");
        }
        assertEquals(peak, s.lr(w), what + ": at the peak at the end of warmup");
    }

    @Test
    void presetsMatchTheConfigurationsTable() {
        long total = 10_000;
        Schedule pre = Preset.LLM_PRETRAINING.schedule(total);
        assertEquals(100, Preset.LLM_PRETRAINING.warmupSteps(total), "1% warmup");
        assertWarmupEndsAt(100, 3e-4, pre, "LLM pre-training");
        assertEquals(3e-4, pre.lr(100), "cosine starts at the peak");
        assertTrue(pre.lr(5000) < 3e-4 && pre.lr(total) == 0.0, "cosine decay to 0");
        assertEquals(AdamOptions.LLM_PRETRAINING, Preset.LLM_PRETRAINING.adamOptions().orElseThrow());

        Schedule ft = Preset.LLM_FINE_TUNING.schedule(total);
        assertEquals(300, Preset.LLM_FINE_TUNING.warmupSteps(total), "3% warmup");
        assertWarmupEndsAt(300, 2e-5, ft, "LLM fine-tuning");
        assertEquals(2e-5, ft.lr(300));
        assertNear(1e-5, ft.lr(300 + 4850), "linear: half of the decay left");

        Schedule bert = Preset.BERT_FINE_TUNING.schedule(total);
        assertEquals(1000, Preset.BERT_FINE_TUNING.warmupSteps(total), "10% warmup");
        assertWarmupEndsAt(1000, 5e-5, bert, "BERT fine-tuning");
        assertEquals(5e-5, bert.lr(1000));
        assertEquals(AdamOptions.FINE_TUNING, Preset.BERT_FINE_TUNING.adamOptions().orElseThrow());

        Schedule cnn = Preset.CNN.schedule(total);
        assertEquals(0, Preset.CNN.warmupSteps(total), "no warmup");
        assertWarmupEndsAt(0, 1e-3, cnn, "CNN");
        assertEquals(1e-3, cnn.lr(0));
        assertEquals(1e-3, cnn.lr(3333));
        assertNear(1e-4, cnn.lr(3334), "first decay at a third");
        assertNear(1e-5, cnn.lr(9999), "second decay, and no third inside the run");
        assertEquals(SgdOptions.MOMENTUM, Preset.CNN.sgdOptions().orElseThrow());
        assertTrue(Preset.CNN.adamOptions().isEmpty());
    }

    @Test
    void titlesAreTheTableRows() {
        assertEquals("pre-training LLM", Preset.LLM_PRETRAINING.title());
        assertEquals("fine-tuning LLM", Preset.LLM_FINE_TUNING.title());
        assertEquals("fine-tuning BERT", Preset.BERT_FINE_TUNING.title());
        assertEquals("training CNN", Preset.CNN.title());
    }
}
