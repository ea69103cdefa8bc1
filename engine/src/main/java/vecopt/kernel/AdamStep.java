package vecopt.kernel;

/**
 * The per-step scalars of an Adam-family update, computed once per step and group in double, then rounded to the
 * float the kernel multiplies by. Mutable and reused so the step allocates nothing.
 *
 * <p>Per element the kernels compute, in float, with {@code fma} exact-then-round-once:
 * <pre>
 *   g  = grad * gradScale                  (gradScale = the clipping coefficient, 1 when not clipping)
 *   g  = fma(p, l2, g)                     (only for Adam's L2 form, l2 = weight decay)
 *   m  = fma(m, beta1, g * (1 - beta1))
 *   v  = fma(v, beta2, (g * (1 - beta2)) * g)
 *   vm = max(vm, v)                        (AMSGrad only; the denominator then uses vm)
 *   d  = fma(sqrt(v), 1 / sqrt(1 - beta2^t), eps)
 *   p  = fma(m / d, -lr / (1 - beta1^t), p * (1 - lr * wd))   (decoupled decay factor 1 for Adam)
 * </pre>
 * which is PyTorch's {@code torch.optim.AdamW}/{@code Adam} (eps added after {@code sqrt(v) / sqrt(bc2)}), with the
 * divisions by the bias corrections hoisted into two per-step constants.
 */
public final class AdamStep {
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

    /**
     * Sets the scalars for step number {@code t} (1 for the first step).
     *
     * @param decoupled true for AdamW's decoupled decay {@code p *= 1 - lr*wd}, false for Adam's L2 form
     *                  {@code g += wd*p}
     */
    public AdamStep set(double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled,
                        boolean amsgrad, long t, double gradScale) {
        double bc1 = 1.0 - Math.pow(beta1, t);
        double bc2 = 1.0 - Math.pow(beta2, t);
        this.beta1 = (float) beta1;
        this.oneMinusBeta1 = (float) (1.0 - beta1);
        this.beta2 = (float) beta2;
        this.oneMinusBeta2 = (float) (1.0 - beta2);
        this.eps = (float) eps;
        this.decay = decoupled ? (float) (1.0 - lr * weightDecay) : 1f;
        this.useL2 = !decoupled && weightDecay != 0.0;
        this.l2 = useL2 ? (float) weightDecay : 0f;
        this.amsgrad = amsgrad;
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

    /** Sets the factor each gradient is multiplied by (the clipping coefficient), keeping the other scalars. */
    public void gradScale(double scale) {
        this.gradScale = (float) scale;
    }
}
