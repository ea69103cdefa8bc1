package vecopt.verification;

/** Assertions whose failures read as a counter-example: what, where, engine, reference, bound. */
final class Check {
    private Check() {
    }

    /** |engine - reference| <= bound, with NaN and infinities required to agree exactly. */
    static void within(String what, String at, float engine, float reference, double bound) {
        if (Float.isNaN(engine) || Float.isNaN(reference) || Float.isInfinite(engine) || Float.isInfinite(reference)) {
            if (Float.compare(engine, reference) != 0) {
                throw new AssertionError(what + " at " + at + ": engine " + engine + " but reference " + reference);
            }
            return;
        }
        double diff = Math.abs((double) engine - reference);
        if (!(diff <= bound)) {
            throw new AssertionError(what + " at " + at + ": engine " + engine + ", reference " + reference
                    + ", |diff| " + diff + " > derived bound " + bound + " (" + (diff / Math.ulp(reference))
                    + " ulp of the reference)");
        }
    }

    /** {@code call} throws {@code type} with a message that contains every fragment (a parameter, a value). */
    static void rejects(Class<? extends Throwable> type, org.junit.jupiter.api.function.Executable call,
                        String... fragments) {
        Throwable t = org.junit.jupiter.api.Assertions.assertThrows(type, call);
        for (String f : fragments) {
            if (!t.getMessage().contains(f)) {
                throw new AssertionError("message '" + t.getMessage() + "' should mention '" + f + "'");
            }
        }
    }

    /**
     * {@code |actual - expected| <= 2^-20 |expected|}: for the hand-computed examples, whose expected values are the
     * exact formula (computed in double) and whose engine values went through at most a dozen float roundings
     * without cancellation, each within 2^-24 relative.
     */
    static void near(String what, double expected, float actual) {
        if (!(Math.abs(actual - expected) <= 0x1p-20 * Math.abs(expected))) {
            throw new AssertionError(what + ": expected " + expected + " (by hand), engine " + actual);
        }
    }

    static void guards(Rig rig) {
        if (!rig.guardsIntact()) {
            throw new AssertionError("an element outside the tensor's range was written");
        }
    }

    static void bitwiseEqual(String what, float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError(what + ": lengths " + a.length + " and " + b.length);
        }
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                throw new AssertionError(what + ": element " + i + " differs: " + a[i] + " vs " + b[i]);
            }
        }
    }
}
