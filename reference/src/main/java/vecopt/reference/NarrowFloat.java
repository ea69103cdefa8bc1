package vecopt.reference;

/**
 * The 16-bit float formats by their definition, for the conversion properties: a bit pattern's value computed from its
 * sign, exponent and mantissa fields, and rounding by search, the nearest representable value with ties to the even
 * pattern, overflow to infinity where the exact value is at least half a unit in the last place above the largest
 * finite value (IEEE 754, round to nearest, ties to even). No bit tricks: the engine's conversions use them, this
 * does not.
 *
 * <p>NaN narrows to the quiet NaN PyTorch produces: {@code 0x7FC0} for bfloat16 (sign dropped, {@code c10::BFloat16}),
 * {@code 0x7E00} with the input's sign for float16 ({@code c10::Half}).
 */
public enum NarrowFloat {
    BFLOAT16(8, 7),
    FLOAT16(5, 10);

    private final int exponentBits;
    private final int mantissaBits;

    NarrowFloat(int exponentBits, int mantissaBits) {
        this.exponentBits = exponentBits;
        this.mantissaBits = mantissaBits;
    }

    private int bias() {
        return (1 << (exponentBits - 1)) - 1;
    }

    private int maxExponentField() {
        return (1 << exponentBits) - 1;
    }

    private int signBit() {
        return 1 << (exponentBits + mantissaBits);
    }

    /** The largest finite pattern: exponent field one below all ones, mantissa all ones. */
    private int maxFinite() {
        return ((maxExponentField() - 1) << mantissaBits) | ((1 << mantissaBits) - 1);
    }

    /** The value of pattern {@code h} (16 bits), exact in double; NaN for a NaN pattern. */
    public double value(int h) {
        int sign = (h & signBit()) != 0 ? -1 : 1;
        int exponent = (h >>> mantissaBits) & maxExponentField();
        int mantissa = h & ((1 << mantissaBits) - 1);
        if (exponent == maxExponentField()) {
            return mantissa == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        }
        if (exponent == 0) { // subnormal: 0.mantissa x 2^(1 - bias)
            return sign * mantissa * Math.pow(2, 1 - bias() - mantissaBits);
        }
        return sign * (1 + mantissa / Math.pow(2, mantissaBits)) * Math.pow(2, exponent - bias());
    }

    /** The pattern nearest to {@code x}, ties to the even pattern (16 bits). */
    public int round(double x) {
        if (Double.isNaN(x)) {
            return this == BFLOAT16 ? 0x7FC0 : (((Double.doubleToRawLongBits(x) < 0) ? signBit() : 0) | 0x7E00);
        }
        int sign = (Double.doubleToRawLongBits(x) < 0) ? signBit() : 0; // -0.0 keeps its sign
        double a = Math.abs(x);
        int max = maxFinite();
        double ulpOfMax = value(max) - value(max - 1);
        if (a >= value(max) + ulpOfMax / 2) { // at the halfway point the tie goes to infinity: max's mantissa is odd
            return sign | (maxExponentField() << mantissaBits);
        }
        int lo = 0, hi = max; // non-negative patterns are ordered by value: find the last one <= a
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (value(mid) <= a) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if (lo == max || value(lo) == a) {
            return sign | lo;
        }
        double below = a - value(lo), above = value(lo + 1) - a;
        int nearest = below < above ? lo : above < below ? lo + 1 : ((lo & 1) == 0 ? lo : lo + 1);
        return sign | nearest;
    }
}
