package vecopt.reference;

/**
 * LAMB as optax's {@code lamb} ({@code optax/_src/alias.py}) composes it, over one tensor, in double: {@code
 * scale_by_adam} (moments, bias correction, the quotient), {@code add_decayed_weights}, {@code
 * scale_by_trust_ratio()} (trust coefficient 1, eps 0, 1 where a norm is zero), then {@code -lr}. {@code mu},
 * {@code nu} and the parameter are rounded to float where optax stores them. {@code maxWeightNorm} clamps the
 * parameter norm first (torch-optimizer's {@code clamp_value}; infinite: optax).
 */
public final class LambReference {
    private LambReference() {
    }

    /**
     * One step of the tensor {@code [from, to)}, in place.
     *
     * @param t         the step number, 1 for the first step
     * @param gradScale a factor applied to each gradient first (the clipping coefficient; 1 for none)
     * @return the trust ratio the update was scaled by
     */
    public static double step(float[] p, float[] g, float[] mu, float[] nu, int from, int to, double lr, double b1,
                              double b2, double eps, double epsRoot, double weightDecay, double maxWeightNorm, long t,
                              double gradScale, boolean maximize) {
        double bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);   // bias_correction: 1 - decay ** count
        double[] u = new double[to - from];
        double uu = 0, pp = 0;
        for (int i = from; i < to; i++) {
            double grad = g[i] * (double) (float) gradScale;
            if (maximize) {
                grad = -grad;
            }
            mu[i] = (float) ((1 - b1) * grad + b1 * mu[i]);               // update_moment(g, mu, b1, 1)
            nu[i] = (float) ((1 - b2) * grad * grad + b2 * nu[i]);        // update_moment_per_elem_norm(g, nu, b2, 2)
            double x = (mu[i] / bc1) / (Math.sqrt(nu[i] / bc2 + epsRoot) + eps); // mu_hat / (sqrt(nu_hat + eps_root) + eps)
            x += weightDecay * p[i];                                      // add_decayed_weights: u + wd * p
            u[i - from] = x;
            uu += x * x;
            pp += (double) p[i] * p[i];
        }
        double paramNorm = Math.min(Math.sqrt(pp), maxWeightNorm), updateNorm = Math.sqrt(uu);
        double ratio = paramNorm == 0 || updateNorm == 0 ? 1 : paramNorm / updateNorm; // scale_by_trust_ratio
        for (int i = from; i < to; i++) {
            p[i] = (float) (p[i] + -lr * (ratio * u[i - from]));          // apply_updates(p, -lr * ratio * u)
        }
        return ratio;
    }
}
