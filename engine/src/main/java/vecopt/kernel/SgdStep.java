package vecopt.kernel;

/**
 * The per-step scalars of SGD with momentum, PyTorch semantics ({@code torch.optim.SGD}):
 * <pre>
 *   g   = grad * gradScale
 *   g   = fma(p, wd, g)                          (L2 weight decay, when wd != 0)
 *   buf = g                                      (first step)
 *   buf = fma(buf, momentum, g * (1 - dampening)) (later steps)
 *   d   = nesterov ? fma(buf, momentum, g) : buf (d = g when momentum is 0: plain SGD, no buffer)
 *   p   = fma(d, -lr, p)
 * </pre>
 */
public final class SgdStep {
    float negLr;
    float momentum;
    float oneMinusDampening;
    float weightDecay;
    boolean useWeightDecay;
    boolean useMomentum;
    boolean nesterov;
    boolean firstStep;
    float gradScale = 1f;

    public SgdStep set(double lr, double momentum, double dampening, double weightDecay, boolean nesterov,
                       boolean firstStep, double gradScale) {
        this.negLr = (float) -lr;
        this.momentum = (float) momentum;
        this.oneMinusDampening = (float) (1.0 - dampening);
        this.weightDecay = (float) weightDecay;
        this.useWeightDecay = weightDecay != 0.0;
        this.useMomentum = momentum != 0.0;
        this.nesterov = nesterov;
        this.firstStep = firstStep;
        this.gradScale = (float) gradScale;
        return this;
    }

    /** Sets the factor each gradient is multiplied by (the clipping coefficient), keeping the other scalars. */
    public void gradScale(double scale) {
        this.gradScale = (float) scale;
    }
}
