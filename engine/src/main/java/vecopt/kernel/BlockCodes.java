package vecopt.kernel;

/**
 * The 8-bit codes of block-quantized optimizer state: each block of {@link #BLOCK} consecutive elements of a tensor
 * keeps one float32 scale (a bound on the block's magnitudes after the step, found before it: {@link
 * #nextScaleSigned}) and one byte per element, the element
 * divided by the scale and coded in a small floating-point format computed from the float's bits: no table, no
 * gather (bitsandbytes' dynamic map costs a 256-entry lookup per element, which a probe here measured at 10-14
 * cycles per element in a vector loop; these cost a few integer operations).
 *
 * <ul>
 *   <li><b>Signed code</b> (exp_avg): sign bit, 4 exponent bits, 3 fraction bits, fp8 E4M3's layout (as torchao's
 *       float8 optimizer state), but without subnormals and without NaN: magnitude code {@code k} in 1..127 is
 *       {@code (1 + ((k - 1) & 7) / 8) * 2^(((k - 1) >> 3) - 15)} (2^-15 to 1.75), code 0 is zero. A normalized value {@code |x| < 2^-16}
 *       codes 0, any other the nearest magnitude (ties away from zero), at most 127; NaN and infinity code 127
 *       (their block's scale is then NaN or infinite and carries them). Relative error at most 2^-4 over
 *       [2^-15, 1] (of the block's largest magnitude).</li>
 *   <li><b>Unsigned code</b> (the square root of exp_avg_sq): 4 exponent bits, 4 fraction bits: code {@code k} in
 *       1..255 is {@code (1 + ((k - 1) & 15) / 16) * 2^(((k - 1) >> 4) - 15)} (2^-15 to 1.875), code 0 is zero. Zero codes 0; any other value
 *       the nearest code (ties away from zero) and never 0: values below the smallest code round up to it. Storing
 *       {@code sqrt(v)} halves the range the code must span (2^-15 of the block's largest {@code sqrt(v)} is
 *       2^-30 of its largest {@code v}), and rounding a positive value up, never to 0, keeps the update's
 *       denominator at or above what the float32 state would give, where rounding {@code v} to 0 would leave
 *       {@code m / eps}. Relative error of {@code sqrt(v)} at most 2^-5 over [2^-15, 1].</li>
 * </ul>
 *
 * Neither format has subnormals, so decoding never hands the CPU a subnormal float (on some x86 cores an operation
 * on one takes a microcode assist): decoding is the code shifted into a float's exponent and fraction fields,
 * rebiased by an integer add. Encoding is the same in reverse: the magnitude's bits rebiased and half a code step
 * added by one integer add, then shifted (round to nearest, ties away from zero: a tie is a value exactly halfway
 * between two codes, which the step's arithmetic rarely produces; rounding it to the even code, as F. Giesen's
 * float-to-half conversion does, took three more operations per code), then clamped. {@code reference}'s {@code BlockQuantization} defines both by search over the code values, and the
 * verification suite holds these to it on every code and on every float of the range.
 */
public final class BlockCodes {
    /** Elements per block, as bitsandbytes' and torchao's blockwise 8-bit optimizer state. */
    public static final int BLOCK = 256;
    /** Bits of {@code 2^-15}'s biased exponent, shifted into place: the codes' exponent 0. */
    static final int BIAS = 112 << 23;
    /** Added to a nonzero signed magnitude code shifted into a float's fraction field: its float bits. */
    static final int SIGNED_BASE = BIAS - (1 << 20);
    /** Added to an unsigned code shifted into place: its float bits. */
    static final int UNSIGNED_BASE = BIAS - (1 << 19);
    /**
     * Added to a magnitude's bits before the shift that keeps 3 fraction bits: rebias and add half a code step, so
     * the shift rounds to nearest with ties away from zero (a tie carries into the kept bits).
     */
    static final int SIGNED_ROUND = (1 << 19) - BIAS + (1 << 20);
    /** As {@link #SIGNED_ROUND}, keeping 4 fraction bits. */
    static final int UNSIGNED_ROUND = (1 << 18) - BIAS + (1 << 19);

    private BlockCodes() {
    }

    /** The value of signed code {@code code} (its low 8 bits): the element divided by its block's scale. */
    public static float decodeSigned(int code) {
        int k = code & 0x7F;
        int sign = (code & 0x80) << 24;
        return Float.intBitsToFloat((k == 0 ? 0 : (k << 20) + SIGNED_BASE) | sign);
    }

    /** The signed code of {@code x} (a value divided by its block's scale), in 0..255. */
    public static int encodeSigned(float x) {
        int bits = Float.floatToRawIntBits(x);
        int a = bits & 0x7FFFFFFF;
        int t = (a + SIGNED_ROUND) >> 20; // round to nearest, ties away from zero, then the code
        int k = a < (111 << 23) ? 0 : Math.min(Math.max(t, 1), 127);
        return k | ((bits >>> 24) & 0x80);
    }

    /** The value of unsigned code {@code code} (its low 8 bits). */
    public static float decodeUnsigned(int code) {
        int k = code & 0xFF;
        return Float.intBitsToFloat(k == 0 ? 0 : (k << 19) + UNSIGNED_BASE);
    }

    /** The unsigned code of {@code |x|}, in 0..255: 0 only for zero. */
    public static int encodeUnsigned(float x) {
        int a = Float.floatToRawIntBits(x) & 0x7FFFFFFF;
        int t = (a + UNSIGNED_ROUND) >> 19;
        return a == 0 ? 0 : Math.min(Math.max(t, 1), 255);
    }

    /**
     * The scale a block of exp_avg is coded against after an Adam step, known before the step:
     * {@code beta1 * largestM + (1 - beta1) * largestG} in double, rounded to float, where {@code largestM} is the
     * block's largest decoded {@code |exp_avg|} before the step and {@code largestG} a bound on its largest
     * {@code |g|} (the gradient times its scale, Adam's L2 term added). By the triangle inequality no new
     * {@code |exp_avg| = |beta1 * m + (1 - beta1) * g|} exceeds it but by the float rounding of the step (a few ulps;
     * the signed code reaches 1.75 times the scale, so such a value codes as any other). Knowing the scale before
     * the step is what lets the step code the moments in the one pass that computes them, where the block's exact
     * new largest magnitude (bitsandbytes' choice) needs a pass to find it first. Because the code is a float code
     * the scale's slack costs no precision, only range at the bottom: the ratio of the bound to the exact largest
     * magnitude moves the smallest nonzero code up by that factor (2^-15 of the scale).
     */
    public static float nextScaleSigned(float largestM, double largestG, float beta1, float oneMinusBeta1) {
        return (float) (beta1 * (double) largestM + oneMinusBeta1 * largestG);
    }

    /**
     * As {@link #nextScaleSigned}, for the square root of exp_avg_sq: {@code sqrt(beta2 * largestR^2 + (1 - beta2) *
     * largestG^2)} in double, rounded to float, where {@code largestR} is the block's largest decoded square root
     * before the step. No new {@code sqrt(beta2 * r^2 + (1 - beta2) * g^2)} exceeds it but by rounding (the unsigned
     * code reaches 1.875 times the scale).
     */
    public static float nextScaleUnsigned(float largestR, double largestG, float beta2, float oneMinusBeta2) {
        double r = largestR;
        return (float) Math.sqrt(beta2 * r * r + oneMinusBeta2 * largestG * largestG);
    }

    /** The reciprocal the codes are taken against: {@code 1 / scale}, and 0 for a block of zeros. */
    public static float inverse(float scale) {
        return scale == 0f ? 0f : 1f / scale;
    }
}
