package vecopt.reference;

/**
 * Lion as lion-pytorch's {@code update_fn} ({@code lion_pytorch/lion_pytorch.py}) states it, one element at a time,
 * in double; the parameter (after its in-place decay and after the update) and {@code exp_avg} are rounded to float
 * where those in-place operations store them.
 */
public final class LionReference {
    private LionReference() {
    }

    /**
     * One step, in place.
     *
     * @param gradScale a factor applied to each gradient first (the clipping coefficient; 1 for none)
     * @param maximize  the gradient negated first (PyTorch's {@code maximize})
     */
    public static void step(float[] p, float[] g, float[] expAvg, int from, int to, double lr, double beta1,
                            double beta2, double weightDecay, double gradScale, boolean maximize) {
        for (int i = from; i < to; i++) {
            double grad = g[i] * (double) (float) gradScale;
            if (maximize) {
                grad = -grad;
            }
            float decayed = (float) (p[i] * (1 - lr * weightDecay));          // p.data.mul_(1. - lr * wd)
            double update = Math.signum(beta1 * expAvg[i] + (1 - beta1) * grad); // exp_avg.clone().mul_(beta1)
                                                                              //   .add(grad, 1 - beta1).sign_()
            p[i] = (float) (decayed - lr * update);                          // p.add_(update, alpha=-lr)
            expAvg[i] = (float) (beta2 * expAvg[i] + (1 - beta2) * grad);   // exp_avg.mul_(beta2).add_(grad, 1-beta2)
        }
    }
}
