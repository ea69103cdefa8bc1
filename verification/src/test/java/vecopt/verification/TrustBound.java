package vecopt.verification;

import static vecopt.verification.Traced.Precision.DOUBLE;

/**
 * The error bounds of a tensor's norm and trust ratio, for the layer-wise optimizers' properties: the norm of
 * values each known within a bound, summed in double in some order, then the ratio of two such norms.
 */
final class TrustBound {
    private TrustBound() {
    }

    /**
     * The norm of n values whose exact values are {@code x[i]}, each computed within {@code err[i]}, squared
     * exactly (a float's square is exact in double) and summed in double in any order, then rooted: the computed
     * values lie within {@code sqrt(sum err^2)} of the exact vector (the triangle inequality of the 2-norm), the
     * sum within {@code (n - 1) 2^-53} of itself (Higham, Accuracy and Stability, eq. 4.4), which the root halves,
     * and the root within 2^-53: so within {@code E + (n + 1) 2^-53 (N + E)} of the exact norm N.
     */
    static Traced norm(double[] x, double[] err) {
        double s = 0, e2 = 0;
        for (int i = 0; i < x.length; i++) {
            s += x[i] * x[i];
            e2 += err[i] * err[i];
        }
        double n = Math.sqrt(s) * (1 + 0x1p-50); // the trace's own double sum: padded
        double e = Math.sqrt(e2) * (1 + 0x1p-50);
        return new Traced(Math.sqrt(s), e + (x.length + 1) * 0x1p-53 * (n + e) + Double.MIN_NORMAL);
    }

    /** {@code coefficient * a / (b + eps)} in double, from the traced norms (the 1-where-zero case is the caller's). */
    static Traced ratio(double coefficient, Traced a, Traced b, double eps) {
        Traced den = eps == 0 ? b : Traced.add(b, Traced.exact(eps), DOUBLE);
        return Traced.div(Traced.mul(Traced.exact(coefficient), a, DOUBLE), den, DOUBLE);
    }
}
