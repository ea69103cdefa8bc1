package vecopt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * LAMB's and LARS's two passes, SIMD against scalar: both passes' stores bit for bit (the same float operations per
 * element, masked tails included), and the per-chunk sums of pass 1 within their derived summation bound (they add
 * in another order). Lengths around the vector width, non-zero offsets, with and without weight decay, Nesterov,
 * a negative gradient factor (maximize).
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
}
