package vecopt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import vecopt.memory.BFloat16;
import vecopt.memory.Dtype;
import vecopt.memory.Float16;

/**
 * The 16-bit sums of squares (the clipping norm of bfloat16 and float16 gradients) bit for bit the float32 kernel's
 * on the same values widened, as {@link MixedPanama#sumOfSquares} promises: the same eight accumulator chains and
 * the same final order, whatever the loop loads per widening. Lengths around the chains' block of eight half-width
 * vectors and the half-width vector (the leftover vectors go into the first chain, then the scalar tail); values
 * over each format's whole finite range, subnormals and zeros included, and infinities and NaNs among them. The
 * spread is what makes the test see the order: squares of 16-bit values have at most 22 significant bits, so values
 * of one magnitude (a Gaussian's) sum exactly in double in any order, where values over some 60 binades or more do
 * not (a sum taking chains 1 and 2 in each other's place fails here, and passes on Gaussian values).
 */
class MixedNormTest {
    private static final Kernels SIMD = KernelProvider.kernels();

    private static int[] lengths() {
        int h = Math.max(1, SIMD.lanes() / 2); // doubles per vector: the chains' width
        return new int[] {0, 1, h - 1, h, h + 1, 8 * h - 1, 8 * h, 8 * h + 1, 9 * h + 3, 16 * h + 7 * h + 5, 1021,
            65_536, 65_536 + 8 * h + h + 1};
    }

    /** Values of a Gaussian's range: around the infinities and NaNs, which make any order's sum the same. */
    private static short gaussian(SplittableRandom r, Dtype type) {
        float f = (float) r.nextGaussian();
        return type == Dtype.BFLOAT16 ? BFloat16.round(f) : Float16.round(f);
    }

    /** Any finite pattern of the format: every exponent, subnormals and zeros of both signs included. */
    private static short finitePattern(SplittableRandom r, Dtype type) {
        int exponentMask = type == Dtype.BFLOAT16 ? 0x7F80 : 0x7C00;
        while (true) {
            short h = (short) r.nextInt(1 << 16);
            if ((h & exponentMask) != exponentMask) {
                return h;
            }
        }
    }

    private static float widen(Dtype type, short h) {
        return type == Dtype.BFLOAT16 ? BFloat16.widen(h) : Float16.widen(h);
    }

    private interface Pattern {
        short next(SplittableRandom r, Dtype type, int i);
    }

    private static void bitwiseTheFloat32Sum(Pattern pattern, String what, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Dtype type : new Dtype[] {Dtype.BFLOAT16, Dtype.FLOAT16}) {
            for (int n : lengths()) {
                short[] h = new short[n];
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    h[i] = pattern.next(r, type, i);
                    f[i] = widen(type, h[i]);
                }
                double expected = SIMD.sumOfSquares(MemorySegment.ofArray(f), 0, n);
                double actual = SIMD.sumOfSquares(MemorySegment.ofArray(h), type, n);
                assertEquals(Double.doubleToLongBits(expected), Double.doubleToLongBits(actual),
                        () -> what + ", " + type + ", n=" + n + ": " + actual + " against the float32 kernel's "
                                + expected + " (" + SIMD.describe() + ")");
            }
        }
    }

    @Test
    void valuesOverTheWholeFiniteRangeSumInTheFloat32Order() {
        bitwiseTheFloat32Sum((r, type, i) -> finitePattern(r, type), "finite patterns", 5);
    }

    @Test
    void anInfinityOrANaNAnywhereGivesTheFloat32Result() {
        // float16's infinities and NaN, then bfloat16's (each a finite value in the other format)
        for (short special : new short[] {(short) 0x7C00, (short) 0xFC00, (short) 0x7E00, (short) 0x7F80,
                (short) 0xFF80, (short) 0x7FC0}) {
            // every 91st element from element 17: in a chain, a leftover vector or the tail, as the length varies
            bitwiseTheFloat32Sum((r, type, i) -> i % 7 == 3 && i % 13 == 4 ? special : gaussian(r, type),
                    "pattern " + Integer.toHexString(special & 0xFFFF) + " among Gaussian values", 7);
        }
    }
}
