package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;

/**
 * The prepared step of Adagrad (Duchi, Hazan and Singer, "Adaptive Subgradient Methods for Online Learning and
 * Stochastic Optimization", JMLR 2011) as PyTorch's {@code torch/optim/adagrad.py}, {@code _single_tensor_adagrad},
 * computes it on a dense tensor. Per element, in float, state {@code sum}:
 * <pre>
 *   g   = grad * gradScale                 (clipping coefficient; negated under maximize: grad = -grad)
 *   g   = fma(p, wd, g)                    (wd != 0: grad = grad.add(param, alpha=weight_decay))
 *   sum = fma(g, g, sum)                   (state_sum.addcmul_(grad, grad, value=1))
 *   std = sqrt(sum) + eps                  (state_sum.sqrt().add_(eps): eps after the root)
 *   p   = fma(g / std, -clr, p)            (param.addcdiv_(grad, std, value=-clr))
 * </pre>
 * with {@code clr = lr / (1 + (t - 1) * lr_decay)} computed once per step in double (PyTorch computes it from the
 * Python float of the step) and rounded to float, as the float kernel of {@code addcdiv_} receives it.
 */
public final class AdagradStep extends KeyedStep implements UpdateStep {
    float negClr;
    float eps;
    float weightDecay;
    boolean useWeightDecay;
    float gradScale = 1f;

    /**
     * Prepares update number {@code t} (1 for the first) of a group.
     *
     * @param gradScale the factor each gradient is multiplied by first: the clipping coefficient (1 for none),
     *                  negative under maximize
     */
    public AdagradStep prepare(double lr, double lrDecay, double weightDecay, double eps, long t, double gradScale) {
        double clr = lr / (1 + (t - 1) * lrDecay);
        this.negClr = (float) -clr;
        this.eps = (float) eps;
        this.weightDecay = (float) weightDecay;
        this.useWeightDecay = weightDecay != 0;
        this.gradScale = (float) gradScale;
        return this;
    }

    /** The scalar loop over the whole chunk: the formula above, element by element. */
    static void scalar(Chunk c, AdagradStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ss = c.state[0];
        final float negClr = k.negClr, eps = k.eps, wd = k.weightDecay, scale = k.gradScale;
        final boolean useWd = k.useWeightDecay;
        for (int i = 0; i < c.length; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            if (useWd) {
                g = Math.fma(p, wd, g);
            }
            float sum = Math.fma(g, g, ss.get(F, off));
            ss.set(F, off, sum);
            float std = (float) Math.sqrt(sum) + eps;
            ps.set(F, off, Math.fma(g / std, negClr, p));
        }
    }
}
