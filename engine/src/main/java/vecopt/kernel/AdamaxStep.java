package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;

/**
 * The prepared step of Adamax (Kingma and Ba, "Adam: A Method for Stochastic Optimization", 2015, section 7.1) as
 * PyTorch's {@code torch/optim/adamax.py}, {@code _single_tensor_adamax}, computes it. Per element, in float,
 * state {@code exp_avg} and {@code exp_inf}:
 * <pre>
 *   g = grad * gradScale                        (clipping coefficient; negated under maximize: grad = -grad)
 *   g = fma(p, wd, g)                           (wd != 0: grad = grad.add(param, alpha=weight_decay))
 *   m = fma(m, beta1, g * (1 - beta1))          (exp_avg.lerp_(grad, 1 - beta1))
 *   u = max(u * beta2, |g| + eps)               (torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps)))
 *   p = fma(m / u, -clr, p)                     (param.addcdiv_(exp_avg, exp_inf, value=-clr))
 * </pre>
 * with {@code clr = lr / (1 - beta1^t)} computed once per step in double (PyTorch's Python float) and rounded to
 * float as {@code addcdiv_}'s float kernel receives it. {@code max} propagates NaN, as {@code torch.maximum} does.
 */
public final class AdamaxStep extends KeyedStep implements UpdateStep {
    float negClr;
    float beta1;
    float oneMinusBeta1;
    float beta2;
    float eps;
    float weightDecay;
    boolean useWeightDecay;
    float gradScale = 1f;

    /**
     * Prepares update number {@code t} (1 for the first) of a group.
     *
     * @param gradScale the factor each gradient is multiplied by first (the clipping coefficient, 1 for none;
     *                  negative under maximize)
     */
    public AdamaxStep prepare(double lr, double beta1, double beta2, double eps, double weightDecay, long t,
                              double gradScale) {
        double clr = lr / (1 - Math.pow(beta1, t)); // bias_correction = 1 - beta1 ** step; clr = lr / bias_correction
        this.negClr = (float) -clr;
        this.beta1 = (float) beta1;
        this.oneMinusBeta1 = (float) (1.0 - beta1);
        this.beta2 = (float) beta2;
        this.eps = (float) eps;
        this.weightDecay = (float) weightDecay;
        this.useWeightDecay = weightDecay != 0;
        this.gradScale = (float) gradScale;
        return this;
    }

    /** The scalar loop over the whole chunk: the formula above, element by element. */
    static void scalar(Chunk c, AdamaxStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], us = c.state[1];
        final float negClr = k.negClr, b1 = k.beta1, c1 = k.oneMinusBeta1, b2 = k.beta2, eps = k.eps;
        final float wd = k.weightDecay, scale = k.gradScale;
        final boolean useWd = k.useWeightDecay;
        for (int i = 0; i < c.length; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            if (useWd) {
                g = Math.fma(p, wd, g);
            }
            float m = Math.fma(ms.get(F, off), b1, g * c1);
            float u = Math.max(us.get(F, off) * b2, Math.abs(g) + eps);
            ms.set(F, off, m);
            us.set(F, off, u);
            ps.set(F, off, Math.fma(m / u, negClr, p));
        }
    }
}
