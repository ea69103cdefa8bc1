package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import vecopt.clip.NonFinite;
import vecopt.clip.NonFiniteParameterException;
import vecopt.optim.AdamW;
import vecopt.optim.StepReport;

/**
 * {@code checkParams(true)}: a NaN or infinite parameter is found before the update, in the guard's read pass, and
 * handled by the non-finite policy; and a report says whether its norms were computed, so that "not computed" is
 * not confused with a NaN.
 */
class ParameterCheckTest {
    private static Rig rigWithBadParameter(float bad, int at) {
        Rig rig = new Rig(3, 5000, true);
        rig.setParams(Rig.values(new SplittableRandom(1), 5000, -2, 3));
        rig.setGrads(Rig.values(new SplittableRandom(2), 5000, -6, 4));
        rig.params.set(rig.offset + at, bad);
        return rig;
    }

    @Test
    void throwNamesTheTensorAndElementAndWritesNothing() {
        try (Rig rig = rigWithBadParameter(Float.NaN, 4321);
             AdamW opt = AdamW.builder(rig.set).checkParams(true).onNonFinite(NonFinite.THROW).build()) {
            float[] before = rig.params();
            NonFiniteParameterException e = assertThrows(NonFiniteParameterException.class, () -> opt.step(1e-3));
            assertEquals("w", e.tensor());
            assertEquals(4321, e.index());
            Check.bitwiseEqual("params", before, rig.params());
            assertEquals(0, opt.steps());
        }
    }

    @Test
    void skipLeavesEverythingAndSaysWhy() {
        try (Rig rig = rigWithBadParameter(Float.POSITIVE_INFINITY, 0);
             AdamW opt = AdamW.builder(rig.set).checkParams(true).build()) {
            float[] before = rig.params();
            StepReport r = opt.step(1e-3);
            assertTrue(r.skipped() && r.nonFiniteParams(), r.toString());
            assertTrue(r.toString().contains("non-finite parameter"), r.toString());
            Check.bitwiseEqual("params", before, rig.params());
        }
    }

    @Test
    void withoutTheCheckANaNParameterGoesThroughAsInPyTorch() {
        try (Rig rig = rigWithBadParameter(Float.NaN, 10);
             AdamW opt = AdamW.builder(rig.set).onNonFinite(NonFinite.THROW).build()) {
            StepReport r = opt.step(1e-3);
            assertFalse(r.skipped());
            assertTrue(Float.isNaN(rig.params()[10]));
        }
    }

    @Test
    void reportsTellNotComputedFromNaN() {
        try (Rig rig = new Rig(0, 100, false);
             AdamW plain = AdamW.builder(rig.set).onNonFinite(NonFinite.PROCEED).build()) {
            StepReport r = plain.step(1e-3);
            assertFalse(r.gradNormComputed());
            assertFalse(r.normsTracked());
            assertTrue(r.toString().contains("gradNorm=not computed") && r.toString().contains("norms not tracked"),
                    r.toString());
            assertTrue(r.toString().contains("kernels=" + r.kernels()) && !r.kernels().isBlank(), r.toString());
        }
        try (Rig rig = new Rig(0, 100, false);
             AdamW tracked = AdamW.builder(rig.set).trackNorms(true).build()) {
            StepReport r = tracked.step(1e-3);
            assertTrue(r.gradNormComputed() && r.normsTracked(), r.toString());
            assertTrue(Double.isFinite(r.updateNorm()) && Double.isFinite(r.paramNorm()), r.toString());
        }
    }
}
