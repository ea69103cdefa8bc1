package vecopt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import vecopt.memory.Dtype;

/**
 * LAMB's and LARS's two passes, SIMD against scalar: both passes' stores bit for bit (the same float operations per
 * element, masked tails included), and the per-chunk sums of pass 1 within their derived summation bound (they add
 * in another order). Lengths around the vector width, non-zero offsets, with and without weight decay, Nesterov,
 * a negative gradient factor (maximize). The same for the generated 16-bit loops ({@code MixedLambPanama}, ...)
 * against their scalar twins in {@code MixedScalar}, for every storage mix of gradients (float32, bfloat16, float16)
 * and parameters (float32, bfloat16 or float16 with a master copy, bfloat16 with stochastic rounding), and with
 * bfloat16 state ({@code _sbf16} loops) for every mix, float32 gradients and parameters too, and with 8-bit
 * block-quantized state ({@code EightBitLambPanama}, {@code EightBitLarsPanama}: codes and block scales) for every mix.
 */
class TrustRatioSimdTest {
    private static final Kernels SIMD = KernelProvider.kernels();
    private static final Kernels SCALAR = KernelProvider.scalar();

    private static int[] lengths() {
        int l = SIMD.lanes();
        return new int[] {0, 1, l - 1, l, l + 1, 2 * l + 3, 1021, 4099};
    }

    private static float[] random(SplittableRandom r, int n, double scale, boolean positive) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double x = Math.scalb(1 + r.nextDouble(), r.nextInt(-12, 4)) * scale;
            a[i] = (float) (positive || r.nextBoolean() ? x : -x);
        }
        return a;
    }

    private static Chunk chunk(float[][] a, int states, int offset, int n) {
        MemorySegment[] state = new MemorySegment[states];
        for (int i = 0; i < states; i++) {
            state[i] = MemorySegment.ofArray(a[2 + i]);
        }
        return new Chunk(MemorySegment.ofArray(a[0]), MemorySegment.ofArray(a[1]), state, offset, n, 0, 0);
    }

    private static void assertBits(float[] a, float[] b, String what) {
        for (int i = 0; i < a.length; i++) {
            final int at = i;
            assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]),
                    () -> what + " differs at element " + at + " (" + SIMD.describe() + ")");
        }
    }

    /**
     * Two sums of the same n non-negative doubles (squares of floats, exact in double) in different orders differ by
     * at most (n - 1) 2^-53 of the sum each (Higham, Accuracy and Stability, eq. 4.4): 2n 2^-53 of it together.
     */
    private static void assertSums(double[] simd, double[] scalar, int n, String what) {
        for (int i = 0; i < 2; i++) {
            double bound = 2.0 * n * 0x1p-53 * scalar[i];
            assertEquals(scalar[i], simd[i], bound, what + " sum " + i);
        }
    }

    /** Slot 1's two halves, each added in slot order, as the optimizer adds them. */
    private static double[] halves(double[] s) {
        double u = 0, p = 0;
        for (int i = Kernels.NORM_SLOTS; i < Kernels.NORM_SLOTS * 3 / 2; i++) {
            u += s[i];
            p += s[i + Kernels.NORM_SLOTS / 2];
        }
        return new double[] {u, p};
    }

    private static void bothPasses(String name, TrustRatioStep step, int states, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int n : lengths()) {
            int off = r.nextInt(0, 9);
            int size = off + n + 5;
            float[][] a = {random(r, size, 1, false), random(r, size, 1, false), random(r, size, 0.1, false),
                    random(r, size, 0.01, true)};
            float[][] b = new float[a.length][];
            for (int i = 0; i < a.length; i++) {
                b[i] = a[i].clone();
            }
            // slot 1 only: the caller zeroes it, slot 0 must stay untouched
            double[] sa = new double[2 * Kernels.NORM_SLOTS], sb = new double[2 * Kernels.NORM_SLOTS];
            sa[0] = sb[0] = Double.NaN;
            SIMD.trustNorms(chunk(a, states, off, n), step, sa, 1);
            SCALAR.trustNorms(chunk(b, states, off, n), step, sb, 1);
            for (int i = 0; i < a.length; i++) {
                assertBits(a[i], b[i], name + " pass 1, array " + i + ", n=" + n);
            }
            assertEquals(Double.NaN, sa[0]); // slot 0 untouched
            assertSums(halves(sa), halves(sb), n, name + " n=" + n);
            SIMD.trustApply(chunk(a, states, off, n), step, -1.5e-3f);
            SCALAR.trustApply(chunk(b, states, off, n), step, -1.5e-3f);
            for (int i = 0; i < a.length; i++) {
                assertBits(a[i], b[i], name + " pass 2, array " + i + ", n=" + n);
            }
        }
    }

    @Test
    void lambBitwise() {
        for (double wd : new double[] {0, 0.01}) {
            for (double scale : new double[] {1, -0.75}) {
                bothPasses("LAMB wd " + wd + " scale " + scale,
                        new LambStep().prepare(0.9, 0.999, 1e-6, wd == 0 ? 0 : 1e-12, wd, 3, scale), 2, 17);
            }
        }
    }

    @Test
    void larsBitwise() {
        for (double wd : new double[] {0, 1e-4}) {
            for (boolean nesterov : new boolean[] {false, true}) {
                bothPasses("LARS wd " + wd + " nesterov " + nesterov,
                        new LarsStep().prepare(wd, 0.9, nesterov, nesterov ? -0.5 : 1), 1, 23);
            }
        }
    }

    /** Gradient and parameter storage of a 16-bit case: {@code param} 3 is bfloat16 with stochastic rounding. */
    private static final Dtype[] TYPES = {Dtype.FLOAT32, Dtype.BFLOAT16, Dtype.FLOAT16};

    /** Arrays of a 16-bit case: parameters and gradients as floats or shorts, then the state (the master last). */
    private static Object[] mixedArrays(SplittableRandom r, int size, int grad, int param, int states,
                                        boolean narrowState) {
        boolean master = param == 1 || param == 2;
        Object[] a = new Object[2 + states + (master ? 1 : 0)];
        float[] p = random(r, size, 1, false);
        a[0] = stored(p, TYPES[param == 3 ? 1 : param]);
        a[1] = stored(random(r, size, 1, false), TYPES[grad]);
        for (int i = 0; i < states; i++) {
            float[] x = i == 0 ? random(r, size, 0.1, false) : random(r, size, 0.01, true);
            a[2 + i] = narrowState ? stored(x, Dtype.BFLOAT16) : x;
        }
        if (master) {
            a[2 + states] = p; // the parameters are its rounding
        }
        return a;
    }

    private static Object stored(float[] x, Dtype type) {
        if (type == Dtype.FLOAT32) {
            return x;
        }
        short[] s = new short[x.length];
        for (int i = 0; i < x.length; i++) {
            s[i] = type == Dtype.BFLOAT16 ? vecopt.memory.BFloat16.round(x[i]) : vecopt.memory.Float16.round(x[i]);
        }
        return s;
    }

    private static MemorySegment segment(Object a) {
        return a instanceof float[] f ? MemorySegment.ofArray(f) : MemorySegment.ofArray((short[]) a);
    }

    private static Object copy(Object a) {
        return a instanceof float[] f ? f.clone() : ((short[]) a).clone();
    }

    private static Chunk mixedChunk(Object[] a, int grad, int param, boolean narrowState, int off, int n) {
        MemorySegment[] state = new MemorySegment[a.length - 2];
        for (int i = 0; i < state.length; i++) {
            state[i] = segment(a[2 + i]);
        }
        return new Chunk(segment(a[0]), TYPES[param == 3 ? 1 : param], param == 3, segment(a[1]), TYPES[grad],
                narrowState ? Dtype.BFLOAT16 : Dtype.FLOAT32, state, off, n, 0, 0);
    }

    private static void assertSame(Object a, Object b, String what) {
        if (a instanceof float[] f) {
            assertBits(f, (float[]) b, what);
        } else {
            short[] x = (short[]) a, y = (short[]) b;
            for (int i = 0; i < x.length; i++) {
                final int at = i;
                assertEquals(x[i], y[i], () -> what + " differs at element " + at + " (" + SIMD.describe() + ")");
            }
        }
    }

    /**
     * {@link #bothPasses} on every 16-bit storage mix (with {@code narrowState}: every mix, float32 parameters and
     * gradients too, with bfloat16 state): the generated loops against their scalar twins.
     */
    private static void bothPassesMixed(String name, TrustRatioStep step, int states, boolean narrowState, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int grad = 0; grad < 3; grad++) {
            for (int param = 0; param < 4; param++) {
                if (grad == 0 && param == 0 && !narrowState) {
                    continue;
                }
                for (int n : lengths()) {
                    int off = r.nextInt(0, 9);
                    Object[] a = mixedArrays(r, off + n + 5, grad, param, states, narrowState);
                    Object[] b = new Object[a.length];
                    for (int i = 0; i < a.length; i++) {
                        b[i] = copy(a[i]);
                    }
                    String at = name + ", grads " + TYPES[grad] + ", params " + (param == 3 ? "bfloat16 stochastic"
                            : TYPES[param]) + (narrowState ? ", bfloat16 state" : "") + ", n=" + n;
                    double[] sa = new double[2 * Kernels.NORM_SLOTS], sb = new double[2 * Kernels.NORM_SLOTS];
                    sa[0] = sb[0] = Double.NaN;
                    SIMD.trustNorms(mixedChunk(a, grad, param, narrowState, off, n), step, sa, 1);
                    SCALAR.trustNorms(mixedChunk(b, grad, param, narrowState, off, n), step, sb, 1);
                    for (int i = 0; i < a.length; i++) {
                        assertSame(a[i], b[i], at + " pass 1, array " + i);
                    }
                    assertEquals(Double.NaN, sa[0]); // slot 0 untouched
                    assertSums(halves(sa), halves(sb), n, at);
                    SIMD.trustApply(mixedChunk(a, grad, param, narrowState, off, n), step, -1.5e-3f);
                    SCALAR.trustApply(mixedChunk(b, grad, param, narrowState, off, n), step, -1.5e-3f);
                    for (int i = 0; i < a.length; i++) {
                        assertSame(a[i], b[i], at + " pass 2, array " + i);
                    }
                }
            }
        }
    }

    @Test
    void lambSixteenBitBitwise() {
        for (double wd : new double[] {0, 0.01}) {
            for (double scale : new double[] {1, -0.75}) {
                LambStep k = new LambStep().prepare(0.9, 0.999, 1e-6, wd == 0 ? 0 : 1e-12, wd, 3, scale);
                bothPassesMixed("LAMB wd " + wd + " scale " + scale, keyed(k, 5, 0, 3), 2, false, 31);
            }
        }
    }

    @Test
    void lambBFloat16StateBitwise() {
        for (double wd : new double[] {0, 0.01}) {
            for (double scale : new double[] {1, -0.75}) {
                LambStep k = new LambStep().prepare(0.9, 0.999, 1e-6, wd == 0 ? 0 : 1e-12, wd, 3, scale);
                bothPassesMixed("LAMB wd " + wd + " scale " + scale, keyed(k, 5, 8, 3), 2,
                        true, 41);
            }
        }
    }

    @Test
    void larsSixteenBitBitwise() {
        for (double wd : new double[] {0, 1e-4}) {
            for (boolean nesterov : new boolean[] {false, true}) {
                LarsStep k = new LarsStep().prepare(wd, 0.9, nesterov, nesterov ? -0.5 : 1);
                bothPassesMixed("LARS wd " + wd + " nesterov " + nesterov, keyed(k, 6, 0, 4), 1, false, 37);
            }
        }
    }

    @Test
    void larsBFloat16StateBitwise() {
        for (double wd : new double[] {0, 1e-4}) {
            for (boolean nesterov : new boolean[] {false, true}) {
                LarsStep k = new LarsStep().prepare(wd, 0.9, nesterov, nesterov ? -0.5 : 1);
                bothPassesMixed("LARS wd " + wd + " nesterov " + nesterov, keyed(k, 6, 9, 4),
                        1, true, 43);
            }
        }
    }

    /**
     * Arrays of an 8-bit case: parameters and gradients as {@link #mixedArrays}, then per state variable its codes
     * (random bytes: every sign, exponent and fraction; for a variable coded as its square root any unsigned code)
     * and its blocks' scales (positive, of the size of the float32 state {@link #mixedArrays} draws), the master
     * last.
     */
    private static Object[] eightBitArrays(SplittableRandom r, int size, int n, int grad, int param, int states) {
        Object[] f = mixedArrays(r, size, grad, param, 0, false);
        boolean master = f.length == 3;
        Object[] a = new Object[2 + 2 * states + (master ? 1 : 0)];
        a[0] = f[0];
        a[1] = f[1];
        for (int i = 0; i < states; i++) {
            byte[] codes = new byte[n];
            r.nextBytes(codes);
            a[2 + i] = codes;
            a[2 + states + i] = random(r, (n + BlockCodes.BLOCK - 1) / BlockCodes.BLOCK, i == 0 ? 0.1 : 0.01, true);
        }
        if (master) {
            a[2 + 2 * states] = f[2];
        }
        return a;
    }

    private static Chunk eightBitChunk(Object[] a, int grad, int param, int states, boolean[] root, int off, int n) {
        MemorySegment[] codes = new MemorySegment[states], scales = new MemorySegment[states];
        for (int i = 0; i < states; i++) {
            codes[i] = MemorySegment.ofArray((byte[]) a[2 + i]);
            scales[i] = MemorySegment.ofArray((float[]) a[2 + states + i]);
        }
        MemorySegment master = a.length > 2 + 2 * states
                ? MemorySegment.ofArray((float[]) a[2 + 2 * states]).asSlice((long) off * Float.BYTES, (long) n * Float.BYTES)
                : null;
        return Chunk.quantized(segment(a[0]), TYPES[param == 3 ? 1 : param], param == 3, segment(a[1]), TYPES[grad],
                codes, scales, root, master, off, n, 0, 0, false);
    }

    /**
     * {@link #bothPassesMixed} with 8-bit state on every storage mix, float32 gradients and parameters too: the
     * generated block loops against their scalar twins, codes, scales, parameters and master bit for bit after each
     * pass, the sums within their summation bound.
     */
    private static void bothPassesEightBit(String name, TrustRatioStep step, boolean[] root, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int states = root.length;
        for (int grad = 0; grad < 3; grad++) {
            for (int param = 0; param < 4; param++) {
                for (int n : lengths()) {
                    int off = r.nextInt(0, 9);
                    Object[] a = eightBitArrays(r, off + n + 5, n, grad, param, states);
                    Object[] b = new Object[a.length];
                    for (int i = 0; i < a.length; i++) {
                        b[i] = a[i] instanceof byte[] x ? x.clone() : copy(a[i]);
                    }
                    String at = name + ", grads " + TYPES[grad] + ", params " + (param == 3 ? "bfloat16 stochastic"
                            : TYPES[param]) + ", 8-bit state, n=" + n;
                    double[] sa = new double[2 * Kernels.NORM_SLOTS], sb = new double[2 * Kernels.NORM_SLOTS];
                    sa[0] = sb[0] = Double.NaN;
                    SIMD.trustNorms(eightBitChunk(a, grad, param, states, root, off, n), step, sa, 1);
                    SCALAR.trustNorms(eightBitChunk(b, grad, param, states, root, off, n), step, sb, 1);
                    assertAllSame(a, b, at + " pass 1");
                    assertEquals(Double.NaN, sa[0]); // slot 0 untouched
                    assertSums(halves(sa), halves(sb), n, at);
                    SIMD.trustApply(eightBitChunk(a, grad, param, states, root, off, n), step, -1.5e-3f);
                    SCALAR.trustApply(eightBitChunk(b, grad, param, states, root, off, n), step, -1.5e-3f);
                    assertAllSame(a, b, at + " pass 2");
                }
            }
        }
    }

    private static void assertAllSame(Object[] a, Object[] b, String what) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] instanceof byte[] x) {
                byte[] y = (byte[]) b[i];
                for (int j = 0; j < x.length; j++) {
                    final int at = j, arr = i;
                    assertEquals(x[j], y[j], () -> what + ", codes " + arr + " differ at element " + at);
                }
            } else {
                assertSame(a[i], b[i], what + ", array " + i);
            }
        }
    }

    @Test
    void lambEightBitStateBitwise() {
        for (double wd : new double[] {0, 0.01}) {
            for (double scale : new double[] {1, -0.75}) {
                LambStep k = new LambStep().prepare(0.9, 0.999, 1e-6, wd == 0 ? 0 : 1e-12, wd, 3, scale);
                bothPassesEightBit("LAMB wd " + wd + " scale " + scale, keyed(k, 5, 0, 3), new boolean[] {false, true},
                        47);
            }
        }
    }

    @Test
    void larsEightBitStateBitwise() {
        for (double wd : new double[] {0, 1e-4}) {
            for (boolean nesterov : new boolean[] {false, true}) {
                LarsStep k = new LarsStep().prepare(wd, 0.9, nesterov, nesterov ? -0.5 : 1);
                bothPassesEightBit("LARS wd " + wd + " nesterov " + nesterov, keyed(k, 6, 0, 4), new boolean[] {false},
                        53);
            }
        }
    }

    /** {@code k} with the stochastic roundings' keys of step {@code t}: parameters from seed {@code p}, state from {@code s}. */
    private static <K extends KeyedStep> K keyed(K k, long p, long s, long t) {
        k.roundingKeys(p, s, t, true, true);
        return k;
    }
}
