package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;

/**
 * The prepared step of LAMB (You et al., "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes",
 * 2019, Algorithm 2) as optax's {@code lamb} computes it ({@code optax/_src/alias.py}: {@code scale_by_adam},
 * {@code add_decayed_weights}, {@code scale_by_trust_ratio}, the learning rate). Per element, in float, state
 * {@code mu}, {@code nu}:
 * <pre>
 *   pass 1 (reads p, g, mu, nu; writes mu, nu):
 *     g  = grad * gradScale                       (clipping coefficient; negative under maximize)
 *     mu = fma(mu, b1, g * (1 - b1))              (update_moment: (1 - b1) * g + b1 * mu)
 *     nu = fma(nu, b2, g * (1 - b2) * g)          (update_moment_per_elem_norm, order 2)
 *     u  = (mu * ib1) / (sqrt(nu * ib2 + epsRoot) + eps)      (bias_correction; scale_by_adam's quotient)
 *     u  = fma(p, weightDecay, u)                 (add_decayed_weights: u + wd * p)
 *     sums: sum u^2 and sum p^2 over the chunk, in double
 *   pass 2 (reads p, mu, nu; writes p):
 *     u  = as in pass 1, from the mu and nu pass 1 stored (bitwise the same u)
 *     p  = fma(u, factor, p)                      (factor = -lr * trust ratio of the tensor)
 * </pre>
 * with {@code ib1 = 1 / (1 - b1^t)}, {@code ib2 = 1 / (1 - b2^t)} computed in double and rounded to float.
 * Differences from optax, each at most a rounding: the bias corrections are multiplications by their reciprocals
 * (optax divides by the correction; two divisions fewer per element in each pass, as AdamW's corrections are folded
 * here too), the moment updates and the decay are fused multiply-adds (optax rounds the product and the sum), and
 * the learning rate and the trust ratio are one factor computed in double and rounded once (optax multiplies the
 * update by the ratio, then by {@code -lr}, in float32). 40 bytes per parameter over both passes: pass 1 24,
 * pass 2 16.
 *
 * <p>With bfloat16 state ({@code bfloat16State(seed)}, {@code Chunk.stateType} 1) pass 1 stores each new moment
 * rounded stochastically with its variable's key ({@link KeyedStep#roundingKeys}: 0 {@code mu}, 1 {@code nu}) and
 * computes {@code u} from the stored values, widened: the update takes the moments as stored, as AdamW's does and as
 * PyTorch's does when its state is bfloat16. Pass 2 reads them back, so its {@code u} is bitwise pass 1's, the update
 * whose norm the trust ratio holds. (Updating with the unrounded moments would need pass 2 to recompute them from the
 * old state and the gradient, pass 1 writing none: the gradient read twice.) 28 bytes per parameter with float32
 * parameters and gradients: pass 1 16, pass 2 12.
 *
 * <p>With 8-bit block-quantized state ({@code eightBitState()}, {@code Chunk.stateType} 2: {@code mu} signed,
 * {@code nu} as its square root, {@link BlockCodes}) pass 1 sets each block's scales before its first element, from
 * Adam's bounds ({@code MixedScalar.lambScales}: the block's largest decoded moments and largest {@code |g|}), codes
 * the new moments against them and computes {@code u} (and its norm) from the codes decoded against the new scales;
 * pass 2 decodes the same codes against the same scales and recomputes {@code u} bit for bit, so the ratio is that of
 * the update applied, as with bfloat16 state. 22 bytes per parameter with float32 parameters and gradients (each
 * moment 1 byte in each pass; a float scale per 256 elements and moment besides): pass 1 12, pass 2 10.
 */
public final class LambStep extends KeyedStep implements TrustRatioStep {
    float beta1;
    float oneMinusBeta1;
    float beta2;
    float oneMinusBeta2;
    float invBc1;
    float invBc2;
    float eps;
    float epsRoot;
    float weightDecay;
    float gradScale = 1f;

    /**
     * Prepares update number {@code t} (1 for the first) of a group.
     *
     * @param gradScale the factor each gradient is multiplied by first (the clipping coefficient, 1 for none;
     *                  negative under maximize)
     */
    public LambStep prepare(double beta1, double beta2, double eps, double epsRoot, double weightDecay, long t,
                            double gradScale) {
        this.beta1 = (float) beta1;
        this.oneMinusBeta1 = (float) (1.0 - beta1);
        this.beta2 = (float) beta2;
        this.oneMinusBeta2 = (float) (1.0 - beta2);
        this.invBc1 = (float) (1 / (1 - Math.pow(beta1, t)));
        this.invBc2 = (float) (1 / (1 - Math.pow(beta2, t)));
        this.eps = (float) eps;
        this.epsRoot = (float) epsRoot;
        this.weightDecay = (float) weightDecay;
        this.gradScale = (float) gradScale;
        return this;
    }

    /** Pass 1 over elements {@code [from, to)} of the chunk; adds the sums to the chunk's slots (see {@link Kernels#trustNorms}). */
    static void norms(Chunk c, LambStep k, int from, int to, double[] sums, int slot) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], vs = c.state[1];
        final float b1 = k.beta1, c1 = k.oneMinusBeta1, b2 = k.beta2, c2 = k.oneMinusBeta2;
        final float ib1 = k.invBc1, ib2 = k.invBc2;
        final float eps = k.eps, epsRoot = k.epsRoot, wd = k.weightDecay, scale = k.gradScale;
        double su = 0, sp = 0;
        for (int i = from; i < to; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            float m = Math.fma(ms.get(F, off), b1, g * c1);
            float v = Math.fma(vs.get(F, off), b2, g * c2 * g);
            ms.set(F, off, m);
            vs.set(F, off, v);
            float u = Math.fma(p, wd, (m * ib1) / ((float) Math.sqrt(v * ib2 + epsRoot) + eps));
            su = Math.fma(u, (double) u, su);
            sp = Math.fma(p, (double) p, sp);
        }
        sums[Kernels.NORM_SLOTS * slot] += su;
        sums[Kernels.NORM_SLOTS * slot + Kernels.NORM_SLOTS / 2] += sp;
    }

    /** Pass 2 over elements {@code [from, to)} of the chunk: {@code p += factor * u}. */
    static void apply(Chunk c, LambStep k, int from, int to, float factor) {
        final MemorySegment ps = c.params, ms = c.state[0], vs = c.state[1];
        final float ib1 = k.invBc1, ib2 = k.invBc2, eps = k.eps, epsRoot = k.epsRoot, wd = k.weightDecay;
        for (int i = from; i < to; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float m = ms.get(F, off), v = vs.get(F, off);
            float u = Math.fma(p, wd, (m * ib1) / ((float) Math.sqrt(v * ib2 + epsRoot) + eps));
            ps.set(F, off, Math.fma(u, factor, p));
        }
    }
}
