package vecopt.kernel;

/**
 * The prepared step of an Adam-family update: the per-step scalars of one parameter group, computed once per step
 * in double and rounded to the floats the kernel multiplies by. Mutable and reused, so a step allocates nothing.
 *
 * <p>Per element the kernels compute, in float, with {@code fma} exact-then-round-once:
 * <pre>
 *   g  = grad * gradScale                  (gradScale: clipping coefficient, 1 when not clipping)
 *   g  = fma(p, l2, g)                     (Adam's L2 form only, l2 = weight decay)
 *   m  = fma(m, beta1, g * (1 - beta1))
 *   v  = fma(v, beta2, (g * (1 - beta2)) * g)
 *   vm = max(vm, v)                        (AMSGrad only; the denominator then uses vm)
 *   d  = fma(sqrt(v), 1 / sqrt(1 - beta2^t), eps)
 *   p  = fma(m / d, -lr / (1 - beta1^t), p * (1 - lr * wd))   (decoupled decay factor 1 for Adam)
 * </pre>
 * which is PyTorch's {@code torch.optim.AdamW}/{@code Adam} (eps added after {@code sqrt(v) / sqrt(bc2)}), with the
 * divisions by the bias corrections hoisted into two per-step constants.
 */
public final class AdamStep extends KeyedStep {
    /**
     * A group's constant hyperparameters, as the kernel needs them.
     *
     * @param decoupled AdamW's decoupled decay {@code p *= 1 - lr*wd} when true, Adam's L2 form {@code g += wd*p}
     *                  when false
     */
    public record Hyper(double beta1, double beta2, double eps, double weightDecay, boolean decoupled,
                        boolean amsgrad) {
    }

    float beta1;
    float oneMinusBeta1;
    float beta2;
    float oneMinusBeta2;
    float eps;
    float decay = 1f;
    float l2;
    boolean useL2;
    boolean amsgrad;
    float negStepSize;
    float invSqrtBc2;
    float gradScale = 1f;

    /** Prepares update number {@code t} (1 for the first) with learning rate {@code lr}; returns this. */
    public AdamStep prepare(Hyper h, double lr, long t, double gradScale) {
        double bc1 = 1.0 - Math.pow(h.beta1(), t);
        double bc2 = 1.0 - Math.pow(h.beta2(), t);
        this.beta1 = (float) h.beta1();
        this.oneMinusBeta1 = (float) (1.0 - h.beta1());
        this.beta2 = (float) h.beta2();
        this.oneMinusBeta2 = (float) (1.0 - h.beta2());
        this.eps = (float) h.eps();
        this.decay = h.decoupled() ? (float) (1.0 - lr * h.weightDecay()) : 1f;
        this.useL2 = !h.decoupled() && h.weightDecay() != 0.0;
        this.l2 = useL2 ? (float) h.weightDecay() : 0f;
        this.amsgrad = h.amsgrad();
        this.negStepSize = (float) (-lr / bc1);
        this.invSqrtBc2 = (float) (1.0 / Math.sqrt(bc2));
        this.gradScale = (float) gradScale;
        return this;
    }

    public float decay() {
        return decay;
    }

    public float negStepSize() {
        return negStepSize;
    }

    public float invSqrtBc2() {
        return invSqrtBc2;
    }
}
