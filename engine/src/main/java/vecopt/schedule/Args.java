package vecopt.schedule;

/**
 * Argument checks whose messages name the parameter and the offending value. Every check runs when a schedule is
 * built, so a bad configuration fails at start-up rather than thousands of steps into a run.
 */
final class Args {
    private Args() {
    }

    static long step(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        return step;
    }

    static double lr(String name, double value) {
        if (!(value >= 0) || value == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException(name + " must be finite and >= 0, got " + value);
        }
        return value;
    }

    static double positive(String name, double value) {
        if (!(value > 0) || value == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException(name + " must be finite and > 0, got " + value);
        }
        return value;
    }

    static double nonNegative(String name, double value) {
        return lr(name, value);
    }

    /** value in [lo, hi], both inclusive; NaN fails. */
    static double closed(String name, double value, double lo, double hi) {
        if (!(value >= lo && value <= hi)) {
            throw new IllegalArgumentException(name + " must be in [" + lo + ", " + hi + "], got " + value);
        }
        return value;
    }

    /** value in (lo, hi]; NaN fails. */
    static double openClosed(String name, double value, double lo, double hi) {
        if (!(value > lo && value <= hi)) {
            throw new IllegalArgumentException(name + " must be in (" + lo + ", " + hi + "], got " + value);
        }
        return value;
    }

    static long positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
        return value;
    }

    static long nonNegative(String name, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0, got " + value);
        }
        return value;
    }

    /** The rule for every warmup-then-decay schedule: the decay phase must have at least one step. */
    static void totalAfterWarmup(String totalName, long total, String warmupName, long warmup) {
        nonNegative(warmupName, warmup);
        if (total <= warmup) {
            throw new IllegalArgumentException(totalName + " must be > " + warmupName + " (" + warmup + "), got "
                    + total);
        }
    }

    static <T> T notNull(String name, T value) {
        if (value == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        return value;
    }
}
