package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;

/**
 * The prepared step of RMSprop (Hinton, "Neural Networks for Machine Learning", lecture 6e; centered form: Graves,
 * "Generating Sequences With Recurrent Neural Networks", 2013) as PyTorch's {@code torch/optim/rmsprop.py},
 * {@code _single_tensor_rmsprop}, computes it. Per element, in float, state {@code square_avg} and, when used,
 * {@code grad_avg} (centered) and {@code momentum_buffer} (momentum > 0):
 * <pre>
 *   g   = grad * gradScale                    (clipping coefficient; negated under maximize: grad = -grad)
 *   g   = fma(p, wd, g)                       (wd != 0: grad = grad.add(param, alpha=weight_decay))
 *   sa  = fma(sa, alpha, (g * (1 - alpha)) * g)      (square_avg.mul_(alpha).addcmul_(grad, grad, 1 - alpha))
 *   ga  = fma(ga, alpha, g * (1 - alpha))     (centered: grad_avg.lerp_(grad, 1 - alpha))
 *   avg = sqrt(sa - ga * ga) + eps            (centered: square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
 *                                              then add_(eps); the square rounded before the subtraction, as
 *                                              there, so that alpha = 0 gives exactly 0 and not a negative root)
 *   avg = sqrt(sa) + eps                      (otherwise: square_avg.sqrt().add_(eps))
 *   buf = fma(buf, momentum, g / avg)         (momentum > 0: buf.mul_(momentum).addcdiv_(grad, avg))
 *   p   = fma(buf, -lr, p)                    (param.add_(buf, alpha=-lr))
 *   p   = fma(g / avg, -lr, p)                (momentum 0: param.addcdiv_(grad, avg, value=-lr))
 * </pre>
 * The momentum buffer starts at 0 (PyTorch's {@code zeros_like}), so there is no first-step special case.
 */
public final class RmspropStep extends KeyedStep implements UpdateStep {
    float negLr;
    float alpha;
    float oneMinusAlpha;
    float eps;
    float momentum;
    float weightDecay;
    boolean useWeightDecay;
    boolean centered;
    boolean useMomentum;
    int gradAvg;
    int momentumBuffer;
    float gradScale = 1f;

    /**
     * Prepares a step of a group.
     *
     * @param gradAvg        the index of {@code grad_avg} among the chunk's state buffers (read when centered)
     * @param momentumBuffer the index of {@code momentum_buffer} (read when momentum > 0)
     * @param gradScale      the factor each gradient is multiplied by first (the clipping coefficient, 1 for none;
     *                       negative under maximize)
     */
    public RmspropStep prepare(double lr, double alpha, double eps, double weightDecay, double momentum,
                               boolean centered, int gradAvg, int momentumBuffer, double gradScale) {
        this.negLr = (float) -lr;
        this.alpha = (float) alpha;
        this.oneMinusAlpha = (float) (1.0 - alpha);
        this.eps = (float) eps;
        this.momentum = (float) momentum;
        this.weightDecay = (float) weightDecay;
        this.useWeightDecay = weightDecay != 0;
        this.centered = centered;
        this.useMomentum = momentum > 0;
        this.gradAvg = gradAvg;
        this.momentumBuffer = momentumBuffer;
        this.gradScale = (float) gradScale;
        return this;
    }

    /** The scalar loop over the whole chunk: the formula above, element by element. */
    static void scalar(Chunk c, RmspropStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ss = c.state[0];
        final MemorySegment as = k.centered ? c.state[k.gradAvg] : null;
        final MemorySegment bs = k.useMomentum ? c.state[k.momentumBuffer] : null;
        final float negLr = k.negLr, alpha = k.alpha, c1 = k.oneMinusAlpha, eps = k.eps, mom = k.momentum;
        final float wd = k.weightDecay, scale = k.gradScale;
        final boolean useWd = k.useWeightDecay, centered = k.centered, useMom = k.useMomentum;
        for (int i = 0; i < c.length; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            if (useWd) {
                g = Math.fma(p, wd, g);
            }
            float sa = Math.fma(ss.get(F, off), alpha, (g * c1) * g);
            ss.set(F, off, sa);
            float var = sa;
            if (centered) {
                float ga = Math.fma(as.get(F, off), alpha, g * c1);
                as.set(F, off, ga);
                var = sa - ga * ga;
            }
            float avg = (float) Math.sqrt(var) + eps;
            float d = g / avg;
            if (useMom) {
                d = Math.fma(bs.get(F, off), mom, d);
                bs.set(F, off, d);
            }
            ps.set(F, off, Math.fma(d, negLr, p));
        }
    }
}
