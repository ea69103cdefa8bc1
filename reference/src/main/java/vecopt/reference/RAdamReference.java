package vecopt.reference;

/**
 * RAdam as PyTorch's {@code torch/optim/radam.py}, {@code _single_tensor_radam}, states it, one element at a time,
 * in double; {@code exp_avg}, {@code exp_avg_sq} and the parameter (after each of its in-place updates) are rounded
 * to float where PyTorch stores them.
 */
public final class RAdamReference {
    private RAdamReference() {
    }

    /** PyTorch's {@code rho_t > 5.0}: whether step {@code t} takes the rectified, adaptive update. */
    public static boolean rectified(double beta2, long t) {
        double rhoInf = 2 / (1 - beta2) - 1;                         // rho_inf = 2 / (1 - beta2) - 1
        double rhoT = rhoInf - 2 * t * Math.pow(beta2, t) / (1 - Math.pow(beta2, t)); // rho_t
        return rhoT > 5.0;
    }

    /**
     * One step, in place.
     *
     * @param t         the step number, 1 for the first step
     * @param gradScale a factor applied to each gradient first (the clipping coefficient; 1 for none)
     */
    public static void step(float[] p, float[] g, float[] expAvg, float[] expAvgSq, int from, int to, double lr,
                            double beta1, double beta2, double eps, double weightDecay, boolean decoupled, long t,
                            double gradScale, boolean maximize) {
        double biasCorrection1 = 1 - Math.pow(beta1, t);
        double biasCorrection2 = 1 - Math.pow(beta2, t);
        double rhoInf = 2 / (1 - beta2) - 1;
        double rhoT = rhoInf - 2 * t * Math.pow(beta2, t) / biasCorrection2;
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
            double biasCorrectedExpAvg = expAvg[i] / biasCorrection1;
            if (rhoT > 5.0) {
                double rect = Math.sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
                double adaptiveLr = Math.sqrt(biasCorrection2) / (Math.sqrt(expAvgSq[i]) + eps);
                p[i] = (float) (param - biasCorrectedExpAvg * lr * adaptiveLr * rect);
            } else {
                p[i] = (float) (param - biasCorrectedExpAvg * lr);
            }
        }
    }
}
