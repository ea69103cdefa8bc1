package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;

/**
 * The prepared step of NAdam (Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop) as PyTorch's
 * {@code torch/optim/nadam.py}, {@code _single_tensor_nadam}, computes it. Per element, in float, state
 * {@code exp_avg}, {@code exp_avg_sq}:
 * <pre>
 *   g = grad * gradScale                     (clipping coefficient; negated under maximize: grad = -grad)
 *   p = p * (1 - lr * wd)                    (decoupled_weight_decay: param.mul_(1 - lr * weight_decay))
 *   g = fma(p, wd, g)                        (otherwise, wd != 0: grad = grad.add(param, alpha=weight_decay))
 *   m = fma(m, beta1, g * (1 - beta1))       (exp_avg.lerp_(grad, 1 - beta1))
 *   v = fma(v, beta2, (g * (1 - beta2)) * g) (exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2))
 *   d = sqrt(v / bc2) + eps                  (exp_avg_sq.div(bias_correction2).sqrt(), then denom.add_(eps))
 *   p = fma(g / d, c1, p)                    (param.addcdiv_(grad, denom, value=-lr * (1 - mu) / (1 - mu_product)))
 *   p = fma(m / d, c2, p)                    (param.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1 - mu_product_next)))
 * </pre>
 * Per step, in double as PyTorch's Python floats: {@code bc2 = 1 - beta2^t},
 * {@code mu = beta1 (1 - 0.5 * 0.96^(t psi))}, {@code mu_next = beta1 (1 - 0.5 * 0.96^((t + 1) psi))} (psi the
 * momentum decay), {@code c1}, {@code c2}; each rounded to float where a float kernel receives it. The running
 * product {@code mu_product} is a float32 tensor in PyTorch ({@code torch.ones((), dtype=float32)}, then
 * {@code mu_product *= mu}), so it is kept here as a float, multiplied in float by {@code (float) mu}, and read back
 * as a double for {@code c1} and {@code c2}, as {@code _get_value(mu_product)} reads it.
 */
public final class NAdamStep extends KeyedStep implements UpdateStep {
    float decay = 1f;
    float weightDecay;
    boolean useL2;
    float beta1;
    float oneMinusBeta1;
    float beta2;
    float oneMinusBeta2;
    float bc2;
    float eps;
    float c1;
    float c2;
    float gradScale = 1f;

    private float muProduct = 1f;

    /** The running product of mu over the group's steps so far (PyTorch's {@code mu_product}; 1 before any). */
    public float muProduct() {
        return muProduct;
    }

    /** Sets {@code mu_product} as a checkpoint or a previous optimizer recorded it after its last step. */
    public void restoreMuProduct(float muProduct) {
        this.muProduct = muProduct;
    }

    /**
     * Prepares update number {@code t} (1 for the first) of a group, and multiplies {@code mu_product} by this
     * step's mu: call once per applied step, in order.
     *
     * @param gradScale the factor each gradient is multiplied by first (the clipping coefficient, 1 for none;
     *                  negative under maximize)
     */
    public NAdamStep prepare(double lr, double beta1, double beta2, double eps, double weightDecay,
                             double momentumDecay, boolean decoupled, long t, double gradScale) {
        double bc2 = 1 - Math.pow(beta2, t);
        double mu = beta1 * (1.0 - 0.5 * Math.pow(0.96, t * momentumDecay));
        double muNext = beta1 * (1.0 - 0.5 * Math.pow(0.96, (t + 1) * momentumDecay));
        muProduct = muProduct * (float) mu;                     // mu_product *= mu, on a float32 tensor
        double muProductNext = (double) muProduct * muNext;     // _get_value(mu_product) * mu_next
        this.c1 = (float) (-lr * (1.0 - mu) / (1.0 - muProduct));
        this.c2 = (float) ((-lr * muNext) / (1.0 - muProductNext));
        this.bc2 = (float) bc2;
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
    static void scalar(Chunk c, NAdamStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], vs = c.state[1];
        final float decay = k.decay, wd = k.weightDecay, b1 = k.beta1, o1 = k.oneMinusBeta1, b2 = k.beta2;
        final float o2 = k.oneMinusBeta2, bc2 = k.bc2, eps = k.eps, c1 = k.c1, c2 = k.c2, scale = k.gradScale;
        final boolean useL2 = k.useL2;
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
            float d = (float) Math.sqrt(v / bc2) + eps;
            p = Math.fma(g / d, c1, p);
            ps.set(F, off, Math.fma(m / d, c2, p));
        }
    }
}
