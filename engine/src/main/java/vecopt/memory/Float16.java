package vecopt.memory;

/**
 * IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits), PyTorch's {@code torch.float16}: {@link #round} narrows a
 * float to the nearest half, ties to even, with subnormal halves and overflow to infinity as IEEE says (the JDK's
 * {@link Float#floatToFloat16}, which the JIT compiles to one instruction where the CPU has one); {@link #widen} is
 * exact.
 *
 * <pre>{@code
 * short h = Float16.round(0.1f);      // 0x2E66
 * float f = Float16.widen(h);         // 0.0999755859375
 * }</pre>
 *
 * <p>One deliberate difference from the JDK, to match PyTorch's {@code tensor.half()} ({@code c10::Half}'s
 * {@code fp16_ieee_from_fp32_value}): every NaN becomes the quiet NaN {@code 0x7E00} with the input's sign, where the
 * JDK keeps some payload bits. Widening a NaN keeps its payload and sets the quiet bit, as PyTorch's
 * {@code fp16_ieee_to_fp32_value} does (its float multiply quiets it) - and as the JDK's {@link Float#float16ToFloat}
 * does once compiled to the CPU's instruction but not in the interpreter: so this widening is written out in bits,
 * the same in every JIT tier and in the vector loops.
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
        final int sign = (h & 0x8000) << 16, em = h & 0x7FFF;
        if (em >= 0x7C00) { // infinity, or NaN: payload kept, quiet bit set
            return Float.intBitsToFloat(sign | 0x7F800000 | ((em & 0x3FF) << 13) | (em > 0x7C00 ? 0x400000 : 0));
        }
        // Exponent and fraction moved into float's places read as a float 2^-112 times the half's value (a float
        // subnormal for a subnormal half); multiplying by 2^112 is exact for all of them.
        return Float.intBitsToFloat(sign | Float.floatToRawIntBits(Float.intBitsToFloat(em << 13) * 0x1p112f));
    }
}
