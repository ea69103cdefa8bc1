package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;

/**
 * The prepared step of ASGD, averaged stochastic gradient descent (Polyak and Juditsky, "Acceleration of Stochastic
 * Approximation by Averaging", SIAM J. Control Optim. 30(4), 1992), as PyTorch's {@code torch/optim/asgd.py},
 * {@code _single_tensor_asgd}, computes it. Per element, in float, state {@code ax}:
 * <pre>
 *   g  = grad * gradScale                (clipping coefficient; negated under maximize: grad = -grad)
 *   g  = fma(p, wd, g)                   (wd != 0: grad = grad.add(param, alpha=weight_decay))
 *   p  = p * decay                       (param.mul_(1 - lambd * eta))
 *   p  = fma(g, -eta, p)                 (param.add_(grad, alpha=-eta))
 *   ax = ax + (p - ax) * mu              (mu != 1: ax.add_(param.sub(ax).mul_(mu)))
 *   ax = p                               (mu == 1: ax.copy_(param); ax is then written, not read)
 * </pre>
 * {@code eta} and {@code mu} are the group's running scalars (PyTorch keeps them per tensor as float32 0-dim
 * tensors, all equal within a group that steps together; kept here as floats): before the first step
 * {@code eta = lr} (the first step's lr, rounded to float as {@code torch.as_tensor(lr, dtype=float32)}) and
 * {@code mu = 1}. Each step uses them as they are, then sets them from its own lr and step number, in double as
 * PyTorch's Python floats, rounded to float as {@code eta.copy_(torch.as_tensor(...))} stores them:
 * <pre>
 *   eta = lr / (1 + lambd * lr * step)^alpha
 *   mu  = 1 / max(1, step - t0)
 * </pre>
 * {@code decay = (float) (1 - lambd * eta)}, with eta read back as a double ({@code _get_value(eta)}). PyTorch's
 * {@code step} is a float32 tensor incremented by 1, which stops growing at 2^24 (2^24 + 1 rounds back to 2^24);
 * {@code step} here is {@code min(t, 2^24)} to match it.
 */
public final class AsgdStep extends KeyedStep implements UpdateStep {
    /** The largest value PyTorch's float32 step counter reaches: 2^24 + 1 rounds to 2^24. */
    static final long FLOAT_STEP_LIMIT = 1L << 24;

    float decay = 1f;
    float negEta;
    float mu = 1f;
    boolean average;
    float weightDecay;
    boolean useWeightDecay;
    float gradScale = 1f;

    private float eta;
    private float nextMu = 1f;

    /** The eta the next step uses (PyTorch's state {@code eta}); 0 before the first step, which sets it to lr. */
    public float eta() {
        return eta;
    }

    /** The mu the next step uses (PyTorch's state {@code mu}; 1 before the first step). */
    public float mu() {
        return nextMu;
    }

    /** Sets eta and mu as a checkpoint or a previous optimizer recorded them after its last step. */
    public void restore(float eta, float mu) {
        this.eta = eta;
        this.nextMu = mu;
    }

    /**
     * Prepares update number {@code t} (1 for the first) of a group with learning rate {@code lr}, and advances eta
     * and mu to the values the next step uses: call once per applied step, in order.
     *
     * @param gradScale the factor each gradient is multiplied by first (the clipping coefficient, 1 for none;
     *                  negative under maximize)
     */
    public AsgdStep prepare(double lr, double lambd, double alpha, double t0, double weightDecay, long t,
                            double gradScale) {
        if (t == 1) { // PyTorch's state initialization: eta = lr as a float32 tensor, mu = ones(())
            eta = (float) lr;
            nextMu = 1f;
        }
        this.decay = (float) (1 - lambd * (double) eta);        // param.mul_(1 - lambd * eta_value)
        this.negEta = -eta;                                      // alpha=-eta_value: exact negation of a float
        this.mu = nextMu;
        this.average = nextMu != 1f;                              // if mu.item() != 1
        double step = Math.min(t, FLOAT_STEP_LIMIT);             // _get_value(step_t), a float32 counter
        eta = (float) (lr / Math.pow(1 + lambd * lr * step, alpha)); // lr / ((1 + lambd * lr * step) ** alpha)
        nextMu = (float) (1 / Math.max(1, step - t0));           // 1 / max(1, step - t0)
        this.weightDecay = (float) weightDecay;
        this.useWeightDecay = weightDecay != 0;
        this.gradScale = (float) gradScale;
        return this;
    }

    /** The scalar loop over the whole chunk: the formula above, element by element. */
    static void scalar(Chunk c, AsgdStep k) {
        final MemorySegment ps = c.params, gs = c.grads, as = c.state[0];
        final float decay = k.decay, negEta = k.negEta, mu = k.mu, wd = k.weightDecay, scale = k.gradScale;
        final boolean useWd = k.useWeightDecay, average = k.average;
        for (int i = 0; i < c.length; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            if (useWd) {
                g = Math.fma(p, wd, g);
            }
            p = Math.fma(g, negEta, p * decay);
            ps.set(F, off, p);
            if (average) {
                float ax = as.get(F, off);
                as.set(F, off, ax + (p - ax) * mu);
            } else {
                as.set(F, off, p);
            }
        }
    }
}
