package vecopt.memory;

/**
 * bfloat16, the upper 16 bits of an IEEE float (1 sign, 8 exponent, 7 mantissa bits), as PyTorch's
 * {@code torch.bfloat16}: {@link #round} narrows a float to the nearest bfloat16, ties to even, exactly as
 * {@code c10::BFloat16}'s {@code round_to_nearest_even} does (PyTorch's {@code tensor.to(torch.bfloat16)} on the CPU),
 * and {@link #widen} is exact.
 *
 * <pre>{@code
 * short h = BFloat16.round(0.1f);     // 0x3DCD
 * float f = BFloat16.widen(h);        // 0.10009765625
 * }</pre>
 *
 * <p>Infinities stay infinite; a float above the largest bfloat16 by half a unit in its last place or more rounds to
 * infinity; subnormal floats round like any others (bfloat16 has float's exponent range). Every NaN becomes the
 * quiet NaN {@code 0x7FC0}, sign dropped, as PyTorch does.
 */
public final class BFloat16 {
    /** The NaN every NaN narrows to (PyTorch's choice). */
    public static final short NAN = 0x7FC0;

    private BFloat16() {
    }

    /** The bfloat16 nearest to {@code f}, ties to even (bits). */
    public static short round(float f) {
        if (f != f) {
            return NAN;
        }
        int bits = Float.floatToRawIntBits(f);
        // Adding 0x7FFF, plus 1 when the kept part is odd, carries into bit 16 exactly when the dropped half is above
        // one half, or one half with an odd kept part; the carry may run into the exponent, which is the rounding up
        // to the next binade (or to infinity) that IEEE wants.
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** The float with the same value as bfloat16 {@code h} (exact). */
    public static float widen(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }
}
