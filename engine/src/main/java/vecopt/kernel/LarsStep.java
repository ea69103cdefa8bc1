package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;

/**
 * The prepared step of LARS (You, Gitman and Ginsburg, "Large Batch Training of Convolutional Networks", 2017) as
 * optax's {@code lars} computes it ({@code optax/_src/alias.py}: {@code add_decayed_weights},
 * {@code scale_by_trust_ratio} under the trust-ratio mask, the learning rate, {@code trace}). Per element, in
 * float, state {@code trace}:
 * <pre>
 *   pass 1 (reads p, g; groups with the trust ratio only):
 *     u = fma(p, weightDecay, grad * gradScale)    (add_decayed_weights: g + wd * p)
 *     sums: sum u^2 and sum p^2 over the chunk, in double
 *   pass 2 (reads p, g, trace; writes p, trace):
 *     u = fma(p, weightDecay, grad * gradScale) * factor   (factor = -lr * trust ratio, or -lr without it)
 *     trace = fma(trace, momentum, u)              (trace: u + momentum * trace)
 *     p += nesterov ? fma(trace, momentum, u) : trace
 * </pre>
 * Differences from optax, each at most a rounding: the decay is a fused multiply-add, and the learning rate and the
 * trust ratio are one factor computed in double and rounded once (optax multiplies by the ratio, then by
 * {@code -lr}, in float32). 28 bytes per parameter over both passes: pass 1 8, pass 2 20.
 *
 * <p>With bfloat16 state ({@code bfloat16State(seed)}, {@code Chunk.stateType} 1) pass 2 stores the new trace rounded
 * stochastically with its key ({@link KeyedStep#roundingKeys}, variable 0) and moves the parameters by the trace as
 * computed in float32, before its rounding, as SGD's momentum buffer does: the step is bit for bit the float32 step on
 * the trace it read. Pass 1 reads no state. 24 bytes per parameter: pass 1 8, pass 2 16.
 *
 * <p>With 8-bit block-quantized state ({@code eightBitState()}, {@code Chunk.stateType} 2: {@code trace} signed,
 * {@link BlockCodes}) pass 2 sets each block's scale just before the block, once the tensor's factor is known
 * ({@code MixedScalar.larsScales}: {@code |momentum| T + |factor| (G + |wd| P)}, the derivation there), codes the new
 * trace against it and moves the parameters by the trace as computed, before it is coded. Pass 1 reads no state.
 * 22 bytes per parameter: pass 1 8, pass 2 14 (the trace 1 byte read, 1 written).
 */
public final class LarsStep extends KeyedStep implements TrustRatioStep {
    float weightDecay;
    float momentum;
    boolean nesterov;
    float gradScale = 1f;

    /**
     * Prepares a step of a group.
     *
     * @param gradScale the factor each gradient is multiplied by first (the clipping coefficient, 1 for none;
     *                  negative under maximize)
     */
    public LarsStep prepare(double weightDecay, double momentum, boolean nesterov, double gradScale) {
        this.weightDecay = (float) weightDecay;
        this.momentum = (float) momentum;
        this.nesterov = nesterov;
        this.gradScale = (float) gradScale;
        return this;
    }

    /** Pass 1 over elements {@code [from, to)} of the chunk; adds the sums to the chunk's slots (see {@link Kernels#trustNorms}). */
    static void norms(Chunk c, LarsStep k, int from, int to, double[] sums, int slot) {
        final MemorySegment ps = c.params, gs = c.grads;
        final float wd = k.weightDecay, scale = k.gradScale;
        double su = 0, sp = 0;
        for (int i = from; i < to; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float u = Math.fma(p, wd, gs.get(F, off) * scale);
            su = Math.fma(u, (double) u, su);
            sp = Math.fma(p, (double) p, sp);
        }
        sums[Kernels.NORM_SLOTS * slot] += su;
        sums[Kernels.NORM_SLOTS * slot + Kernels.NORM_SLOTS / 2] += sp;
    }

    /** Pass 2 over elements {@code [from, to)} of the chunk. */
    static void apply(Chunk c, LarsStep k, int from, int to, float factor) {
        final MemorySegment ps = c.params, gs = c.grads, ts = c.state[0];
        final float wd = k.weightDecay, scale = k.gradScale, mom = k.momentum;
        final boolean nesterov = k.nesterov;
        for (int i = from; i < to; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float u = Math.fma(p, wd, gs.get(F, off) * scale) * factor;
            float t = Math.fma(ts.get(F, off), mom, u);
            ts.set(F, off, t);
            ps.set(F, off, p + (nesterov ? Math.fma(t, mom, u) : t));
        }
    }
}
