package vecopt.reference;

/**
 * Adadelta as PyTorch's {@code torch/optim/adadelta.py}, {@code _single_tensor_adadelta}, states it, one element at
 * a time, in double; {@code square_avg}, {@code acc_delta} and the parameter are rounded to float where PyTorch
 * stores them.
 */
public final class AdadeltaReference {
    private AdadeltaReference() {
    }

    /**
     * One step, in place.
     *
     * @param gradScale a factor applied to each gradient first (the clipping coefficient; 1 for none)
     */
    public static void step(float[] p, float[] g, float[] squareAvg, float[] accDelta, int from, int to, double lr,
                            double rho, double eps, double weightDecay, double gradScale, boolean maximize) {
        for (int i = from; i < to; i++) {
            double grad = g[i] * (double) (float) gradScale;
            if (maximize) {
                grad = -grad;                                        // grad = grad if not maximize else -grad
            }
            if (weightDecay != 0) {
                grad = grad + weightDecay * p[i];                   // grad = grad.add(param, alpha=weight_decay)
            }
            squareAvg[i] = (float) (rho * squareAvg[i] + (1 - rho) * grad * grad); // mul_(rho).addcmul_(g, g, 1-rho)
            double std = Math.sqrt(squareAvg[i] + eps);             // std = square_avg.add(eps).sqrt_()
            double delta = Math.sqrt(accDelta[i] + eps) / std * grad; // acc_delta.add(eps).sqrt_().div_(std).mul_(g)
            accDelta[i] = (float) (rho * accDelta[i] + (1 - rho) * delta * delta); // mul_(rho).addcmul_(d, d, 1-rho)
            p[i] = (float) (p[i] - lr * delta);                     // param.add_(delta, alpha=-lr)
        }
    }
}
