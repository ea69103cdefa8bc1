package vecopt.kernel;

import java.lang.foreign.MemorySegment;
import vecopt.memory.Float16;

/**
 * The float32 buffers Adafactor's passes read and write, staged from and to their storage: every loop of
 * {@link AdafactorStep} and {@link AdafactorPanama} runs unchanged on float32 gradients, parameters and state, so a
 * step on 16-bit storage is bitwise the float32 step on the stored values widened (README "Mixed precision"):
 * <ul>
 *   <li>gradients ({@link #grads}): a chunk's own where they are float32, else its bfloat16 or float16 gradients
 *       widened (exactly) into the running thread's scratch, once per pass;</li>
 *   <li>parameters ({@link #params}, {@link #storeParams}): float32 ones themselves; 16-bit ones with a float32
 *       master copy: the master (passes 1 and 3 read it, pass 3 writes it), then after pass 3 the 16-bit copy
 *       rounded from it to nearest even, while the chunk's master is in cache; bfloat16 ones without a master:
 *       widened into the thread's scratch (passes 1 and 3), pass 3's result stored rounded stochastically with the
 *       step's key and each element's index in its buffer ({@link MixedScalar#roundStochastically});</li>
 *   <li>bfloat16 state ({@link #state}, {@link #storeState}): {@code exp_avg} and a 1-D tensor's {@code exp_avg_sq}
 *       widened into the thread's scratch before the pass that updates them, the new values stored rounded
 *       stochastically with the variable's key.</li>
 * </ul>
 * The widening is {@link MixedPanama#widen} (bfloat16: zero-extend and shift by 16; float16: exponent and fraction
 * moved into place times 2^112, infinities and NaNs by blends, as {@link Float16#widen}); the nearest-even rounding
 * {@link MixedPanama#narrow}; the stochastic rounding the generated loops' inline stage. Tails and the
 * scalar kernels use {@link MixedScalar}'s element functions, which they equal bit for bit.
 *
 * <p>Why staged copies rather than 16-bit loads and stores in each loop: Adafactor has ten vector loops (pass 1's
 * row, group, block and 1-D loops, pass 2's three, pass 3's three) and their scalar tails; one widening and one
 * rounding loop per type keep their formulas and summation order in one place. The cost is the scratch's write and
 * read per pass (a chunk is at most 4 x 65,536 elements, 1 MiB of floats per thread and buffer, in cache), on top
 * of the stored bytes read from memory.
 */
final class AdafactorStaging {
    private static final int BF16 = 1;  // Dtype.BFLOAT16.ordinal()
    /** Scratch slots: one per staged buffer, as a pass may hold several at once. */
    static final int GRADS = 0;
    static final int PARAMS = 1;
    static final int EXP_AVG = 2;
    static final int EXP_AVG_SQ = 3;
    /** Per thread and slot: a float scratch as long as the longest chunk it has staged (allocated once, then kept). */
    private static final ThreadLocal<MemorySegment[]> SCRATCH = ThreadLocal.withInitial(
            () -> new MemorySegment[] {MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL});

    private AdafactorStaging() {
    }

    /**
     * Before pass {@code pass} (0 the sums, 1 the update sums, 2 the apply) of chunk {@code c}: the float32 buffers
     * the pass reads into {@code w} (gradients; parameters in passes 0 and 2; a 1-D tensor's {@code exp_avg_sq} in
     * passes 0 and 2; {@code exp_avg} in pass 2 with beta1), with vector loops if {@code simd}.
     */
    static void load(Chunk c, AdafactorStep k, AdafactorChunk w, int pass, boolean simd) {
        w.grads = grads(c, simd);
        if (pass == 1) {
            return;
        }
        w.params = params(c, simd);
        final boolean bf16 = c.stateType == 1;
        if (!w.factored()) {
            w.expAvgSq = state(w.expAvgSqStored, bf16, EXP_AVG_SQ, c.length, simd);
        }
        if (pass == 2 && k.firstMoment) {
            w.expAvg = state(c.state[0], bf16, EXP_AVG, c.length, simd);
        }
    }

    /**
     * After pass {@code pass} of chunk {@code c}: what it wrote to staged buffers stored back: a 1-D tensor's
     * {@code exp_avg_sq} (pass 0, bfloat16 state: variable 1's key), then (pass 2) the 16-bit parameters and
     * {@code exp_avg} (bfloat16 state: variable 0's key). Indices are the elements' in the parameter buffer.
     */
    static void store(Chunk c, AdafactorStep k, AdafactorChunk w, int pass, boolean simd) {
        final boolean bf16 = c.stateType == 1;
        if (pass == 0 && !w.factored()) {
            storeState(w.expAvgSq, w.expAvgSqStored, bf16, k.stateKeys[1], c.start, c.length, simd);
        } else if (pass == 2) {
            storeParams(c, k, w.params, simd);
            if (k.firstMoment) {
                storeState(w.expAvg, c.state[0], bf16, k.stateKeys[0], c.start, c.length, simd);
            }
        }
    }

    /**
     * Chunk {@code c}'s gradients as float32: {@code c.grads} itself, or (16-bit) widened into this thread's
     * scratch, with vector loops if {@code simd}.
     */
    static MemorySegment grads(Chunk c, boolean simd) {
        return c.gradType == 0 ? c.grads : widened(c.grads, c.gradType, GRADS, c.length, simd);
    }

    /**
     * The float32 parameters passes 1 and 3 read (and pass 3 writes): {@code c.params} (float32), the master copy
     * (16-bit parameters with one: the chunk's last state buffer), or the bfloat16 parameters widened into this
     * thread's scratch (stochastic rounding).
     */
    static MemorySegment params(Chunk c, boolean simd) {
        return switch (c.paramType) {
            case 0 -> c.params;
            case 3 -> widened(c.params, BF16, PARAMS, c.length, simd);
            default -> c.state[c.state.length - 1];
        };
    }

    /**
     * After pass 3 wrote {@code params} ({@link #params}): the 16-bit parameters rounded from it, to nearest even
     * (with a master copy) or stochastically with the step's key (without); nothing for float32 parameters.
     */
    static void storeParams(Chunk c, KeyedStep k, MemorySegment params, boolean simd) {
        switch (c.paramType) {
            case 0 -> { }
            case 3 -> roundStochastically(params, c.params, k.roundingKey, c.start, c.length, simd);
            default -> {
                if (simd) {
                    MixedPanama.narrow(params, c.params, c.paramType, c.length);
                } else {
                    MixedScalar.narrowRange(params, c.params, c.paramType, 0, c.length);
                }
            }
        }
    }

    /** {@code stored} (float32, or bfloat16 where {@code bf16}) as float32: itself, or widened into scratch {@code slot}. */
    static MemorySegment state(MemorySegment stored, boolean bf16, int slot, int n, boolean simd) {
        return bf16 ? widened(stored, BF16, slot, n, simd) : stored;
    }

    /**
     * Where the state is bfloat16: {@code values} (its scratch, {@link #state}) stored into {@code stored} rounded
     * stochastically with the variable's {@code key} and each element's index from {@code start}.
     */
    static void storeState(MemorySegment values, MemorySegment stored, boolean bf16, int key, long start, int n,
                           boolean simd) {
        if (bf16) {
            roundStochastically(values, stored, key, start, n, simd);
        }
    }

    /** The {@code n} 16-bit values of {@code src} ({@code type} 1 or 2) widened into this thread's scratch {@code slot}. */
    private static MemorySegment widened(MemorySegment src, int type, int slot, int n, boolean simd) {
        MemorySegment[] scratch = SCRATCH.get();
        MemorySegment s = scratch[slot];
        if (s.byteSize() < (long) n * Float.BYTES) {
            s = MemorySegment.ofArray(new float[n]);
            scratch[slot] = s;
        }
        if (simd) {
            MixedPanama.widen(src, type, s, n);
        } else {
            MixedScalar.widenRange(src, type, s, 0, n);
        }
        return s;
    }

    /**
     * The {@code n} floats of {@code src} into the bfloat16 {@code dst}, each rounded stochastically with {@code key}
     * and its index {@code start + i} ({@link MixedPanama#roundStochastically}, the generated loops' stage, or
     * {@link MixedScalar#roundStochastically} element by element).
     */
    private static void roundStochastically(MemorySegment src, MemorySegment dst, int key, long start, int n,
                                            boolean simd) {
        if (simd) {
            MixedPanama.roundStochastically(src, dst, key, start, n);
        } else {
            MixedScalar.roundStochasticallyRange(src, dst, key, start, 0, n);
        }
    }
}
