package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RegressionTest {
    // Ratios and their errors are computed from a handful of double operations on values near 1: 1e-12 is far above
    // their rounding error (a few ulps of 1, ~1e-16) and far below any difference that matters to a verdict.
    private static final double EPS = 1e-12;

    @Test
    void aDropBeyondThresholdAndErrorIsARegression() {
        // 100 ± 0 -> 85 ± 0: ratio 0.85 < 0.90
        Regression.Verdict v = Regression.judge(100, 0, 85, 0, 0.10);
        assertEquals(0.85, v.ratio(), EPS);
        assertEquals(0.0, v.error(), EPS);
        assertTrue(v.regressed());
        assertFalse(v.improved());
    }

    @Test
    void theErrorBarCanExcuseADrop() {
        // 100 ± 5 -> 85 ± 6: ratio 0.85, error 0.85 * sqrt(0.05^2 + (6/85)^2) = 0.0735...; 0.85 + 0.0735 > 0.90
        Regression.Verdict v = Regression.judge(100, 5, 85, 6, 0.10);
        assertEquals(0.85 * Math.sqrt(0.05 * 0.05 + (6.0 / 85) * (6.0 / 85)), v.error(), EPS);
        assertFalse(v.regressed());
        // ... but not a drop twice as deep
        assertTrue(Regression.judge(100, 5, 70, 6, 0.10).regressed());
    }

    @Test
    void aDropWithinTheThresholdIsNot() {
        assertFalse(Regression.judge(100, 0, 91, 0, 0.10).regressed());
        // the boundary itself: 0.9 is not below 0.9 (strict rule)
        assertFalse(Regression.judge(100, 0, 90, 0, 0.10).regressed());
        assertTrue(Regression.judge(100, 0, 89.99, 0, 0.10).regressed());
    }

    @Test
    void thresholdIsAParameter() {
        assertTrue(Regression.judge(100, 0, 96, 0, 0.03).regressed());
        assertFalse(Regression.judge(100, 0, 96, 0, 0.05).regressed());
    }

    @Test
    void improvementsAreFlaggedNotFailed() {
        Regression.Verdict v = Regression.judge(100, 1, 130, 1, 0.10);
        assertTrue(v.improved());
        assertFalse(v.regressed());
        assertEquals("improved", v.label());
    }

    @Test
    void badInputIsRejectedNamingTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Regression.judge(0, 0, 1, 0, 0.1));
        assertTrue(e.getMessage().contains("old") && e.getMessage().contains("0.0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Regression.judge(1, -1, 1, 0, 0.1));
        assertThrows(IllegalArgumentException.class, () -> Regression.judge(1, 0, Double.NaN, 0, 0.1));
        IllegalArgumentException t = assertThrows(IllegalArgumentException.class,
                () -> Regression.judge(1, 0, 1, 0, 1.5));
        assertTrue(t.getMessage().contains("threshold") && t.getMessage().contains("1.5"), t.getMessage());
    }
}
