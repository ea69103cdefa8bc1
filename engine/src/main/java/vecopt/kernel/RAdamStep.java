package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;

/**
 * The prepared step of RAdam (Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020) as
 * PyTorch's {@code torch/optim/radam.py}, {@code _single_tensor_radam}, computes it. Per element, in float, state
 * {@code exp_avg}, {@code exp_avg_sq}:
 * <pre>
 *   g = grad * gradScale                     (clipping coefficient; negated under maximize: grad = -grad)
 *   p = p * (1 - lr * wd)                    (decoupled_weight_decay: param.mul_(1 - lr * weight_decay))
 *   g = fma(p, wd, g)                        (otherwise, wd != 0: grad = grad.add(param, alpha=weight_decay))
 *   m = fma(m, beta1, g * (1 - beta1))       (exp_avg.lerp_(grad, 1 - beta1))
 *   v = fma(v, beta2, (g * (1 - beta2)) * g) (exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2))
 *   p = fma(m / (sqrt(v) + eps), -k, p)      (rho_t > 5: k = lr * rect * sqrt(bc2) / bc1)
 *   p = fma(m, -k, p)                        (otherwise: k = lr / bc1, the un-adapted momentum step)
 * </pre>
 * Per step, in double as PyTorch's Python floats: {@code bc1 = 1 - beta1^t}, {@code bc2 = 1 - beta2^t},
 * {@code rho_inf = 2 / (1 - beta2) - 1}, {@code rho_t = rho_inf - 2 t beta2^t / bc2},
 * {@code rect = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))}, and the switch
 * {@code rho_t > 5.0} exactly as PyTorch writes it. PyTorch multiplies {@code exp_avg / bc1}, {@code lr},
 * {@code sqrt(bc2) / (sqrt(v) + eps)} and {@code rect} element by element, each product rounded to float; here the
 * scalars are folded into one float {@code k} per step (the same formula; the last bit may differ from PyTorch's
 * float kernels).
 */
public final class RAdamStep extends KeyedStep implements UpdateStep {
    float decay = 1f;
    float weightDecay;
    boolean useL2;
    float beta1;
    float oneMinusBeta1;
    float beta2;
    float oneMinusBeta2;
    float eps;
    float negK;
    boolean rectified;
    float gradScale = 1f;

    /** Whether the step prepared last uses the adaptive, rectified update ({@code rho_t > 5}). */
    public boolean rectified() {
        return rectified;
    }

    /** PyTorch's {@code rho_t} of step {@code t}: the length of the approximated simple moving average. */
    public static double rho(double beta2, long t) {
        double rhoInf = 2 / (1 - beta2) - 1;
        return rhoInf - 2 * t * Math.pow(beta2, t) / (1 - Math.pow(beta2, t));
    }

    /**
     * Prepares update number {@code t} (1 for the first) of a group.
     *
     * @param gradScale the factor each gradient is multiplied by first (the clipping coefficient, 1 for none;
     *                  negative under maximize)
     */
    public RAdamStep prepare(double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled,
                             long t, double gradScale) {
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        double rhoInf = 2 / (1 - beta2) - 1;
        double rhoT = rho(beta2, t);
        this.rectified = rhoT > 5.0;
        if (rectified) {
            double rect = Math.sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
            this.negK = (float) -(lr * rect * Math.sqrt(bc2) / bc1);
        } else {
            this.negK = (float) -(lr / bc1);
        }
        this.decay = decoupled ? (float) (1.0 - lr * weightDecay) : 1f;
        this.useL2 = !decoupled && weightDecay != 0;
        this.weightDecay = (float) weightDecay;
        this.beta1 = (float) beta1;
        this.oneMinusBeta1 = (float) (1.0 - beta1);
        this.beta2 = (float) beta2;
        this.oneMinusBeta2 = (float) (1.0 - beta2);
        this.eps = (float) eps;
        this.gradScale = (float) gradScale;
        return this;
    }

    /** The scalar loop over the whole chunk: the formula above, element by element. */
    static void scalar(Chunk c, RAdamStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], vs = c.state[1];
        final float decay = k.decay, wd = k.weightDecay, b1 = k.beta1, o1 = k.oneMinusBeta1, b2 = k.beta2;
        final float o2 = k.oneMinusBeta2, eps = k.eps, negK = k.negK, scale = k.gradScale;
        final boolean useL2 = k.useL2, rectified = k.rectified;
        for (int i = 0; i < c.length; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            if (useL2) {
                g = Math.fma(p, wd, g);
            }
            p = p * decay;
            float m = Math.fma(ms.get(F, off), b1, g * o1);
            float v = Math.fma(vs.get(F, off), b2, (g * o2) * g);
            ms.set(F, off, m);
            vs.set(F, off, v);
            float d = rectified ? m / ((float) Math.sqrt(v) + eps) : m;
            ps.set(F, off, Math.fma(d, negK, p));
        }
    }
}
