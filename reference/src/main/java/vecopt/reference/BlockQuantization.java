package vecopt.reference;

/**
 * 8-bit block-quantized optimizer state, defined by its code values and a search: no bit tricks. A block of 256
 * consecutive elements of a tensor keeps one float scale (in Adam's step a bound on the block's magnitudes known
 * before the step, {@link #nextScaleOfExpAvg}); each element
 * keeps one byte, the code of the element divided by the scale (times the float reciprocal of the scale, exactly as
 * the engine forms it; a block of zeros has reciprocal 0).
 *
 * <p><b>Signed code</b> (exp_avg): byte {@code s kkkkkkk}: {@code k = 0} is zero, {@code k} in 1..127 is
 * {@code (1 + ((k - 1) mod 8) / 8) * 2^(floor((k - 1) / 8) - 15)} (2^-15 to 1.75), negated when the sign bit {@code s} is set. Encoding {@code x}:
 * the sign bit of {@code x}; magnitude 0 when {@code |x| < 2^-16}, else the code of the nearest of the 127 values
 * (on a tie the larger: round half away from zero, so {@code 2^-16} itself, halfway between 0 and the smallest
 * value, codes 1), 127 for NaN and infinity.
 *
 * <p><b>Unsigned code</b> (the square root of exp_avg_sq): {@code k = 0} is zero, {@code k} in 1..255 is
 * {@code (1 + ((k - 1) mod 16) / 16) * 2^(floor((k - 1) / 16) - 15)} (2^-15 to 1.875). Encoding {@code |x|}: 0 when it is zero, else the nearest of
 * the 255 values (on a tie the larger, as above; a value below the smallest goes to it), 255 for NaN and infinity.
 */
public final class BlockQuantization {
    /** Elements per block. */
    public static final int BLOCK = 256;

    private BlockQuantization() {
    }

    private static final double[] SIGNED = new double[128];
    private static final double[] UNSIGNED = new double[256];

    static {
        for (int k = 1; k < 256; k++) {
            if (k < 128) {
                SIGNED[k] = (1 + ((k - 1) % 8) / 8.0) * Math.pow(2, (k - 1) / 8 - 15);
            }
            UNSIGNED[k] = (1 + ((k - 1) % 16) / 16.0) * Math.pow(2, (k - 1) / 16 - 15);
        }
    }

    /** Magnitude of signed code {@code k} in 0..127: 0 for 0, else {@code (1 + ((k-1) mod 8)/8) * 2^(floor((k-1)/8) - 15)}. */
    public static double signedValue(int k) {
        return SIGNED[k];
    }

    /** Value of unsigned code {@code k} in 0..255: 0 for 0, else {@code (1 + ((k-1) mod 16)/16) * 2^(floor((k-1)/16) - 15)}. */
    public static double unsignedValue(int k) {
        return UNSIGNED[k];
    }

    /** The value signed code {@code code} (0..255) stands for, as a float. */
    public static float decodeSigned(int code) {
        double m = signedValue(code & 0x7F);
        return (code & 0x80) != 0 ? -(float) m : (float) m;
    }

    public static float decodeUnsigned(int code) {
        return (float) unsignedValue(code & 0xFF);
    }

    public static int encodeSigned(float x) {
        int sign = Float.floatToRawIntBits(x) < 0 ? 0x80 : 0;
        double a = Math.abs((double) x);
        if (Double.isNaN(a) || Double.isInfinite(a)) {
            return sign | 127;
        }
        if (a < Math.pow(2, -16)) {
            return sign;
        }
        return sign | nearest(a, 1, 127, false);
    }

    public static int encodeUnsigned(float x) {
        double a = Math.abs((double) x);
        if (Double.isNaN(a) || Double.isInfinite(a)) {
            return 255;
        }
        if (a == 0) {
            return 0;
        }
        return nearest(a, 1, 255, true);
    }

    /**
     * The code in [lo, hi] whose value is nearest {@code a}; ties to the larger. The values grow with the code,
     * so a binary search finds the first code whose value is at least {@code a}; the answer is it or the one before.
     */
    private static int nearest(double a, int lo, int hi, boolean unsigned) {
        int l = lo, h = hi;
        while (l < h) {
            int mid = (l + h) >>> 1;
            if ((unsigned ? unsignedValue(mid) : signedValue(mid)) < a) {
                l = mid + 1;
            } else {
                h = mid;
            }
        }
        if (l == lo) {
            return lo;
        }
        double above = (unsigned ? unsignedValue(l) : signedValue(l)) - a;
        double below = a - (unsigned ? unsignedValue(l - 1) : signedValue(l - 1));
        if (above < 0) { // a is above the largest value
            return l;
        }
        if (below < above) {
            return l - 1;
        }
        if (above < below) {
            return l;
        }
        return l; // a tie: half away from zero
    }

    /** The reciprocal codes are taken against: {@code 1 / scale} as a float, 0 for a zero scale. */
    public static float inverse(float scale) {
        return scale == 0f ? 0f : 1f / scale;
    }

    /**
     * The scale a block of exp_avg is coded against after an Adam step, as the engine's 8-bit Adam chooses it before
     * the step: {@code beta1 * largestM + (1 - beta1) * largestG} in double, rounded to float, where {@code largestM}
     * is the largest magnitude of the block's decoded exp_avg before the step and {@code largestG} the largest
     * magnitude of its gradient times the gradient's scale (plus the L2 factor times the largest parameter
     * magnitude, for Adam's L2 form). A bound on the new moments' magnitudes, by the triangle inequality.
     */
    public static float nextScaleOfExpAvg(float largestM, double largestG, float beta1, float oneMinusBeta1) {
        return (float) ((double) beta1 * largestM + (double) oneMinusBeta1 * largestG);
    }

    /**
     * As {@link #nextScaleOfExpAvg}, for the square root of exp_avg_sq: {@code sqrt(beta2 * largestR^2 + (1 - beta2) *
     * largestG^2)} in double, rounded to float, {@code largestR} the largest decoded square root before the step.
     */
    public static float nextScaleOfRoot(float largestR, double largestG, float beta2, float oneMinusBeta2) {
        return (float) Math.sqrt((double) beta2 * largestR * largestR + (double) oneMinusBeta2 * largestG * largestG);
    }

    /** Codes {@code values} block by block against the given {@code scales} (times their float reciprocals). */
    public static void code(float[] values, boolean signed, float[] scales, byte[] codes) {
        for (int i = 0; i < values.length; i++) {
            float x = values[i] * inverse(scales[i / BLOCK]);
            codes[i] = (byte) (signed ? encodeSigned(x) : encodeUnsigned(x));
        }
    }

    /** The values {@code codes} and {@code scales} stand for: code value times its block's scale, in float. */
    public static float[] dequantize(byte[] codes, float[] scales, boolean signed) {
        float[] out = new float[codes.length];
        for (int i = 0; i < codes.length; i++) {
            float c = signed ? decodeSigned(codes[i] & 0xFF) : decodeUnsigned(codes[i] & 0xFF);
            out[i] = c * scales[i / BLOCK];
        }
        return out;
    }
}
