package vecopt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import vecopt.memory.BFloat16;
import vecopt.memory.Float16;

/**
 * The generated loops' conversion stages against the scalar conversions ({@link BFloat16}, {@link Float16}, which
 * the verification suite holds to the formats' definition): every 16-bit pattern widened, and narrowing of every float
 * whose low 12 bits are one of the patterns that decide a rounding (zero, one, just below, at and above a half at
 * bits 12 and 15, all ones), with all 2^20 values of its high 20 bits - every sign, exponent and leading fraction,
 * so every tie and near-tie of both formats (bfloat16 cuts at bit 16, float16 at bit 13 for normals and higher for
 * subnormals), infinities, NaNs and the overflow thresholds. The vector loop handles the lengths' multiples of the
 * vector width and the scalar loop the rest, so an odd length tests both.
 */
class MixedConversionTest {
    private static final int[] LOW = {0x000, 0x001, 0x7FF, 0x800, 0x801, 0xFFF};
    private static final int N = (1 << 20) - 1; // odd: the scalar tail runs too

    @Test
    void widenEveryPattern() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(2L << 16), dst = arena.allocate(4L << 16);
            for (int h = 0; h < 1 << 16; h++) {
                src.setAtIndex(ValueLayout.JAVA_SHORT, h, (short) h);
            }
            for (int type = 1; type <= 2; type++) {
                MixedPanama.widen(src, type, dst, 1 << 16);
                for (int h = 0; h < 1 << 16; h++) {
                    float expected = type == 1 ? BFloat16.widen((short) h) : Float16.widen((short) h);
                    assertEquals(Float.floatToRawIntBits(expected),
                            Float.floatToRawIntBits(dst.getAtIndex(ValueLayout.JAVA_FLOAT, h)),
                            "type " + type + " pattern " + Integer.toHexString(h));
                }
            }
        }
    }

    @Test
    void narrowRoundsLikeTheScalarConversions() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(4L * N), dst = arena.allocate(2L * N);
            for (int low : LOW) {
                for (int half = 0; half < 2; half++) { // the high 20 bits in two halves of 2^19 values
                    for (int i = 0; i < N; i++) {
                        int high = (half << 19) + (i >> 1);
                        int bits = (high << 12) | (((i & 1) == 0) ? low : LOW[(indexOf(low) + 1) % LOW.length]);
                        src.setAtIndex(ValueLayout.JAVA_FLOAT, i, Float.intBitsToFloat(bits));
                    }
                    for (int type = 1; type <= 2; type++) {
                        MixedPanama.narrow(src, dst, type, N);
                        for (int i = 0; i < N; i++) {
                            float f = src.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                            short expected = type == 1 ? BFloat16.round(f) : Float16.round(f);
                            short actual = dst.getAtIndex(ValueLayout.JAVA_SHORT, i);
                            if (expected != actual) {
                                throw new AssertionError("type " + type + " float bits "
                                        + Integer.toHexString(Float.floatToRawIntBits(f)) + ": expected "
                                        + Integer.toHexString(expected & 0xFFFF) + ", got "
                                        + Integer.toHexString(actual & 0xFFFF));
                            }
                        }
                    }
                }
            }
        }
    }

    private static int indexOf(int low) {
        for (int i = 0; i < LOW.length; i++) {
            if (LOW[i] == low) {
                return i;
            }
        }
        throw new IllegalArgumentException();
    }
}
