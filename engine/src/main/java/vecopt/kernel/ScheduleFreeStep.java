package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;

/**
 * The prepared step of schedule-free AdamW (Defazio et al., "The Road Less Scheduled", 2024) as
 * {@code facebookresearch/schedule_free}'s {@code schedulefree/adamw_schedulefree.py} ({@code AdamWScheduleFree.step},
 * the per-tensor loop) computes it, and the {@code train()}/{@code eval()} switch of the same file. The parameter
 * buffer holds y in train mode. Per element, in float, state {@code z} and {@code exp_avg_sq}:
 * <pre>
 *   g  = grad * gradScale                 (clipping coefficient; negated under maximize)
 *   z  = y                                (the group's first step only: state['z'] = clone(p))
 *   v  = fma(v, beta2, (g * (1 - beta2)) * g)   (exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1-beta2))
 *   d  = sqrt(v / bc2) + eps              (exp_avg_sq.div(bias_correction2).sqrt_().add_(eps))
 *   u  = g / d                            (grad.div_(denom))
 *   u  = fma(y, wd, u)                    (wd != 0: grad_normalized.add_(y, alpha=decay): at y, before it moves)
 *   y  = lerp(y, z, ckp1)                 (y.lerp_(end=z, weight=ckp1))
 *   y  = fma(u, lr * (beta1 * (1 - ckp1) - 1), y)   (y.add_(grad_normalized, alpha=...))
 *   z  = fma(u, -lr, z)                   (z.sub_(grad_normalized, alpha=lr))
 * </pre>
 * {@code lerp(a, b, w)} is PyTorch's CPU lerp with a float weight: {@code fma(b - a, w, a)} when {@code |w| < 0.5},
 * else {@code fma(b - a, -(1 - w), b)} (its {@code end - (end - self) * (1 - weight)}, fused as its vector kernel
 * fuses it). The branch depends on the weight only, so it is chosen once per step: {@link #lerpCoef} and
 * {@link #lerpFromEnd}.
 *
 * <p>The per-step scalars are computed in double, as the original computes them in Python floats, from the group's
 * running scalars ({@code k}, {@code lr_max}, {@code weight_sum}) and rounded to float where a float32 tensor op
 * receives them ({@code bc2}, {@code ckp1}, the y coefficient, {@code lr}):
 * <pre>
 *   sched      = (k + 1) / warmup_steps if k &lt; warmup_steps else 1
 *   lr         = lr * sched
 *   bc2        = 1 - beta2^(k + 1)
 *   lr_max     = max(lr, lr_max)                          (lr_max starts at -1)
 *   weight     = (k + 1)^r * lr_max^weight_lr_power
 *   weight_sum = weight_sum + weight
 *   ckp1       = weight / weight_sum                      (0 when weight_sum is 0: the original's ZeroDivisionError)
 * </pre>
 *
 * <p>The switch ({@link #prepareSwitch}): {@code p = lerp(p, z, w)} with {@code w = 1 - 1/beta1} (eval: y to x) or
 * {@code w = 1 - beta1} (train: x to y), for groups that have stepped (the original moves only parameters with a
 * {@code z}).
 */
public final class ScheduleFreeStep extends KeyedStep implements UpdateStep {
    float beta2;
    float oneMinusBeta2;
    float bc2;
    float eps;
    float weightDecay;
    boolean useWeightDecay;
    float lerpCoef;
    boolean lerpFromEnd;
    float yCoef;
    float negLr;
    float gradScale = 1f;
    boolean first;
    /** True while this holds a train/eval switch rather than a step. */
    boolean switching;
    /** During a switch: false for a group that has not stepped yet (no z: the parameters stay). */
    boolean moves;

    private double lrMax = -1.0;
    private double weightSum;
    private double scheduledLr;
    private double ckp1;

    /**
     * Sets the stochastic rounding's key for a switch to train ({@code train}) or eval mode after {@code t} steps of
     * the group, in a run seeded with {@code seed}: numbers of their own, not a step's (see
     * {@code MixedScalar.stateKey}).
     */
    public ScheduleFreeStep switchRoundingKey(long seed, long t, boolean train) {
        this.roundingKey = MixedScalar.stateKey(seed, t, train ? 4 : 3);
        return this;
    }

    /** The original's group scalar {@code lr_max}: the largest warmed-up lr so far; -1 before the first step. */
    public double lrMax() {
        return lrMax;
    }

    /** The original's group scalar {@code weight_sum}: the sum of the averaging weights so far. */
    public double weightSum() {
        return weightSum;
    }

    /** The original's {@code scheduled_lr} (for logging): the last step's lr after warmup. */
    public double scheduledLr() {
        return scheduledLr;
    }

    /** The last step's averaging coefficient {@code ckp1}, in double. */
    public double ckp1() {
        return ckp1;
    }

    /** Sets {@code lr_max} and {@code weight_sum} as a checkpoint or a previous optimizer recorded them. */
    public void restore(double lrMax, double weightSum) {
        this.lrMax = lrMax;
        this.weightSum = weightSum;
    }

    /**
     * Prepares the group's step {@code k + 1} (k steps taken before it) with learning rate {@code lr}, and advances
     * {@code lr_max} and {@code weight_sum}: call once per applied step, in order.
     *
     * @param gradScale the factor each gradient is multiplied by first (the clipping coefficient, 1 for none;
     *                  negative under maximize)
     */
    public ScheduleFreeStep prepare(double lr, double beta1, double beta2, double eps, double weightDecay,
                                    long warmupSteps, double r, double weightLrPower, long k, double gradScale) {
        double sched = k < warmupSteps ? (double) (k + 1) / warmupSteps : 1.0;
        double bc2 = 1 - Math.pow(beta2, k + 1);
        double lrNow = lr * sched;
        lrMax = Math.max(lrNow, lrMax);
        double weight = Math.pow(k + 1, r) * Math.pow(lrMax, weightLrPower);
        weightSum = weightSum + weight;
        ckp1 = weightSum == 0 ? 0 : weight / weightSum;
        scheduledLr = lrNow;
        this.beta2 = (float) beta2;
        this.oneMinusBeta2 = (float) (1 - beta2);
        this.bc2 = (float) bc2;
        this.eps = (float) eps;
        this.weightDecay = (float) weightDecay;
        this.useWeightDecay = weightDecay != 0;
        lerp((float) ckp1);
        this.yCoef = (float) (lrNow * (beta1 * (1 - ckp1) - 1));
        this.negLr = -(float) lrNow;
        this.gradScale = (float) gradScale;
        this.first = k == 0;
        this.switching = false;
        return this;
    }

    /**
     * Prepares the train/eval switch of the group: {@code p = lerp(p, z, weight)}, weight {@code 1 - 1/beta1} for
     * eval, {@code 1 - beta1} for train (in double, then float as {@code lerp_} takes it); {@code stepped} false
     * leaves the group's parameters as they are.
     */
    public ScheduleFreeStep prepareSwitch(double weight, boolean stepped) {
        lerp((float) weight);
        this.moves = stepped;
        this.switching = true;
        return this;
    }

    /** PyTorch's lerp branch for float weight {@code w}: from the start when {@code |w| < 0.5}, else from the end. */
    private void lerp(float w) {
        this.lerpFromEnd = !(Math.abs(w) < 0.5f);
        this.lerpCoef = lerpFromEnd ? -(1f - w) : w;
    }

    /** The scalar loops over the whole chunk: the step or the switch above, element by element. */
    static void scalar(Chunk c, ScheduleFreeStep k) {
        if (k.switching) {
            switchScalar(c, k);
            return;
        }
        final MemorySegment ps = c.params, gs = c.grads, zs = c.state[0], vs = c.state[1];
        final MemorySegment zIn = k.first ? ps : zs; // the first step's z is y, as the vector loop reads it
        final float b2 = k.beta2, c2 = k.oneMinusBeta2, bc2 = k.bc2, eps = k.eps, wd = k.weightDecay;
        final float lc = k.lerpCoef, yc = k.yCoef, negLr = k.negLr, scale = k.gradScale;
        final boolean useWd = k.useWeightDecay, fromEnd = k.lerpFromEnd;
        for (int i = 0; i < c.length; i++) {
            final long off = (long) i * Float.BYTES;
            float y = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            float z = zIn.get(F, off);
            float v = Math.fma(vs.get(F, off), b2, (g * c2) * g);
            float u = g / ((float) Math.sqrt(v / bc2) + eps);
            if (useWd) {
                u = Math.fma(y, wd, u);
            }
            float yl = Math.fma(z - y, lc, fromEnd ? z : y);
            ps.set(F, off, Math.fma(u, yc, yl));
            zs.set(F, off, Math.fma(u, negLr, z));
            vs.set(F, off, v);
        }
    }

    private static void switchScalar(Chunk c, ScheduleFreeStep k) {
        if (!k.moves) {
            return;
        }
        final MemorySegment ps = c.params, zs = c.state[0];
        final float lc = k.lerpCoef;
        final boolean fromEnd = k.lerpFromEnd;
        for (int i = 0; i < c.length; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off), z = zs.get(F, off);
            ps.set(F, off, Math.fma(z - p, lc, fromEnd ? z : p));
        }
    }
}
