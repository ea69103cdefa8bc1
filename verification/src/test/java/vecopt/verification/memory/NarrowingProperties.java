package vecopt.verification.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import vecopt.memory.BFloat16;
import vecopt.memory.Float16;
import vecopt.reference.NarrowFloat;

/**
 * The engine's bfloat16 and float16 conversions against the formats' definition ({@link NarrowFloat}): every one of
 * the 65,536 patterns of each, both ways, and floats from every part of the range with the cases that decide a
 * rounding rule first (exact ties, the subnormal boundary, the overflow threshold, NaN, signed zero).
 */
class NarrowingProperties {
    @Example
    void everyPatternWidensToItsValueAndNarrowsBack() {
        for (int h = 0; h < 1 << 16; h++) {
            short s = (short) h;
            check(NarrowFloat.BFLOAT16, h, BFloat16.widen(s), BFloat16.round(BFloat16.widen(s)));
            check(NarrowFloat.FLOAT16, h, Float16.widen(s), Float16.round(Float16.widen(s)));
        }
    }

    private static void check(NarrowFloat format, int h, float widened, short back) {
        double exact = format.value(h);
        if (Double.isNaN(exact)) {
            assertTrue(Float.isNaN(widened), format + " pattern " + Integer.toHexString(h));
            assertEquals(format.round(Double.NaN) | (format == NarrowFloat.FLOAT16 ? h & 0x8000 : 0), back & 0xFFFF,
                    format + " NaN pattern " + Integer.toHexString(h));
        } else {
            assertEquals(exact, widened, 0.0, format + " pattern " + Integer.toHexString(h));
            assertEquals(h, back & 0xFFFF, format + " pattern " + Integer.toHexString(h) + " round trip");
        }
    }

    @Example
    void everyBFloat16TieRoundsToEven() {
        // The floats exactly halfway between two neighbouring bfloat16 values: bfloat16 pattern h, then 0x8000.
        for (int h = 0; h < 1 << 16; h++) {
            float tie = Float.intBitsToFloat((h << 16) | 0x8000);
            if (!Float.isNaN(tie)) {
                assertEquals(NarrowFloat.BFLOAT16.round(tie), BFloat16.round(tie) & 0xFFFF, Float.toHexString(tie));
            }
        }
    }

    @Property(tries = 10000)
    void bfloat16RoundsToTheNearestEven(@ForAll("floats") float x) {
        assertEquals(NarrowFloat.BFLOAT16.round(x), BFloat16.round(x) & 0xFFFF,
                () -> Float.toHexString(x) + " (bits " + Integer.toHexString(Float.floatToRawIntBits(x)) + ")");
    }

    @Property(tries = 10000)
    void float16RoundsToTheNearestEven(@ForAll("floats") float x) {
        assertEquals(NarrowFloat.FLOAT16.round(x), Float16.round(x) & 0xFFFF,
                () -> Float.toHexString(x) + " (bits " + Integer.toHexString(Float.floatToRawIntBits(x)) + ")");
    }

    /**
     * Floats of every bit pattern, with the deciding cases first: exact ties and their neighbours for both formats
     * (a float16 tie in the normal range has 13 dropped bits 0x1000), the largest finites and the overflow thresholds
     * (bfloat16's max + half an ulp is 0x7F7F8000; float16's 65504 + 16 = 65520), float16's smallest subnormal and
     * half of it, signed zeros, infinities and NaNs with payloads.
     */
    @Provide
    Arbitrary<Float> floats() {
        Arbitrary<Float> any = Arbitraries.integers().between(Integer.MIN_VALUE, Integer.MAX_VALUE)
                .map(Float::intBitsToFloat);
        Arbitrary<Float> bf16Ties = Arbitraries.integers().between(0, 0xFFFF)
                .flatMap(h -> Arbitraries.of(0x7FFF, 0x8000, 0x8001).map(low -> Float.intBitsToFloat((h << 16) | low)));
        Arbitrary<Float> f16Ties = Arbitraries.integers().between(0, (1 << 19) - 1)
                .flatMap(h -> Arbitraries.of(0x0FFF, 0x1000, 0x1001).map(low -> Float.intBitsToFloat((h << 13) | low)));
        Arbitrary<Float> edges = Arbitraries.of(0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL,
                Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
                Float.intBitsToFloat(0x7FA00001), Float.intBitsToFloat(0xFFC00010),
                Float.intBitsToFloat(0x7F7F7FFF), Float.intBitsToFloat(0x7F7F8000), Float.intBitsToFloat(0x7F7F8001),
                Float.intBitsToFloat(0x7F7F0000), 65504f, 65519.99f, 65520f, 65536f, -65520f,
                0x1p-24f, 0x1p-25f, Math.nextUp(0x1p-25f), 0x1.8p-24f, 0x1p-14f, Math.nextDown(0x1p-14f));
        return Arbitraries.frequencyOf(
                Tuple.of(1, edges), Tuple.of(3, bf16Ties),
                Tuple.of(3, f16Ties), Tuple.of(3, any)).edgeCases(
                c -> c.add(0f).add(65520f).add(Float.intBitsToFloat(0x7F7F8000)));
    }
}
