package vecopt.reference;

/**
 * LARS as optax's {@code lars} ({@code optax/_src/alias.py}) composes it, over one tensor, in double: {@code
 * add_decayed_weights}, {@code scale_by_trust_ratio(trust_coefficient, eps)} where the trust-ratio mask is true
 * (1 where a norm is zero), {@code -lr}, then {@code trace(momentum, nesterov)}. The trace and the parameter are
 * rounded to float where optax stores them.
 */
public final class LarsReference {
    private LarsReference() {
    }

    /**
     * One step of the tensor {@code [from, to)}, in place.
     *
     * @param trustRatio scale by the trust ratio (optax's {@code trust_ratio_mask} for this tensor)
     * @param gradScale  a factor applied to each gradient first (the clipping coefficient; 1 for none)
     * @return the trust ratio the update was scaled by (1 without it)
     */
    public static double step(float[] p, float[] g, float[] trace, int from, int to, double lr, double weightDecay,
                              double trustCoefficient, double eps, boolean trustRatio, double momentum,
                              boolean nesterov, double gradScale, boolean maximize) {
        double[] u = new double[to - from];
        double uu = 0, pp = 0;
        for (int i = from; i < to; i++) {
            double grad = g[i] * (double) (float) gradScale;
            if (maximize) {
                grad = -grad;
            }
            double x = grad + weightDecay * p[i];                        // add_decayed_weights
            u[i - from] = x;
            uu += x * x;
            pp += (double) p[i] * p[i];
        }
        double ratio = 1;
        if (trustRatio) {
            double paramNorm = Math.sqrt(pp), updateNorm = Math.sqrt(uu);
            ratio = paramNorm == 0 || updateNorm == 0 ? 1 : trustCoefficient * paramNorm / (updateNorm + eps);
        }
        for (int i = from; i < to; i++) {
            double x = -lr * (ratio * u[i - from]);                      // trust ratio, then scale_by_learning_rate
            trace[i] = (float) (x + momentum * trace[i]);                 // trace: g + decay * t
            double update = nesterov ? x + momentum * trace[i] : trace[i];
            p[i] = (float) (p[i] + update);                               // apply_updates
        }
        return ratio;
    }
}
