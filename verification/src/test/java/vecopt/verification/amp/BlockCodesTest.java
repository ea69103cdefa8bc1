package vecopt.verification.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import vecopt.kernel.BlockCodes;
import vecopt.reference.BlockQuantization;

/**
 * The engine's 8-bit codes ({@link BlockCodes}: bit operations) against their definition ({@link BlockQuantization}:
 * the code values and a search for the nearest): every code decoded, every boundary between two codes and the floats
 * next to it, the special values, and four million floats over the codes' range and beyond; and the error bounds the
 * formats promise, derived from their fraction bits: a signed code's value is within 2^-4 of a value in
 * [2^-15, 1] relative to it (3 fraction bits: neighbours 2^-3 apart relative to the smaller, half of that at most),
 * an unsigned code's within 2^-5 (4 fraction bits), and a positive value never codes to zero.
 */
class BlockCodesTest {
    @Test
    void everyCodeDecodesAsDefined() {
        for (int c = 0; c < 256; c++) {
            assertEquals(Float.floatToRawIntBits(BlockQuantization.decodeSigned(c)),
                    Float.floatToRawIntBits(BlockCodes.decodeSigned(c)), "signed code " + c);
            assertEquals(Float.floatToRawIntBits(BlockQuantization.decodeUnsigned(c)),
                    Float.floatToRawIntBits(BlockCodes.decodeUnsigned(c)), "unsigned code " + c);
            // and a byte read back sign-extended is the same code
            assertEquals(Float.floatToRawIntBits(BlockCodes.decodeSigned(c)),
                    Float.floatToRawIntBits(BlockCodes.decodeSigned((byte) c)), "signed code " + c + " as a byte");
            assertEquals(Float.floatToRawIntBits(BlockCodes.decodeUnsigned(c)),
                    Float.floatToRawIntBits(BlockCodes.decodeUnsigned((byte) c)), "unsigned code " + c + " as a byte");
        }
    }

    @Test
    void everyBoundaryAndItsNeighboursEncodeAsDefined() {
        for (int k = 0; k < 255; k++) {
            if (k < 127) {
                float lo = BlockCodes.decodeSigned(k), hi = BlockCodes.decodeSigned(k + 1);
                checkAround((float) (((double) lo + hi) / 2), k);
                checkAround(lo, k);
            }
            float lo = BlockCodes.decodeUnsigned(k), hi = BlockCodes.decodeUnsigned(k + 1);
            checkAround((float) (((double) lo + hi) / 2), k);
            checkAround(lo, k);
        }
        checkAround(0x1p-16f, -1);
        checkAround(2f, -1);
    }

    private static void checkAround(float x, int k) {
        int bits = Float.floatToRawIntBits(x);
        for (int d = -3; d <= 3; d++) {
            float y = Float.intBitsToFloat(bits + d);
            check(y, "near boundary of code " + k);
            check(-y, "near boundary of code " + k);
        }
    }

    @Test
    void specialValuesEncodeAsDefined() {
        float[] special = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 0x1p-16f, 0x1p-15f, 1f, -1f,
                1.875f, 1.9375f, 2f, Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
                Float.intBitsToFloat(0xFFC00001)};
        for (float x : special) {
            check(x, "special");
        }
        assertEquals(0, BlockCodes.encodeSigned(0f));
        assertEquals(0x80, BlockCodes.encodeSigned(-0f), "-0 keeps its sign bit");
        assertEquals(0, BlockCodes.encodeUnsigned(0f));
        assertEquals(0, BlockCodes.encodeUnsigned(-0f));
        assertEquals(127, BlockCodes.encodeSigned(Float.NaN));
        assertEquals(255, BlockCodes.encodeUnsigned(Float.NaN));
    }

    @Test
    void tiesRoundAwayFromZero() {
        // the rule itself, by hand from the code values (signed k: (1 + ((k-1) & 7)/8) * 2^(((k-1) >> 3) - 15),
        // unsigned k: (1 + ((k-1) & 15)/16) * 2^(((k-1) >> 4) - 15)), in the engine and in the reference alike
        // 1.0625: halfway between signed 1 (k = 121) and 1.125 (122): 122, either sign; a float below it: 121 (and
        // unsigned 242, 1.0625 itself, the nearest)
        // 2^-16: halfway between signed 0 and 2^-15 (k = 1): 1; a float below it: 0
        // 1.03125: halfway between unsigned 1 (k = 241) and 1.0625 (242): 242; a float below it: 241
        // 1.875 + 1/32: halfway above the largest codes (signed 1.75 = 127 is below it; unsigned 1.875 = 255): clamped
        float[][] cases = {{1.0625f, 122, 242}, {-1.0625f, 0x80 | 122, 242}, {Math.nextDown(1.0625f), 121, 242},
                {0x1p-16f, 1, 1}, {-0x1p-16f, 0x81, 1}, {Math.nextDown(0x1p-16f), 0, 1},
                {1.03125f, 121, 242}, {Math.nextDown(1.03125f), 121, 241}, {1.90625f, 127, 255}};
        for (float[] c : cases) {
            assertEquals((int) c[1], BlockCodes.encodeSigned(c[0]), "engine's signed code of " + c[0]);
            assertEquals((int) c[1], BlockQuantization.encodeSigned(c[0]), "reference's signed code of " + c[0]);
            assertEquals((int) c[2], BlockCodes.encodeUnsigned(c[0]), "engine's unsigned code of " + c[0]);
            assertEquals((int) c[2], BlockQuantization.encodeUnsigned(c[0]), "reference's unsigned code of " + c[0]);
        }
    }

    @Test
    void fourMillionFloatsEncodeAsDefined() {
        SplittableRandom rnd = new SplittableRandom(13);
        for (int i = 0; i < 4_000_000; i++) {
            // exponents from 2^-40 to 2^3: below, across and above the codes' range; any fraction
            int exp = rnd.nextInt(127 - 40, 127 + 4);
            float x = Float.intBitsToFloat((exp << 23) | rnd.nextInt(1 << 23));
            check(rnd.nextBoolean() ? x : -x, "random");
        }
    }

    @Test
    void errorsStayWithinTheFormatsBounds() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int i = 0; i < 1_000_000; i++) {
            double x = Math.pow(2, -15 * rnd.nextDouble()); // log-uniform over [2^-15, 1]
            float f = (float) x;
            float s = BlockCodes.decodeSigned(BlockCodes.encodeSigned(f));
            float u = BlockCodes.decodeUnsigned(BlockCodes.encodeUnsigned(f));
            assertTrue(Math.abs(s - f) <= 0x1p-4 * f, "signed: " + f + " coded as " + s);
            assertTrue(Math.abs(u - f) <= 0x1p-5 * f, "unsigned: " + f + " coded as " + u);
        }
        for (int i = 0; i < 100_000; i++) {
            float tiny = Float.intBitsToFloat(rnd.nextInt(1, 112 << 23)); // every positive float below 2^-15
            assertTrue(BlockCodes.encodeUnsigned(tiny) >= 1, "a positive value never codes to 0: " + tiny);
            assertTrue(BlockCodes.decodeUnsigned(BlockCodes.encodeUnsigned(tiny)) >= tiny,
                    "below the smallest code, a value rounds up: " + tiny);
        }
    }

    private static void check(float x, String what) {
        assertEquals(BlockQuantization.encodeSigned(x), BlockCodes.encodeSigned(x),
                () -> "signed code of " + x + " (bits " + Integer.toHexString(Float.floatToRawIntBits(x)) + "), " + what);
        assertEquals(BlockQuantization.encodeUnsigned(x), BlockCodes.encodeUnsigned(x),
                () -> "unsigned code of " + x + " (bits " + Integer.toHexString(Float.floatToRawIntBits(x)) + "), "
                        + what);
    }
}
