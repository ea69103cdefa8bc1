package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;

/**
 * The prepared step of Lion (Chen et al., "Symbolic Discovery of Optimization Algorithms", 2023, Program 1) as
 * lion-pytorch writes it ({@code lion_pytorch/lion_pytorch.py}, {@code update_fn}). Per element, in float, state
 * {@code exp_avg}:
 * <pre>
 *   g = grad * gradScale                  (clipping coefficient; negated under maximize)
 *   c = fma(m, beta1, g * (1 - beta1))    (exp_avg.clone().mul_(beta1).add(grad, alpha=1 - beta1))
 *   u = signum(c)                         (.sign_(): -1, 0 or 1; NaN stays NaN)
 *   p = fma(u, -lr, p * (1 - lr * wd))    (p.mul_(1 - lr * wd); p.add_(update, alpha=-lr): lr * u is exact, so
 *                                          this is those two float operations, bit for bit)
 *   m = fma(m, beta2, g * (1 - beta2))    (exp_avg.mul_(beta2).add_(grad, alpha=1 - beta2))
 * </pre>
 * The update's size is lr (plus the decay) whatever the gradient's: only its sign reaches the parameter.
 */
public final class LionStep extends KeyedStep implements UpdateStep {
    float negLr;
    float decay = 1f;
    float beta1;
    float oneMinusBeta1;
    float beta2;
    float oneMinusBeta2;
    float gradScale = 1f;

    /**
     * Prepares a step of a group.
     *
     * @param gradScale the factor each gradient is multiplied by first (the clipping coefficient, 1 for none;
     *                  negative under maximize)
     */
    public LionStep prepare(double lr, double beta1, double beta2, double weightDecay, double gradScale) {
        this.negLr = (float) -lr;
        this.decay = (float) (1.0 - lr * weightDecay);
        this.beta1 = (float) beta1;
        this.oneMinusBeta1 = (float) (1.0 - beta1);
        this.beta2 = (float) beta2;
        this.oneMinusBeta2 = (float) (1.0 - beta2);
        this.gradScale = (float) gradScale;
        return this;
    }

    /** The scalar loop over the whole chunk: the formula above, element by element. */
    static void scalar(Chunk c, LionStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0];
        final float negLr = k.negLr, decay = k.decay, b1 = k.beta1, c1 = k.oneMinusBeta1, b2 = k.beta2;
        final float c2 = k.oneMinusBeta2, scale = k.gradScale;
        for (int i = 0; i < c.length; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            float m = ms.get(F, off);
            float u = Math.signum(Math.fma(m, b1, g * c1));
            ps.set(F, off, Math.fma(u, negLr, p * decay));
            ms.set(F, off, Math.fma(m, b2, g * c2));
        }
    }
}
