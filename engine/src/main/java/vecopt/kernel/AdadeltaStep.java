package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;

/**
 * The prepared step of Adadelta (Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012) as PyTorch's
 * {@code torch/optim/adadelta.py}, {@code _single_tensor_adadelta}, computes it. Per element, in float, state
 * {@code square_avg} and {@code acc_delta}:
 * <pre>
 *   g  = grad * gradScale                        (clipping coefficient; negated under maximize: grad = -grad)
 *   g  = fma(p, wd, g)                           (wd != 0: grad = grad.add(param, alpha=weight_decay))
 *   sa = fma(sa, rho, (g * (1 - rho)) * g)       (square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho))
 *   d  = sqrt(ad + eps) / sqrt(sa + eps) * g     (std = square_avg.add(eps).sqrt_();
 *                                                 delta = acc_delta.add(eps).sqrt_().div_(std).mul_(grad))
 *   ad = fma(ad, rho, (d * (1 - rho)) * d)       (acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho))
 *   p  = fma(d, -lr, p)                          (param.add_(delta, alpha=-lr))
 * </pre>
 * eps is added inside both roots, as PyTorch does.
 */
public final class AdadeltaStep extends KeyedStep implements UpdateStep {
    float negLr;
    float rho;
    float oneMinusRho;
    float eps;
    float weightDecay;
    boolean useWeightDecay;
    float gradScale = 1f;

    /**
     * Prepares a step of a group.
     *
     * @param gradScale the factor each gradient is multiplied by first (the clipping coefficient, 1 for none;
     *                  negative under maximize)
     */
    public AdadeltaStep prepare(double lr, double rho, double eps, double weightDecay, double gradScale) {
        this.negLr = (float) -lr;
        this.rho = (float) rho;
        this.oneMinusRho = (float) (1.0 - rho);
        this.eps = (float) eps;
        this.weightDecay = (float) weightDecay;
        this.useWeightDecay = weightDecay != 0;
        this.gradScale = (float) gradScale;
        return this;
    }

    /** The scalar loop over the whole chunk: the formula above, element by element. */
    static void scalar(Chunk c, AdadeltaStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ss = c.state[0], as = c.state[1];
        final float negLr = k.negLr, rho = k.rho, c1 = k.oneMinusRho, eps = k.eps, wd = k.weightDecay;
        final float scale = k.gradScale;
        final boolean useWd = k.useWeightDecay;
        for (int i = 0; i < c.length; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            if (useWd) {
                g = Math.fma(p, wd, g);
            }
            float sa = Math.fma(ss.get(F, off), rho, (g * c1) * g);
            ss.set(F, off, sa);
            float ad = as.get(F, off);
            float d = (float) Math.sqrt(ad + eps) / (float) Math.sqrt(sa + eps) * g;
            as.set(F, off, Math.fma(ad, rho, (d * c1) * d));
            ps.set(F, off, Math.fma(d, negLr, p));
        }
    }
}
