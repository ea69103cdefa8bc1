package vecopt.verification.schedule;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Comparison of a computed lr with a hand-computed value, in ULPs of the expected value. */
public final class Near {
    /**
     * Hand values here are short decimals; the schedules reach them through at most five roundings (each at most half
     * an ULP of an intermediate no larger than the result's binade, times a factor <= 1) and the decimal itself is
     * off by half an ULP: four ULPs bound the distance.
     */
    public static final int HAND_ULPS = 4;

    private Near() {
    }

    public static void assertNear(double expected, double actual, String what) {
        double tol = HAND_ULPS * Math.ulp(expected);
        assertTrue(Math.abs(expected - actual) <= tol,
                () -> what + ": expected " + expected + " (within " + HAND_ULPS + " ULPs), got " + actual);
    }
}
