package vecopt.reference;

/**
 * RMSprop as PyTorch's {@code torch/optim/rmsprop.py}, {@code _single_tensor_rmsprop}, states it, one element at a
 * time, in double; {@code square_avg}, {@code grad_avg}, {@code momentum_buffer} and the parameter are rounded to
 * float where PyTorch stores them.
 */
public final class RmspropReference {
    private RmspropReference() {
    }

    /**
     * One step, in place. {@code gradAvg} is read only when {@code centered}, {@code buf} only when momentum > 0
     * (either may be null otherwise).
     *
     * @param gradScale a factor applied to each gradient first (the clipping coefficient; 1 for none)
     */
    public static void step(float[] p, float[] g, float[] squareAvg, float[] gradAvg, float[] buf, int from, int to,
                            double lr, double alpha, double eps, double weightDecay, double momentum,
                            boolean centered, double gradScale, boolean maximize) {
        for (int i = from; i < to; i++) {
            double grad = g[i] * (double) (float) gradScale;
            if (maximize) {
                grad = -grad;                                         // grad = grad if not maximize else -grad
            }
            if (weightDecay != 0) {
                grad = grad + weightDecay * p[i];                    // grad = grad.add(param, alpha=weight_decay)
            }
            squareAvg[i] = (float) (alpha * squareAvg[i] + (1 - alpha) * grad * grad); // mul_(alpha).addcmul_
            double avg;
            if (centered) {
                gradAvg[i] = (float) (alpha * gradAvg[i] + (1 - alpha) * grad); // grad_avg.lerp_(grad, 1 - alpha)
                avg = Math.sqrt(squareAvg[i] - (double) gradAvg[i] * gradAvg[i]); // addcmul(ga, ga, -1).sqrt_()
            } else {
                avg = Math.sqrt(squareAvg[i]);                       // square_avg.sqrt()
            }
            avg = avg + eps;                                         // avg.add_(eps)
            if (momentum > 0) {
                buf[i] = (float) (momentum * buf[i] + grad / avg);   // buf.mul_(momentum).addcdiv_(grad, avg)
                p[i] = (float) (p[i] - lr * buf[i]);                 // param.add_(buf, alpha=-lr)
            } else {
                p[i] = (float) (p[i] - lr * grad / avg);             // param.addcdiv_(grad, avg, value=-lr)
            }
        }
    }
}
