package vecopt.reference;

/**
 * 8-bit block-quantized optimizer state, defined by its code values and a search: no bit tricks. A block of 256
 * consecutive elements of a tensor keeps one float scale, the largest magnitude among its elements; each element
 * keeps one byte, the code of the element divided by the scale (times the float reciprocal of the scale, exactly as
 * the engine forms it; a block of zeros has reciprocal 0).
 *
 * <p><b>Signed code</b> (exp_avg): byte {@code s kkkkkkk}: {@code k = 0} is zero, {@code k} in 1..127 is
 * {@code (1 + ((k - 1) mod 8) / 8) * 2^(floor((k - 1) / 8) - 15)} (2^-15 to 1.75), negated when the sign bit {@code s} is set. Encoding {@code x}:
 * the sign bit of {@code x}; magnitude 0 when {@code |x| <= 2^-16}, else the code of the nearest of the 127 values
 * (on a tie the odd code, whose fraction bits {@code k - 1} are even: round half to even), 127 for NaN and infinity.
 *
 * <p><b>Unsigned code</b> (the square root of exp_avg_sq): {@code k = 0} is zero, {@code k} in 1..255 is
 * {@code (1 + ((k - 1) mod 16) / 16) * 2^(floor((k - 1) / 16) - 15)} (2^-15 to 1.875). Encoding {@code |x|}: 0 when it is zero, else the nearest of
 * the 255 values (on a tie the odd code, as above; a value below the smallest goes to it), 255 for NaN and infinity.
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
        if (a <= Math.pow(2, -16)) {
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
     * The code in [lo, hi] whose value is nearest {@code a}; ties to the odd code. The values grow with the code,
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
        return l % 2 == 1 ? l : l - 1; // an odd code's fraction bits (k - 1) are even
    }

    /** The scale of a block: the largest magnitude of {@code values[from, to)} (NaN if any is NaN). */
    public static float scale(float[] values, int from, int to) {
        float s = 0f;
        for (int i = from; i < to; i++) {
            s = Math.max(s, Math.abs(values[i]));
        }
        return s;
    }

    /** The reciprocal codes are taken against: {@code 1 / scale} as a float, 0 for a zero scale. */
    public static float inverse(float scale) {
        return scale == 0f ? 0f : 1f / scale;
    }

    /**
     * Quantizes {@code values} (one tensor's state) block by block into {@code codes} and {@code scales}
     * ({@code ceil(n / 256)} of them), signed or unsigned.
     */
    public static void quantize(float[] values, boolean signed, byte[] codes, float[] scales) {
        for (int b = 0; b * BLOCK < values.length; b++) {
            int from = b * BLOCK, to = Math.min(values.length, from + BLOCK);
            float s = scale(values, from, to);
            float inv = inverse(s);
            scales[b] = s;
            for (int i = from; i < to; i++) {
                float x = values[i] * inv;
                codes[i] = (byte) (signed ? encodeSigned(x) : encodeUnsigned(x));
            }
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
