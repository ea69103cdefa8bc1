package vecopt.kernel;

/**
 * The prepared step of SGD with momentum, PyTorch semantics ({@code torch.optim.SGD}): the per-step scalars of one
 * parameter group, reused so a step allocates nothing. Per element:
 * <pre>
 *   g   = grad * gradScale
 *   g   = fma(p, wd, g)                          (L2 weight decay, when wd != 0)
 *   buf = g                                      (first step)
 *   buf = fma(buf, momentum, g * (1 - dampening)) (later steps)
 *   d   = nesterov ? fma(buf, momentum, g) : buf (d = g when momentum is 0: plain SGD, no buffer)
 *   p   = fma(d, -lr, p)
 * </pre>
 */
public final class SgdStep extends KeyedStep {
    /** A group's constant hyperparameters, as the kernel needs them. */
    public record Hyper(double momentum, double dampening, double weightDecay, boolean nesterov) {
    }

    float negLr;
    float momentum;
    float oneMinusDampening;
    float weightDecay;
    boolean useWeightDecay;
    boolean useMomentum;
    boolean nesterov;
    boolean firstStep;
    float gradScale = 1f;

    /** Prepares update number {@code t} (1 for the first: the buffer is set to the gradient) with {@code lr}. */
    public SgdStep prepare(Hyper h, double lr, long t, double gradScale) {
        this.negLr = (float) -lr;
        this.momentum = (float) h.momentum();
        this.oneMinusDampening = (float) (1.0 - h.dampening());
        this.weightDecay = (float) h.weightDecay();
        this.useWeightDecay = h.weightDecay() != 0.0;
        this.useMomentum = h.momentum() != 0.0;
        this.nesterov = h.nesterov();
        this.firstStep = t == 1;
        this.gradScale = (float) gradScale;
        return this;
    }
}
