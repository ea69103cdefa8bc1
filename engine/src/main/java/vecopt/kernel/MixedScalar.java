package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import vecopt.memory.BFloat16;
import vecopt.memory.Float16;

/**
 * The scalar loops for parameters and gradients stored as 16-bit floats: the scalar kernels' formulas with each load
 * widened and each parameter store rounded ({@link BFloat16}, {@link Float16}), element by element. They run where
 * the Vector API is not used, for chunks shorter than a vector, and for the tails of the 16-bit sums; the generated
 * {@link MixedPanama} loops are bitwise equal to them.
 *
 * <p>Types are {@code Dtype} ordinals: 0 float32, 1 bfloat16, 2 float16.
 */
final class MixedScalar {
    static final ValueLayout.OfShort S = ValueLayout.JAVA_SHORT_UNALIGNED;

    private MixedScalar() {
    }

    /** Element {@code i} of {@code x}, stored as {@code type}, widened exactly. */
    static float load(MemorySegment x, int type, int i) {
        return switch (type) {
            case 0 -> x.get(F, (long) i * Float.BYTES);
            case 1 -> BFloat16.widen(x.get(S, (long) i * Short.BYTES));
            default -> Float16.widen(x.get(S, (long) i * Short.BYTES));
        };
    }

    /** Stores {@code value} at element {@code i} of {@code x}, rounded to {@code type} (nearest even). */
    static void store(MemorySegment x, int type, int i, float value) {
        switch (type) {
            case 0 -> x.set(F, (long) i * Float.BYTES, value);
            case 1 -> x.set(S, (long) i * Short.BYTES, BFloat16.round(value));
            default -> x.set(S, (long) i * Short.BYTES, Float16.round(value));
        }
    }

    /**
     * Adam / AdamW / AMSGrad over elements {@code [from, to)} of a chunk with 16-bit gradients or parameters:
     * {@code ScalarKernels.adamRange}'s float operations, reading the float32 master copy (the last state buffer)
     * where the parameters are 16-bit and storing the new value there and, rounded, into the parameters.
     */
    static void adamRange(Chunk c, AdamStep k, int from, int to) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], vs = c.state[1];
        final MemorySegment xs = k.amsgrad ? c.state[2] : null;
        final int gt = c.gradType, pt = c.paramType;
        final MemorySegment master = pt == 0 ? ps : c.state[c.state.length - 1];
        final float b1 = k.beta1, c1 = k.oneMinusBeta1, b2 = k.beta2, c2 = k.oneMinusBeta2;
        final float eps = k.eps, decay = k.decay, l2 = k.l2, negStep = k.negStepSize, invBc2 = k.invSqrtBc2;
        final float scale = k.gradScale;
        final boolean useL2 = k.useL2, ams = k.amsgrad;
        for (int i = from; i < to; i++) {
            final long off = (long) i * Float.BYTES;
            float p = master.get(F, off);
            float g = load(gs, gt, i) * scale;
            if (useL2) {
                g = Math.fma(p, l2, g);
            }
            float m = Math.fma(ms.get(F, off), b1, g * c1);
            float v = Math.fma(vs.get(F, off), b2, (g * c2) * g);
            ms.set(F, off, m);
            vs.set(F, off, v);
            if (ams) {
                v = Math.max(xs.get(F, off), v);
                xs.set(F, off, v);
            }
            float denom = Math.fma((float) Math.sqrt(v), invBc2, eps);
            float pNew = Math.fma(m / denom, negStep, p * decay);
            master.set(F, off, pNew);
            if (pt != 0) {
                store(ps, pt, i, pNew);
            }
        }
    }

    /** Sum of squares of elements {@code [from, to)} of {@code x} stored as {@code type}, in double, in order. */
    static double sumOfSquaresRange(MemorySegment x, int type, int from, int to) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            double v = load(x, type, i);
            sum += v * v;
        }
        return sum;
    }

    /** Sum of squares of the elements {@code [0, length)} of {@code x} stored as {@code type}. */
    static double sumOfSquares(MemorySegment x, int type, int length) {
        return sumOfSquaresRange(x, type, 0, length);
    }

    static void widenRange(MemorySegment src, int type, MemorySegment dst, int from, int to) {
        for (int i = from; i < to; i++) {
            dst.set(F, (long) i * Float.BYTES, load(src, type, i));
        }
    }

    static void narrowRange(MemorySegment src, MemorySegment dst, int type, int from, int to) {
        for (int i = from; i < to; i++) {
            store(dst, type, i, src.get(F, (long) i * Float.BYTES));
        }
    }
}
