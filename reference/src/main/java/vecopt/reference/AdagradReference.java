package vecopt.reference;

/**
 * Adagrad as PyTorch's {@code torch/optim/adagrad.py}, {@code _single_tensor_adagrad}, states it for a dense
 * tensor, one element at a time, in double; {@code sum} and the parameter are rounded to float where PyTorch stores
 * them.
 */
public final class AdagradReference {
    private AdagradReference() {
    }

    /**
     * One step, in place, over {@code p}, {@code g}, {@code sum}.
     *
     * @param t         the step number, 1 for the first step
     * @param gradScale a factor applied to each gradient first (the clipping coefficient; 1 for none)
     */
    public static void step(float[] p, float[] g, float[] sum, int from, int to, double lr, double lrDecay,
                            double weightDecay, double eps, long t, double gradScale, boolean maximize) {
        double clr = lr / (1 + (t - 1) * lrDecay);                    // clr = lr / (1 + (step - 1) * lr_decay)
        for (int i = from; i < to; i++) {
            double grad = g[i] * (double) (float) gradScale;
            if (maximize) {
                grad = -grad;                                           // grad = grad if not maximize else -grad
            }
            if (weightDecay != 0) {
                grad = grad + weightDecay * p[i];                      // grad = grad.add(param, alpha=weight_decay)
            }
            sum[i] = (float) (sum[i] + grad * grad);                   // state_sum.addcmul_(grad, grad, value=1)
            double std = Math.sqrt(sum[i]) + eps;                      // std = state_sum.sqrt().add_(eps)
            p[i] = (float) (p[i] - clr * grad / std);                  // param.addcdiv_(grad, std, value=-clr)
        }
    }
}
