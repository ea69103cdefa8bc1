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
