package vecopt.reference;

/**
 * SGD as PyTorch's {@code torch.optim.SGD} states it, one element at a time, in double, rounding to float where
 * PyTorch stores a float tensor (the momentum buffer and the parameter).
 */
public final class SgdReference {
    private SgdReference() {
    }

    /**
     * One step, in place. {@code buf} may be null when momentum is 0 (plain SGD keeps no buffer).
     *
     * @param firstStep true on the group's first step, when PyTorch sets the buffer to the gradient
     */
    public static void step(float[] p, float[] g, float[] buf, int from, int to, double lr, double momentum,
                            double dampening, double weightDecay, boolean nesterov, boolean firstStep,
                            double gradScale) {
        step(p, g, buf, from, to, lr, momentum, dampening, weightDecay, nesterov, firstStep, gradScale, false);
    }

    /** As above; {@code maximize} negates the gradient first ({@code d_p = -d_p}, before weight decay). */
    public static void step(float[] p, float[] g, float[] buf, int from, int to, double lr, double momentum,
                            double dampening, double weightDecay, boolean nesterov, boolean firstStep,
                            double gradScale, boolean maximize) {
        for (int i = from; i < to; i++) {
            double dp = g[i] * (double) (float) gradScale;
            if (maximize) {
                dp = -dp;                                              // d_p = d_p if not maximize else -d_p
            }
            if (weightDecay != 0) {
                dp = dp + weightDecay * p[i];                          // d_p = d_p.add(param, alpha=wd)
            }
            if (momentum != 0) {
                if (firstStep) {
                    buf[i] = (float) dp;                               // buf = torch.clone(d_p)
                } else {
                    buf[i] = (float) (momentum * buf[i] + (1 - dampening) * dp); // buf.mul_(mom).add_(d_p, 1-damp)
                }
                dp = nesterov ? dp + momentum * buf[i] : buf[i];       // d_p.add(buf, alpha=mom) or buf
            }
            p[i] = (float) (p[i] - lr * dp);                           // param.add_(d_p, alpha=-lr)
        }
    }
}
