package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;

/**
 * The prepared step of Rprop (Riedmiller and Braun, "A Direct Adaptive Method for Faster Backpropagation Learning:
 * The RPROP Algorithm", 1993) as PyTorch's {@code torch/optim/rprop.py}, {@code _single_tensor_rprop}, computes it.
 * Per element, in float, state {@code prev} and {@code step_size}:
 * <pre>
 *   g    = grad * gradScale                     (clipping coefficient; negated under maximize: grad = -grad)
 *   s    = g * prev                             (sign = grad.mul(prev).sign(): the product rounded to float)
 *   f    = etaplus if s > 0, etaminus if s < 0, else 1
 *   ss   = min(max(ss * f, step_size_min), step_size_max)   (step_size.mul_(sign).clamp_(min, max))
 *   g    = 0 if s < 0                           (grad[sign.eq(etaminus)] = 0)
 *   p    = fma(signum(g), -ss, p)               (param.addcmul_(grad.sign(), step_size, value=-1): the product
 *                                                is exact, so this is PyTorch's one rounding)
 *   prev = g                                    (prev.copy_(grad))
 * </pre>
 * PyTorch creates {@code step_size} at the first step filled with the group's lr; here the first step reads
 * {@code lr} in place of the state, and later steps ignore the lr, as PyTorch does. etas and the step-size bounds
 * are rounded to float, as PyTorch's float tensors receive them (a step_size_min of -0.0 as +0.0, which only a
 * step size of -0.0 can tell apart: {@code Math.max(-0.0f, +0.0f)} is +0.0). A NaN product leaves the factor NaN
 * in PyTorch ({@code sign} of NaN is NaN and none of the three masks match); here it takes the "else 1" branch.
 */
public final class RpropStep extends KeyedStep implements UpdateStep {
    float etaMinus;
    float etaPlus;
    float stepMin;
    float stepMax;
    float lr;
    boolean firstStep;
    float gradScale = 1f;

    /**
     * Prepares update number {@code t} (1 for the first: the step sizes start at {@code lr}) of a group.
     *
     * @param gradScale the factor each gradient is multiplied by first (the clipping coefficient, 1 for none;
     *                  negative under maximize)
     */
    public RpropStep prepare(double lr, double etaMinus, double etaPlus, double stepMin, double stepMax, long t,
                             double gradScale) {
        this.lr = (float) lr;
        this.etaMinus = (float) etaMinus;
        this.etaPlus = (float) etaPlus;
        this.stepMin = (float) stepMin + 0f; // -0.0 as +0.0: the vector loop clamps on the bits (RpropPanama)
        this.stepMax = (float) stepMax;
        this.firstStep = t == 1;
        this.gradScale = (float) gradScale;
        return this;
    }

    /** The scalar loop over the whole chunk: the formula above, element by element. */
    static void scalar(Chunk c, RpropStep k) {
        final MemorySegment ps = c.params, gs = c.grads, prevs = c.state[0], sss = c.state[1];
        final float etaMinus = k.etaMinus, etaPlus = k.etaPlus, lo = k.stepMin, hi = k.stepMax, lr = k.lr;
        final float scale = k.gradScale;
        final boolean first = k.firstStep;
        for (int i = 0; i < c.length; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            float s = g * prevs.get(F, off);
            float f = s > 0 ? etaPlus : s < 0 ? etaMinus : 1f;
            float ss = Math.min(Math.max((first ? lr : sss.get(F, off)) * f, lo), hi);
            sss.set(F, off, ss);
            g = s < 0 ? 0f : g;
            ps.set(F, off, Math.fma(Math.signum(g), -ss, p));
            prevs.set(F, off, g);
        }
    }
}
