package vecopt.reference;

/**
 * Adamax as PyTorch's {@code torch/optim/adamax.py}, {@code _single_tensor_adamax}, states it, one element at a
 * time, in double; {@code exp_avg}, {@code exp_inf} and the parameter are rounded to float where PyTorch stores them.
 */
public final class AdamaxReference {
    private AdamaxReference() {
    }

    /**
     * One step, in place.
     *
     * @param t         the step number, 1 for the first step
     * @param gradScale a factor applied to each gradient first (the clipping coefficient; 1 for none)
     */
    public static void step(float[] p, float[] g, float[] expAvg, float[] expInf, int from, int to, double lr,
                            double beta1, double beta2, double eps, double weightDecay, long t, double gradScale,
                            boolean maximize) {
        double clr = lr / (1 - Math.pow(beta1, t));                   // clr = lr / (1 - beta1 ** step)
        for (int i = from; i < to; i++) {
            double grad = g[i] * (double) (float) gradScale;
            if (maximize) {
                grad = -grad;                                          // grad = grad if not maximize else -grad
            }
            if (weightDecay != 0) {
                grad = grad + weightDecay * p[i];                     // grad = grad.add(param, alpha=weight_decay)
            }
            expAvg[i] = (float) (beta1 * expAvg[i] + (1 - beta1) * grad); // exp_avg.lerp_(grad, 1 - beta1)
            expInf[i] = (float) Math.max(beta2 * expInf[i], Math.abs(grad) + eps); // maximum(exp_inf.mul_(beta2),
                                                                                   //   grad.abs().add_(eps))
            p[i] = (float) (p[i] - clr * expAvg[i] / expInf[i]);      // param.addcdiv_(exp_avg, exp_inf, -clr)
        }
    }
}
