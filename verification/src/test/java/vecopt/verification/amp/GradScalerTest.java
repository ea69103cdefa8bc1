package vecopt.verification.amp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import vecopt.amp.GradScaler;
import vecopt.clip.NonFinite;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;

/**
 * Loss scaling as PyTorch's {@code GradScaler}: the scale's update rule, and a step from scaled gradients equal bit for
 * bit to the step from the unscaled ones (clipped by the unscaled norm), skipped with nothing written on an infinity.
 */
class GradScalerTest {
    private static final int N = 1000 + 7; // a tail after the whole vectors

    private record Model(float[] p, float[] g, AdamW opt) {
        static Model of(float[] params, boolean clip, NonFinite policy) {
            float[] p = params.clone(), g = new float[N];
            ParamSet set = ParamSet.builder().add("w", Storage.of(p), Storage.of(g), 0, N).build();
            AdamW.Builder b = AdamW.builder(set).options(AdamOptions.LLM_PRETRAINING).threads(1).onNonFinite(policy);
            if (clip) {
                b.clipGradNorm(1.0);
            }
            return new Model(p, g, b.build());
        }
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }

    @Test
    void theScaleFollowsPyTorchsUpdateRule() {
        GradScaler s = new GradScaler(1024, 2, 0.5, 3);
        s.update(false);
        s.update(false);
        assertEquals(1024, s.scale());
        assertEquals(2, s.growthTracker());
        s.update(false); // the third finite step in a row: grow, reset
        assertEquals(2048, s.scale());
        assertEquals(0, s.growthTracker());
        s.update(false);
        s.update(true); // an infinity: back off, reset
        assertEquals(1024, s.scale());
        assertEquals(0, s.growthTracker());
        GradScaler top = new GradScaler(Double.MAX_VALUE, 2, 0.5, 1);
        top.update(false); // growing would overflow: the scale stays
        assertEquals(Double.MAX_VALUE, top.scale());
        assertEquals(0, top.growthTracker());
        GradScaler d = new GradScaler();
        assertEquals(65536, d.scale());
    }

    @Test
    void aScaledStepIsTheUnscaledStepBitForBit() {
        SplittableRandom r = new SplittableRandom(5);
        float[] params = new float[N];
        for (int i = 0; i < N; i++) {
            params[i] = (float) r.nextDouble(-1, 1);
        }
        for (boolean clip : new boolean[] {false, true}) {
            Model scaled = Model.of(params, clip, NonFinite.SKIP), plain = Model.of(params, clip, NonFinite.SKIP);
            GradScaler scaler = new GradScaler(65536, 2, 0.5, 3); // grows during the run: 2^16, then 2^17, 2^18
            for (int step = 0; step < 8; step++) {
                double scale = scaler.scale();
                for (int i = 0; i < N; i++) {
                    float g = (float) (r.nextGaussian() * (clip ? 0.2 : 0.01)); // clipped on some steps with clip
                    plain.g[i] = g;
                    scaled.g[i] = (float) (g * scale); // exact: a power of two
                }
                StepReport a = scaled.opt.step(1e-3, scaler);
                StepReport b = plain.opt.step(1e-3);
                assertEquals(scale, a.lossScale());
                assertEquals(b.gradNorm(), a.gradNorm(), 0.0, "the unscaled norm, step " + step);
                assertEquals(b.clipCoef(), a.clipCoef(), 0.0);
                assertArrayEquals(bits(plain.p), bits(scaled.p), "clip " + clip + ", step " + step);
                for (String v : plain.opt.stateNames()) {
                    assertTrue(plain.opt.state("w", v).mismatch(scaled.opt.state("w", v)) == -1, v);
                }
            }
            assertEquals(65536.0 * 4, scaler.scale()); // grew after steps 3 and 6
            if (clip) {
                assertTrue(scaled.opt.steps() == 8);
            }
        }
    }

    @Test
    void anInfinityIsSkippedWithNothingWrittenAndTheScaleBacksOff() {
        float[] params = new float[N];
        java.util.Arrays.fill(params, 0.5f);
        for (NonFinite policy : NonFinite.values()) { // found-inf skips whatever the policy
            Model m = Model.of(params, false, policy);
            GradScaler scaler = new GradScaler();
            java.util.Arrays.fill(m.g, 1e-3f * 65536);
            m.opt.step(1e-3, scaler);
            float[] before = m.p.clone();
            m.g[N - 1] = Float.POSITIVE_INFINITY; // overflowed in the scaled backward pass
            StepReport r = m.opt.step(1e-3, scaler);
            assertTrue(r.skipped(), policy.toString());
            assertArrayEquals(bits(before), bits(m.p), policy.toString());
            assertEquals(32768, scaler.scale());
            assertEquals(65536, r.lossScale());
            assertEquals(1, m.opt.steps());
        }
    }

    @Test
    void badSettingsAreRejectedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new GradScaler(0, 2, 0.5, 10)).getMessage()
                .contains("initScale"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new GradScaler(1, 1, 0.5, 10)).getMessage()
                .contains("growthFactor"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new GradScaler(1, 2, 1, 10)).getMessage()
                .contains("backoffFactor"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new GradScaler(1, 2, 0.5, 0)).getMessage()
                .contains("growthInterval"));
        GradScaler s = new GradScaler(1, 2, 0.5, 10);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> s.restore(4, 10)).getMessage()
                .contains("growthTracker"));
        s.restore(4, 9);
        assertEquals(4, s.scale());
        assertFalse(s.toString().isEmpty());
    }
}
