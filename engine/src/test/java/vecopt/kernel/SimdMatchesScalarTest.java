package vecopt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The SIMD kernels against the engine's scalar kernels, as Lucene tests its Panama vector utilities: bit for bit for
 * every elementwise kernel (both perform the same correctly rounded float operations per element), for lengths
 * around the vector width and non-zero offsets. Runs once with the preferred species and once more with 256 bits
 * (a second Surefire execution sets {@code vecopt.vector.bits}).
 */
class SimdMatchesScalarTest {
    private static final Kernels SIMD = KernelProvider.kernels();
    private static final Kernels SCALAR = KernelProvider.scalar();

    @Test
    void simdIsInUse() {
        // The build runs tests with --add-modules jdk.incubator.vector: the SIMD path must be the one under test.
        assertTrue(SIMD.lanes() >= 4, "expected SIMD kernels, got " + SIMD.describe());
        Integer bits = Integer.getInteger("vecopt.vector.bits");
        if (bits != null) { // the 256-bit execution: the override must really select that width
            assertEquals(bits / Float.SIZE, SIMD.lanes(), SIMD.describe());
        }
    }

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

    private static Chunk chunk(float[] p, float[] g, float[] s1, float[] s2, float[] s3, int offset, int n) {
        java.util.List<MemorySegment> state = new java.util.ArrayList<>();
        for (float[] s : new float[][] {s1, s2, s3}) {
            if (s != null) {
                state.add(MemorySegment.ofArray(s));
            }
        }
        return new Chunk(MemorySegment.ofArray(p), MemorySegment.ofArray(g), state.toArray(new MemorySegment[0]),
                offset, n, 0, 0);
    }

    private static void assertBits(float[] a, float[] b, String what) {
        for (int i = 0; i < a.length; i++) {
            final int at = i;
            assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]),
                    () -> what + " differs at element " + at + " (" + SIMD.describe() + ")");
        }
    }

    @Test
    void adamVariantsBitwise() {
        SplittableRandom r = new SplittableRandom(1);
        for (int n : lengths()) {
            for (int variant = 0; variant < 4; variant++) { // AdamW, Adam-L2, AMSGrad, AMSGrad+L2
                for (boolean tracked : new boolean[] {false, true}) {
                    int off = r.nextInt(0, 9);
                    int size = off + n + 5;
                    float[] p = random(r, size, 1, false), g = random(r, size, 1, false);
                    float[] m = random(r, size, 0.1, false), v = random(r, size, 0.01, true), x = random(r, size, 0.01, true);
                    float[][] a = {p.clone(), g.clone(), m.clone(), v.clone(), x.clone()};
                    float[][] b = {p.clone(), g.clone(), m.clone(), v.clone(), x.clone()};
                    boolean ams = variant >= 2, decoupled = variant % 2 == 0;
                    AdamStep k = new AdamStep().prepare(
                            new AdamStep.Hyper(0.9, 0.999, 1e-8, 0.1, decoupled, ams), 1e-3, 7, 0.75);
                    double[] na = tracked ? new double[Kernels.NORM_SLOTS] : null, nb = tracked ? new double[Kernels.NORM_SLOTS] : null;
                    SIMD.adam(chunk(a[0], a[1], a[2], a[3], ams ? a[4] : null, off, n), k, na);
                    SCALAR.adam(chunk(b[0], b[1], b[2], b[3], ams ? b[4] : null, off, n), k, nb);
                    for (int j = 0; j < 5; j++) {
                        assertBits(a[j], b[j], "adam variant " + variant + " array " + j + " n=" + n);
                    }
                    if (tracked) { // sums differ only in summation order: n terms, relative error <= n * 2^-53
                        double ua = half(na, 0), ub = half(nb, 0), pa = half(na, 8), pb = half(nb, 8);
                        assertEquals(ub, ua, n * 0x1p-52 * ub + Double.MIN_VALUE);
                        assertEquals(pb, pa, n * 0x1p-52 * pb + Double.MIN_VALUE);
                    }
                }
            }
        }
    }

    private static double half(double[] slots, int from) {
        double s = 0;
        for (int i = from; i < from + Kernels.NORM_SLOTS / 2; i++) {
            s += slots[i];
        }
        return s;
    }

    @Test
    void sgdVariantsBitwise() {
        SplittableRandom r = new SplittableRandom(2);
        for (int n : lengths()) {
            for (int variant = 0; variant < 6; variant++) {
                int off = r.nextInt(0, 9);
                int size = off + n + 5;
                float[] p = random(r, size, 1, false), g = random(r, size, 1, false), buf = random(r, size, 1, false);
                float[][] a = {p.clone(), g.clone(), buf.clone()};
                float[][] b = {p.clone(), g.clone(), buf.clone()};
                double momentum = variant == 0 ? 0 : 0.9;
                boolean nesterov = variant == 2 || variant == 5;
                boolean first = variant == 3;
                double wd = variant >= 4 ? 1e-2 : 0;
                double dampening = variant == 4 ? 0.1 : 0;
                SgdStep k = new SgdStep().prepare(new SgdStep.Hyper(momentum, dampening, wd, nesterov), 0.05,
                        first ? 1 : 5, 0.5);
                SIMD.sgd(chunk(a[0], a[1], a[2], null, null, off, n), k, null);
                SCALAR.sgd(chunk(b[0], b[1], b[2], null, null, off, n), k, null);
                for (int j = 0; j < 3; j++) {
                    assertBits(a[j], b[j], "sgd variant " + variant + " array " + j + " n=" + n);
                }
            }
        }
    }

    /**
     * Runs {@code step} through both kernels on the same random p, g and {@code states} state arrays (state drawn
     * from {@code stateScale}, non-negative where {@code positive}), at every length of {@link #lengths()} and a
     * random offset, and asserts every array bitwise equal afterwards.
     */
    private static void updateBitwise(String name, long seed, UpdateStep step, double[] stateScale,
                                      boolean[] positive) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int n : lengths()) {
            int off = r.nextInt(0, 9);
            int size = off + n + 5;
            int arrays = 2 + stateScale.length;
            float[][] a = new float[arrays][], b = new float[arrays][];
            for (int j = 0; j < arrays; j++) {
                a[j] = j < 2 ? random(r, size, 1, false) : random(r, size, stateScale[j - 2], positive[j - 2]);
                b[j] = a[j].clone();
            }
            SIMD.update(chunk(a, off, n), step);
            SCALAR.update(chunk(b, off, n), step);
            for (int j = 0; j < arrays; j++) {
                assertBits(a[j], b[j], name + " array " + j + " n=" + n);
            }
        }
    }

    private static Chunk chunk(float[][] arrays, int offset, int n) {
        MemorySegment[] state = new MemorySegment[arrays.length - 2];
        for (int i = 0; i < state.length; i++) {
            state[i] = MemorySegment.ofArray(arrays[i + 2]);
        }
        return new Chunk(MemorySegment.ofArray(arrays[0]), MemorySegment.ofArray(arrays[1]), state, offset, n, 0, 0);
    }

    @Test
    void adagradBitwise() {
        for (double wd : new double[] {0, 0.01}) {
            for (double scale : new double[] {1, 0.5, -0.75}) { // negative: maximize
                updateBitwise("adagrad wd=" + wd + " scale=" + scale, 4,
                        new AdagradStep().prepare(0.01, 0.1, wd, 1e-10, 3, scale), new double[] {0.1},
                        new boolean[] {true});
            }
        }
    }

    @Test
    void rmspropBitwise() {
        for (int variant = 0; variant < 8; variant++) { // weight decay x centered x momentum
            boolean wd = (variant & 1) != 0, centered = (variant & 2) != 0, momentum = (variant & 4) != 0;
            // every variant (each centered-with-momentum one has a loop of its own) with and without a gradient
            // scale, negative as under maximize: where the scale is applied against the weight decay matters
            for (double scale : new double[] {1, -0.5}) {
                // state: square_avg, momentum_buffer, grad_avg (grad_avg small enough that the variance stays >= 0)
                updateBitwise("rmsprop variant " + variant + " scale=" + scale, 5 + variant,
                        new RmspropStep().prepare(0.01, 0.9, 1e-8, wd ? 0.01 : 0, momentum ? 0.9 : 0, centered, 2, 1,
                                scale), new double[] {1, 0.1, 0.01}, new boolean[] {true, false, false});
            }
        }
    }

    @Test
    void lionBitwise() {
        for (double wd : new double[] {0, 0.1}) {
            for (double scale : new double[] {1, -0.5}) { // negative: maximize
                updateBitwise("lion wd=" + wd + " scale=" + scale, 6,
                        new LionStep().prepare(1e-4, 0.9, 0.99, wd, scale), new double[] {1}, new boolean[] {false});
            }
        }
        // Zeros of either sign and NaN: Math.signum's cases, which the vector loop handles by blends.
        float[] m = {0f, -0f, Float.NaN, 1f, -1f, 0f, -0f, 2f, 0f, -0f, Float.NaN, 3f, 0f, -0f, 0f, -0f, 0f, 1f, -0f};
        float[] g = new float[m.length], p = new float[m.length];
        java.util.Arrays.fill(p, 1f);
        float[][] a = {p.clone(), g.clone(), m.clone()}, b = {p.clone(), g.clone(), m.clone()};
        LionStep k = new LionStep().prepare(0.1, 0.9, 0.99, 0, 1);
        SIMD.update(chunk(a, 0, m.length), k);
        SCALAR.update(chunk(b, 0, m.length), k);
        for (int j = 0; j < 3; j++) {
            assertBits(a[j], b[j], "lion signum cases array " + j);
        }
    }

    @Test
    void adamaxBitwise() {
        for (double wd : new double[] {0, 0.01}) {
            for (double scale : new double[] {1, -0.5}) { // negative: maximize
                updateBitwise("adamax wd=" + wd + " scale=" + scale, 7,
                        new AdamaxStep().prepare(2e-3, 0.9, 0.999, 1e-8, wd, 4, scale), new double[] {0.1, 1},
                        new boolean[] {false, true});
            }
        }
    }

    @Test
    void nadamBitwise() {
        for (int variant = 0; variant < 3; variant++) { // no decay, L2, decoupled
            for (double scale : new double[] {1, -0.5}) { // negative: maximize
                updateBitwise("nadam variant " + variant + " scale=" + scale, 8,
                        new NAdamStep().prepare(2e-3, 0.9, 0.999, 1e-8, variant == 0 ? 0 : 0.01, 4e-3, variant == 2,
                                5, scale), new double[] {0.1, 0.01}, new boolean[] {false, true});
            }
        }
    }

    @Test
    void radamBitwise() {
        for (int variant = 0; variant < 3; variant++) { // no decay, L2, decoupled
            for (long t : new long[] {2, 9}) { // before and after rho_t > 5
                updateBitwise("radam variant " + variant + " t=" + t, 9,
                        new RAdamStep().prepare(1e-3, 0.9, 0.999, 1e-8, variant == 0 ? 0 : 0.01, variant == 2, t,
                                t == 2 ? 1 : -0.5), new double[] {0.1, 0.01}, new boolean[] {false, true});
            }
        }
    }

    @Test
    void adadeltaBitwise() {
        for (double wd : new double[] {0, 0.01}) {
            for (double scale : new double[] {1, -0.5}) { // negative: maximize
                updateBitwise("adadelta wd=" + wd + " scale=" + scale, 10,
                        new AdadeltaStep().prepare(1.0, 0.9, 1e-6, wd, scale), new double[] {0.1, 0.001},
                        new boolean[] {true, true});
            }
        }
    }

    @Test
    void rpropBitwise() {
        for (long t : new long[] {1, 4}) { // the first step reads lr in place of step_size
            for (double scale : new double[] {1, -0.5}) { // negative: maximize
                updateBitwise("rprop t=" + t + " scale=" + scale, 11,
                        new RpropStep().prepare(0.01, 0.5, 1.2, 1e-3, 0.5, t, scale), new double[] {1, 0.1},
                        new boolean[] {false, true});
            }
        }
    }

    @Test
    void rpropEdgeCasesBitwise() {
        // The vector loop clamps the step size on the floats' bits and takes signum by blends (RpropPanama); its
        // argument for equality with Math.min(Math.max(x, lo), hi) and Math.signum rests on these cases: step sizes
        // of NaN (either sign), -0, +0, negative, below lo, inside, above hi and infinite, gradients of either zero,
        // NaN and both signs, previous gradients of each sign, zero and NaN, parameters of either zero. Every
        // combination once (11 x 6 x 4 = 264 elements: 16 whole 16-lane vectors and a tail).
        float[] sizes = {Float.NaN, Float.intBitsToFloat(0xffc00000), -0f, 0f, -1f, 1e-7f, 1e-3f, 0.7f,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE};
        float[] grads = {0f, -0f, Float.NaN, 1f, -1f, 1e-30f};
        float[] prevs = {1f, -1f, 0f, Float.NaN};
        int n = sizes.length * grads.length * prevs.length;
        float[] p = new float[n], g = new float[n], prev = new float[n], ss = new float[n];
        int i = 0;
        for (float size : sizes) {
            for (float grad : grads) {
                for (float pr : prevs) {
                    p[i] = i % 3 == 0 ? -0f : i % 3 == 1 ? 0f : 1f;
                    g[i] = grad;
                    prev[i] = pr;
                    ss[i++] = size;
                }
            }
        }
        // step_size_min 1e-3, 0 and -0.0 (which prepare takes as +0.0); the first step (lr 0.01 and 0 in place of
        // the state) and a later one
        for (double lo : new double[] {1e-3, 0, -0.0}) {
            for (long t : new long[] {1, 4}) {
                for (double lr : new double[] {0.01, 0}) {
                    RpropStep k = new RpropStep().prepare(lr, 0.5, 1.2, lo, 0.5, t, 1);
                    float[][] a = {p.clone(), g.clone(), prev.clone(), ss.clone()};
                    float[][] b = {p.clone(), g.clone(), prev.clone(), ss.clone()};
                    SIMD.update(chunk(a, 0, n), k);
                    SCALAR.update(chunk(b, 0, n), k);
                    String what = "rprop edge cases lo=" + lo + " t=" + t + " lr=" + lr;
                    for (int j = 1; j < 4; j++) { // g untouched; prev and step_size bit for bit, NaNs included
                        assertBits(a[j], b[j], what + " array " + j);
                    }
                    // p bit for bit, but where both are NaN only NaN: fma(signum(g), -ss, p) with g and ss both NaN
                    // returns one of the two NaN operands (+NaN or the negated -NaN), and which one depends on the
                    // operand order of the fma instruction C2 picks, not on the formula; the loop before the bit
                    // clamp did the same (0x7fc00000 scalar, 0xffc00000 vector, element 8).
                    for (int e = 0; e < n; e++) {
                        if (!(Float.isNaN(a[0][e]) && Float.isNaN(b[0][e]))) {
                            assertEquals(Float.floatToRawIntBits(b[0][e]), Float.floatToRawIntBits(a[0][e]),
                                    what + " array 0 differs at element " + e);
                        }
                    }
                    assertTrue(Float.isNaN(a[0][8]) && Float.isNaN(b[0][8]), "element 8: NaN step size and grad");
                }
            }
        }
    }

    @Test
    void asgdBitwise() {
        for (double wd : new double[] {0, 0.01}) {
            for (double scale : new double[] {1, -0.5}) { // negative: maximize
                for (long t = 1; t <= 2; t++) { // t0 -1: the first step copies p into ax, the second averages
                    AsgdStep k = new AsgdStep();
                    for (long s = 1; s <= t; s++) {
                        k.prepare(0.05, 0.5, 0.75, -1, wd, s, scale);
                    }
                    assertEquals(t == 2, k.average, "averaging from the second step with t0 -1");
                    updateBitwise("asgd wd=" + wd + " scale=" + scale + " t=" + t, 12, k, new double[] {1},
                            new boolean[] {false});
                }
            }
        }
    }

    @Test
    void scheduleFreeBitwise() {
        for (double wd : new double[] {0, 0.01}) {
            for (double scale : new double[] {1, -0.5}) { // negative: maximize
                // k 0: the first step (z = y, ckp1 = 1: the lerp from the end); k 1 with warmup: ckp1 0.8, from the
                // end; k 5 without: ckp1 1/6, from the start
                for (long[] kw : new long[][] {{0, 0}, {1, 2}, {5, 0}}) {
                    ScheduleFreeStep k = new ScheduleFreeStep();
                    for (long s = 0; s <= kw[0]; s++) {
                        k.prepare(0.01, 0.9, 0.999, 1e-8, wd, kw[1], 0, 2, s, scale);
                    }
                    assertEquals(kw[0] == 0, k.first, "z = y on the first step only");
                    updateBitwise("schedule-free wd=" + wd + " scale=" + scale + " k=" + kw[0], 13, k,
                            new double[] {1, 0.1}, new boolean[] {false, true});
                }
            }
        }
        for (double beta1 : new double[] {0.9, 0.5}) { // 0.5: both switch weights (-1, 0.5) lerp from the end
            for (boolean train : new boolean[] {false, true}) {
                ScheduleFreeStep k = new ScheduleFreeStep().prepareSwitch(train ? 1 - beta1 : 1 - 1 / beta1, true);
                assertEquals(beta1 == 0.5, k.lerpFromEnd, "lerp branch of beta1 " + beta1);
                updateBitwise("schedule-free switch beta1=" + beta1 + " train=" + train, 14, k,
                        new double[] {1, 0.1}, new boolean[] {false, true});
            }
        }
    }

    @Test
    void reductionsAndElementwise() {
        SplittableRandom r = new SplittableRandom(3);
        for (int n : lengths()) {
            int off = r.nextInt(0, 9);
            float[] x = random(r, off + n + 3, 1, false);
            MemorySegment s = MemorySegment.ofArray(x);
            double exact = SCALAR.sumOfSquares(s, off, n);
            // Same terms, different order of addition: relative difference <= 2 n 2^-53.
            assertEquals(exact, SIMD.sumOfSquares(s, off, n), 2 * n * 0x1p-53 * exact);
            assertEquals(SCALAR.maxAbs(s, off, n), SIMD.maxAbs(s, off, n), 0.0f); // max is exact in any order
            float[] a = x.clone(), b = x.clone();
            SIMD.scale(MemorySegment.ofArray(a), off, n, 0.3f);
            SCALAR.scale(MemorySegment.ofArray(b), off, n, 0.3f);
            assertBits(a, b, "scale n=" + n);
            SIMD.clamp(MemorySegment.ofArray(a), off, n, 0.01f);
            SCALAR.clamp(MemorySegment.ofArray(b), off, n, 0.01f);
            assertBits(a, b, "clamp n=" + n);
        }
    }
}
