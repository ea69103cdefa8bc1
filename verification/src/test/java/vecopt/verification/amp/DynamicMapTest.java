package vecopt.verification.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import vecopt.kernel.DynamicMap;
import vecopt.reference.DynamicMapQuantization;

/**
 * The engine's bitsandbytes dynamic maps ({@link DynamicMap}: constants and a 65,536-bin lookup table built as
 * bitsandbytes builds it) against the reference ({@link DynamicMapQuantization}: the values PyTorch computed for
 * {@code create_dynamic_map}, and a direct search per value): the same maps bit for bit, the same code for every bin
 * center, for values on both sides of every midpoint and every bin edge, and for random and special values.
 */
class DynamicMapTest {
    @Test
    void theMapsAreTorchsBitForBit() {
        for (boolean signed : new boolean[] {true, false}) {
            float[] engine = signed ? DynamicMap.signedMap() : DynamicMap.unsignedMap();
            float[] reference = DynamicMapQuantization.map(signed);
            assertEquals(256, engine.length);
            for (int k = 0; k < 256; k++) {
                assertEquals(Float.floatToRawIntBits(reference[k]), Float.floatToRawIntBits(engine[k]),
                        (signed ? "signed" : "unsigned") + " map entry " + k);
                if (k > 0) {
                    assertTrue(engine[k - 1] < engine[k], "ascending at " + k);
                }
            }
            assertEquals(1f, engine[255]);
        }
        // create_dynamic_map's shape: the signed map has 0 and 1 and 127 values of each sign (its most negative
        // entry is above -1), the unsigned one 0 and 1 and 254 values between
        assertEquals(0f, DynamicMap.signedMap()[127]);
        assertEquals(0f, DynamicMap.unsignedMap()[0]);
    }

    @Test
    void everyBinAndEveryMidpointCodesAsTheReference() {
        for (int bin = 0; bin < 65536; bin++) {
            float center = -1.0f + (2.0f * bin) / 65535f;
            checkAround(center, "center of bin " + bin);
        }
        for (boolean signed : new boolean[] {true, false}) {
            float[] map = DynamicMapQuantization.map(signed);
            for (int k = 0; k + 1 < map.length; k++) {
                checkAround(0.5f * (map[k] + map[k + 1]), "midpoint " + k);
                checkAround(map[k], "entry " + k);
            }
        }
    }

    @Test
    void randomAndSpecialValuesCodeAsTheReference() {
        SplittableRandom rnd = new SplittableRandom(29);
        for (int i = 0; i < 2_000_000; i++) {
            float x = (float) (rnd.nextBoolean() ? rnd.nextDouble(-1.25, 1.25)
                    : Math.copySign(Math.pow(10, rnd.nextDouble(-9, 0.1)), rnd.nextDouble(-1, 1)));
            check(x, "random");
        }
        for (float x : new float[] {0f, -0f, 1f, -1f, 2f, -2f, Float.MIN_VALUE, 1.5e-5f, 1.6e-5f, Float.MAX_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN}) {
            check(x, "special");
        }
        // bitsandbytes' 65,536 bins are 2/65535 wide and none is centred on 0: 0 lands in bin 32768, centred on
        // +1.526e-5, whose nearest entries are 2.125e-5 (signed map: 1e-4 * mean(0.1625, 0.2625)) and 1.5625e-5
        // (unsigned: 1e-4 * mean(0.1, 0.2125)). So a zero moment comes back as that fraction of its block's scale.
        assertEquals(2.125e-5f, DynamicMap.decodeSigned(DynamicMap.encodeSigned(0f)), 1e-11f);
        assertEquals(1.5625e-5f, DynamicMap.decodeUnsigned(DynamicMap.encodeUnsigned(0f)), 1e-11f);
    }

    private static void checkAround(float x, String what) {
        int bits = Float.floatToRawIntBits(x);
        for (int d = -2; d <= 2; d++) {
            check(Float.intBitsToFloat(bits + d), what);
        }
    }

    private static void check(float x, String what) {
        assertEquals(DynamicMapQuantization.encode(x, true), DynamicMap.encodeSigned(x),
                () -> "signed code of " + x + ", " + what);
        assertEquals(DynamicMapQuantization.encode(x, false), DynamicMap.encodeUnsigned(x),
                () -> "unsigned code of " + x + ", " + what);
    }
}
