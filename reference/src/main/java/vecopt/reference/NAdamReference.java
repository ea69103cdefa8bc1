package vecopt.reference;

/**
 * NAdam as PyTorch's {@code torch/optim/nadam.py}, {@code _single_tensor_nadam}, states it, one element at a time,
 * in double; {@code exp_avg}, {@code exp_avg_sq} and the parameter (after each of its in-place updates) are rounded
 * to float where PyTorch stores them, and so is {@code mu_product}, a float32 tensor in PyTorch.
 */
public final class NAdamReference {
    private NAdamReference() {
    }

    /** {@code mu_product} after step {@code t}, given its value before (1 before the first step). */
    public static float muProduct(float before, double beta1, double momentumDecay, long t) {
        double mu = beta1 * (1. - 0.5 * Math.pow(0.96, t * momentumDecay));
        return before * (float) mu;                                 // mu_product *= mu (float32 tensor)
    }

    /**
     * One step, in place.
     *
     * @param t          the step number, 1 for the first step
     * @param muProduct  {@code mu_product} after this step's multiplication ({@link #muProduct})
     * @param gradScale  a factor applied to each gradient first (the clipping coefficient; 1 for none)
     */
    public static void step(float[] p, float[] g, float[] expAvg, float[] expAvgSq, int from, int to, double lr,
                            double beta1, double beta2, double eps, double weightDecay, double momentumDecay,
                            boolean decoupled, long t, float muProduct, double gradScale, boolean maximize) {
        double biasCorrection2 = 1 - Math.pow(beta2, t);
        double mu = beta1 * (1. - 0.5 * Math.pow(0.96, t * momentumDecay));
        double muNext = beta1 * (1. - 0.5 * Math.pow(0.96, (t + 1) * momentumDecay));
        double muProductNext = muProduct * muNext;
        for (int i = from; i < to; i++) {
            double grad = g[i] * (double) (float) gradScale;
            if (maximize) {
                grad = -grad;                                        // grad = grads[i] if not maximize else -grads[i]
            }
            double param = p[i];
            if (weightDecay != 0) {
                if (decoupled) {
                    param = (float) (param * (1 - lr * weightDecay)); // param.mul_(1 - lr * weight_decay)
                } else {
                    grad = grad + weightDecay * param;              // grad = grad.add(param, alpha=weight_decay)
                }
            }
            expAvg[i] = (float) (beta1 * expAvg[i] + (1 - beta1) * grad);            // exp_avg.lerp_(grad, 1-beta1)
            expAvgSq[i] = (float) (beta2 * expAvgSq[i] + (1 - beta2) * grad * grad); // mul_(beta2).addcmul_
            double denom = Math.sqrt(expAvgSq[i] / biasCorrection2) + eps;  // exp_avg_sq.div(bc2).sqrt(); add_(eps)
            param = (float) (param - lr * (1 - mu) / (1 - muProduct) * grad / denom);  // addcdiv_(grad, denom, ...)
            p[i] = (float) (param - lr * muNext / (1 - muProductNext) * expAvg[i] / denom); // addcdiv_(exp_avg, ...)
        }
    }
}
