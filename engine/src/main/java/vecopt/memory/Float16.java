package vecopt.memory;

/**
 * IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits), PyTorch's {@code torch.float16}: {@link #round} narrows a
 * float to the nearest half, ties to even, with subnormal halves and overflow to infinity as IEEE says (the JDK's
 * {@link Float#floatToFloat16}, which the JIT compiles to one instruction where the CPU has one); {@link #widen} is
 * exact ({@link Float#float16ToFloat}).
 *
 * <pre>{@code
 * short h = Float16.round(0.1f);      // 0x2E66
 * float f = Float16.widen(h);         // 0.0999755859375
 * }</pre>
 *
 * <p>One deliberate difference from the JDK, to match PyTorch's {@code tensor.half()} ({@code c10::Half}'s
 * {@code fp16_ieee_from_fp32_value}): every NaN becomes the quiet NaN {@code 0x7E00} with the input's sign, where the
 * JDK keeps some payload bits.
 */
public final class Float16 {
    /** The positive NaN a NaN narrows to (PyTorch's choice; a negative NaN keeps its sign bit). */
    public static final short NAN = 0x7E00;

    private Float16() {
    }

    /** The half nearest to {@code f}, ties to even (bits). */
    public static short round(float f) {
        if (f != f) {
            return (short) (((Float.floatToRawIntBits(f) >>> 16) & 0x8000) | NAN);
        }
        return Float.floatToFloat16(f);
    }

    /** The float with the same value as half {@code h} (exact). */
    public static float widen(short h) {
        return Float.float16ToFloat(h);
    }
}
