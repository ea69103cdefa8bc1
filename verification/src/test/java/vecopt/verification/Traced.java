package vecopt.verification;

/**
 * A value of a floating-point computation traced in double, with a rigorous bound on its distance from the exact
 * real-number result of the same formula: the running error analysis of Higham, "Accuracy and Stability of Numerical
 * Algorithms", ch. 2-3, under the standard model {@code fl(a op b) = (a op b)(1 + d), |d| <= u}, plus an absolute
 * term for results in the subnormal range.
 *
 * <p>The tests build one trace that follows the engine's float operation sequence and one that follows the
 * reference's (double, rounded to float where it stores state); the tolerance of a comparison is the sum of the two
 * bounds. Nothing in it is tuned: each term is one rounding or one propagated input error.
 *
 * @param x   the traced value (the exact result, up to double rounding, which the padding of {@code u} absorbs)
 * @param err bound on |computed - exact|
 */
public record Traced(double x, double err) {
    /** A way of rounding: unit roundoff and the absolute error a rounding may add below the normal range. */
    public record Precision(double u, double eta) {
        /** float: u = 2^-24, padded by 2^-20 relative to cover the double arithmetic that traces it; eta = 2^-150. */
        public static final Precision FLOAT = new Precision(0x1p-24 * (1 + 0x1p-20), 0x1p-150);
        /** double: u = 2^-53 padded to 2^-52; eta = 2^-1075. */
        public static final Precision DOUBLE = new Precision(0x1p-52, 0x1p-1074);
    }

    /** A float input, known exactly. */
    public static Traced exact(double x) {
        return new Traced(x, 0);
    }

    /** The constant {@code c} (computed in double) as the engine uses it: rounded to float once. */
    public static Traced floatConstant(double c) {
        return new Traced(c, Math.abs(c - (float) c) + Math.abs(c) * 0x1p-50);
    }

    /** The constant {@code c} computed in double by a few operations. */
    public static Traced doubleConstant(double c) {
        return new Traced(c, Math.abs(c) * 0x1p-50);
    }

    public Traced round(Precision p) {
        return new Traced(x, err + p.u() * (Math.abs(x) + err) + p.eta());
    }

    public static Traced mul(Traced a, Traced b, Precision p) {
        double e = Math.abs(a.x) * b.err + Math.abs(b.x) * a.err + a.err * b.err;
        return new Traced(a.x * b.x, e).round(p);
    }

    public static Traced add(Traced a, Traced b, Precision p) {
        return new Traced(a.x + b.x, a.err + b.err).round(p);
    }

    public static Traced sub(Traced a, Traced b, Precision p) {
        return new Traced(a.x - b.x, a.err + b.err).round(p);
    }

    /** a * b + c rounded once. */
    public static Traced fma(Traced a, Traced b, Traced c, Precision p) {
        double e = Math.abs(a.x) * b.err + Math.abs(b.x) * a.err + a.err * b.err + c.err;
        return new Traced(a.x * b.x + c.x, e).round(p);
    }

    public static Traced div(Traced a, Traced b, Precision p) {
        double q = a.x / b.x;
        double margin = Math.abs(b.x) - b.err;
        if (!(margin > 0)) {
            throw new IllegalStateException("divisor " + b + " is not bounded away from zero; no bound exists");
        }
        return new Traced(q, (a.err + Math.abs(q) * b.err) / margin).round(p);
    }

    public static Traced sqrt(Traced a, Precision p) {
        double r = Math.sqrt(Math.max(0, a.x));
        // |sqrt(s) - sqrt(x)| <= |s - x| / (sqrt(x) + sqrt(s)) <= sqrt(|s - x|)
        double e = a.x - a.err > 0 ? a.err / (r + Math.sqrt(a.x - a.err)) : Math.sqrt(a.err);
        return new Traced(r, e).round(p);
    }

    /** max is exact: its error is at most the larger input error. */
    public static Traced max(Traced a, Traced b) {
        return new Traced(Math.max(a.x, b.x), Math.max(a.err, b.err));
    }
}
