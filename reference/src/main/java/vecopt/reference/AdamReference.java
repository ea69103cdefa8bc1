package vecopt.reference;

/**
 * Adam, AdamW and AMSGrad as PyTorch's {@code torch.optim.Adam}/{@code AdamW} (single-tensor path) state them, one
 * element at a time, in double; values are rounded to float only where PyTorch stores a float tensor (the moments and
 * the parameter), and the stored, rounded moments are what the later lines read.
 */
public final class AdamReference {
    private AdamReference() {
    }

    /**
     * One step, in place, over {@code p}, {@code g}, {@code m}, {@code v} (and {@code vmax} when not null: AMSGrad).
     *
     * @param t         the step number, 1 for the first step
     * @param decoupled AdamW (decay {@code p *= 1 - lr*wd}) when true; Adam's L2 form ({@code g += wd*p}) when false
     * @param gradScale a factor applied to each gradient first (the clipping coefficient; 1 for none)
     */
    public static void step(float[] p, float[] g, float[] m, float[] v, float[] vmax, int from, int to,
                            double lr, double beta1, double beta2, double eps, double weightDecay,
                            boolean decoupled, long t, double gradScale) {
        step(p, g, m, v, vmax, from, to, lr, beta1, beta2, eps, weightDecay, decoupled, t, gradScale, false);
    }

    /** As above; {@code maximize} negates the gradient first ({@code grad = -grad}, before weight decay). */
    public static void step(float[] p, float[] g, float[] m, float[] v, float[] vmax, int from, int to,
                            double lr, double beta1, double beta2, double eps, double weightDecay,
                            boolean decoupled, long t, double gradScale, boolean maximize) {
        double biasCorrection1 = 1 - Math.pow(beta1, t);
        double biasCorrection2 = 1 - Math.pow(beta2, t);
        double stepSize = lr / biasCorrection1;
        double biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
        for (int i = from; i < to; i++) {
            double param = p[i];
            double grad = g[i] * (double) (float) gradScale; // clip_grad_norm_ multiplies by a float32 coefficient
            if (maximize) {
                grad = -grad;                                           // grad = grad if not maximize else -grad
            }
            if (!decoupled && weightDecay != 0) {
                grad = grad + weightDecay * param;                      // grad = grad.add(param, alpha=wd)
            }
            if (decoupled) {
                param = param * (1 - lr * weightDecay);                 // param.mul_(1 - lr * wd)
            }
            m[i] = (float) (beta1 * m[i] + (1 - beta1) * grad);        // exp_avg.lerp_(grad, 1 - beta1)
            v[i] = (float) (beta2 * v[i] + (1 - beta2) * grad * grad); // exp_avg_sq.mul_(b2).addcmul_(g, g, 1 - b2)
            double secondMoment = v[i];
            if (vmax != null) {
                vmax[i] = Math.max(vmax[i], v[i]);                      // torch.maximum(max_exp_avg_sq, exp_avg_sq)
                secondMoment = vmax[i];
            }
            double denom = Math.sqrt(secondMoment) / biasCorrection2Sqrt + eps;
            p[i] = (float) (param - stepSize * m[i] / denom);          // param.addcdiv_(exp_avg, denom, -step_size)
        }
    }
}
