package vecopt.reference;

/**
 * ASGD as PyTorch's {@code torch/optim/asgd.py}, {@code _single_tensor_asgd}, states it, one element at a time, in
 * double; the parameter and {@code ax} are rounded to float where PyTorch stores them, and the running scalars
 * {@code eta} and {@code mu} (float32 0-dim tensors in PyTorch) to float where it copies them in.
 */
public final class AsgdReference {
    /** The running per-tensor scalars: PyTorch's {@code state["eta"]} and {@code state["mu"]}, as floats. */
    public static final class Scalars {
        public float eta;
        public float mu = 1f;
        private boolean started;

        /** The scalars as a checkpoint recorded them after {@code steps > 0} steps. */
        public static Scalars of(float eta, float mu) {
            Scalars s = new Scalars();
            s.eta = eta;
            s.mu = mu;
            s.started = true;
            return s;
        }
    }

    private AsgdReference() {
    }

    /**
     * One step, in place: updates {@code p} and {@code ax} over {@code [from, to)} with the scalars as they are, then
     * advances {@code s} (once per step: call it for the whole tensor at once).
     *
     * @param t         the step number, 1 for the first step
     * @param gradScale a factor applied to each gradient first (the clipping coefficient; 1 for none)
     */
    public static void step(float[] p, float[] g, float[] ax, Scalars s, int from, int to, double lr, double lambd,
                            double alpha, double t0, double weightDecay, long t, double gradScale, boolean maximize) {
        if (!s.started) {                                             // state["eta"] = as_tensor(lr, float32)
            s.eta = (float) lr;                                       // state["mu"] = ones(())
            s.mu = 1f;
            s.started = true;
        }
        double eta = s.eta;                                           // eta_value = _get_value(eta)
        boolean average = s.mu != 1f;                                 // if mu.item() != 1
        for (int i = from; i < to; i++) {
            double grad = g[i] * (double) (float) gradScale;
            if (maximize) {
                grad = -grad;                                         // grad = grad if not maximize else -grad
            }
            if (weightDecay != 0) {
                grad = grad + weightDecay * p[i];                    // grad = grad.add(param, alpha=weight_decay)
            }
            double param = (float) (p[i] * (1 - lambd * eta));        // param.mul_(1 - lambd * eta_value), stored
            p[i] = (float) (param - eta * grad);                      // param.add_(grad, alpha=-eta_value)
            if (average) {
                ax[i] = (float) (ax[i] + (p[i] - ax[i]) * (double) s.mu); // ax.add_(param.sub(ax).mul_(mu))
            } else {
                ax[i] = p[i];                                         // ax.copy_(param)
            }
        }
        double step = Math.min(t, 1L << 24);                          // step_t: float32, stuck at 2^24
        s.eta = (float) (lr / Math.pow(1 + lambd * lr * step, alpha)); // lr / ((1 + lambd * lr * step) ** alpha)
        s.mu = (float) (1 / Math.max(1, step - t0));                 // 1 / max(1, step - t0)
    }
}
