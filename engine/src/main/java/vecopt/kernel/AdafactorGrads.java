package vecopt.kernel;

import static vecopt.kernel.MixedPanama.INTS;
import static vecopt.kernel.MixedPanama.SHORTS;
import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import vecopt.memory.BFloat16;
import vecopt.memory.Float16;

/**
 * The float32 gradients Adafactor's passes read: a chunk's own where they are float32, else its bfloat16 or float16
 * gradients widened (exactly) into the running thread's scratch once per pass, chosen once per chunk. Every loop of
 * {@link AdafactorStep} and {@link AdafactorPanama} then runs unchanged on float32 gradients, so a step on 16-bit
 * gradients is bitwise the float32 step fed the same gradients widened (README "Mixed precision"). The widening is
 * {@link MixedPanama}'s inline stage (bfloat16: zero-extend and shift by 16; float16: exponent and fraction moved
 * into place times 2^112, infinities and NaNs by blends, as {@link Float16#widen}); the tail and the scalar kernels
 * use {@link MixedScalar#widenRange} ({@link BFloat16#widen}, {@link Float16#widen}), which it equals bit for bit.
 *
 * <p>Why a staged copy rather than 16-bit loads in each loop: Adafactor has ten vector loops (pass 1's row,
 * group, block and 1-D loops, pass 2's three, pass 3's three) and their scalar tails; one widening loop per type
 * keeps their formulas and summation order in one place. The cost is the scratch's write and read per pass (a
 * chunk is at most 4 x 65,536 gradients, 1 MiB of floats per thread, in cache), on top of the 2 bytes per gradient
 * read from memory.
 */
final class AdafactorGrads {
    private static final int BF16 = 1;  // Dtype.BFLOAT16.ordinal()
    /** Per thread: a float scratch as long as the longest chunk it has widened (allocated on its first, then kept). */
    private static final ThreadLocal<MemorySegment> SCRATCH = ThreadLocal.withInitial(() -> MemorySegment.NULL);

    private AdafactorGrads() {
    }

    /**
     * Chunk {@code c}'s gradients as float32: {@code c.grads} itself, or (16-bit) widened into this thread's
     * scratch, with vector loops if {@code simd}.
     */
    static MemorySegment floats(Chunk c, boolean simd) {
        if (c.gradType == 0) {
            return c.grads;
        }
        final int n = c.length;
        MemorySegment s = SCRATCH.get();
        if (s.byteSize() < (long) n * Float.BYTES) {
            s = MemorySegment.ofArray(new float[n]);
            SCRATCH.set(s);
        }
        int from = 0;
        if (simd) {
            from = SPECIES.loopBound(n);
            if (c.gradType == BF16) {
                widenBFloat16(c.grads, s, from);
            } else {
                widenFloat16(c.grads, s, from);
            }
        }
        MixedScalar.widenRange(c.grads, c.gradType, s, from, n);
        return s;
    }

    // The two vector loops are MixedPanama.widen's, one method per type rather than that method's two loops behind a
    // type argument: a loop that has not run when C2 first compiles its method is compiled later, after a
    // deoptimization, with the shared Vector API methods' profiles mixed, and may then be left unintrinsified (it
    // allocates; the 16-bit norm kernels did).

    /** bfloat16 to float over whole vectors {@code [0, bound)}: the bits shifted up by 16 (exact). */
    private static void widenBFloat16(MemorySegment gs, MemorySegment out, int bound) {
        final int step = SPECIES.length();
        for (int i = 0; i < bound; i += step) {
            ((IntVector) ShortVector.fromMemorySegment(SHORTS, gs, (long) i * 2, ORDER)
                    .convertShape(VectorOperators.ZERO_EXTEND_S2I, INTS, 0)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats().intoMemorySegment(out, (long) i * Float.BYTES, ORDER);
        }
    }

    /** float16 to float over whole vectors {@code [0, bound)}, as {@link Float16#widen} (MixedPanama's stage). */
    private static void widenFloat16(MemorySegment gs, MemorySegment out, int bound) {
        final int step = SPECIES.length();
        for (int i = 0; i < bound; i += step) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(SHORTS, gs, (long) i * 2, ORDER)
                    .convertShape(VectorOperators.ZERO_EXTEND_S2I, INTS, 0);
            IntVector e = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
            e.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .blend(e.or(0x7F800000), e.compare(VectorOperators.GE, 0x7C00 << 13))
                    .blend(e.or(0x7FC00000), e.compare(VectorOperators.GT, 0x7C00 << 13))
                    .or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats()
                    .intoMemorySegment(out, (long) i * Float.BYTES, ORDER);
        }
    }
}
