package vecopt.check;

/**
 * The engine's one set of argument checks. Each returns the value it accepted and otherwise throws an
 * {@link IllegalArgumentException} (a {@link NullPointerException} for null) whose message names the parameter and
 * the offending value, e.g. {@code "beta2 must be in [0, 1), got 1.0"}. NaN fails every numeric check.
 *
 * <p>Internal: not exported from the engine module.
 */
public final class Require {
    private Require() {
    }

    /** {@code value} is neither NaN nor infinite. */
    public static double finite(String name, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(name + " must be a finite number, got " + value);
        }
        return value;
    }

    /** {@code value} is finite and {@code >= 0}. */
    public static double nonNegative(String name, double value) {
        if (!(value >= 0) || value == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException(name + " must be finite and >= 0, got " + value);
        }
        return value;
    }

    /** {@code value} is finite and {@code > 0}. */
    public static double positive(String name, double value) {
        if (!(value > 0) || value == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException(name + " must be finite and > 0, got " + value);
        }
        return value;
    }

    /** {@code value} is in {@code [0, 1)}: a decay rate such as beta1 or momentum. */
    public static double unitInterval(String name, double value) {
        if (!(value >= 0 && value < 1)) {
            throw new IllegalArgumentException(name + " must be in [0, 1), got " + value);
        }
        return value;
    }

    /** {@code value} is in {@code [lo, hi]}. */
    public static double closed(String name, double value, double lo, double hi) {
        if (!(value >= lo && value <= hi)) {
            throw new IllegalArgumentException(name + " must be in [" + lo + ", " + hi + "], got " + value);
        }
        return value;
    }

    /** {@code value} is in {@code (lo, hi]}. */
    public static double openClosed(String name, double value, double lo, double hi) {
        if (!(value > lo && value <= hi)) {
            throw new IllegalArgumentException(name + " must be in (" + lo + ", " + hi + "], got " + value);
        }
        return value;
    }

    /** {@code value > 0}. */
    public static long positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
        return value;
    }

    /** {@code value >= 0}. */
    public static long nonNegative(String name, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0, got " + value);
        }
        return value;
    }

    /** {@code value >= min}. */
    public static long atLeast(String name, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be >= " + min + ", got " + value);
        }
        return value;
    }

    /** {@code value} is not null; throws {@link NullPointerException} naming it otherwise. */
    public static <T> T notNull(String name, T value) {
        if (value == null) {
            throw new NullPointerException(name + " must not be null");
        }
        return value;
    }
}
