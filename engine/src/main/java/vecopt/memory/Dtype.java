package vecopt.memory;

/**
 * The element type of a {@link Storage}: what a parameter or gradient buffer holds. Named as PyTorch names them
 * ({@code torch.float32}, {@code torch.bfloat16}, {@code torch.float16}).
 *
 * <p>Narrowing to the 16-bit types rounds to nearest even, as PyTorch's {@code .to(torch.bfloat16)} and
 * {@code .half()} do ({@link BFloat16#round}, {@link Float16#round}); widening is exact. Optimizer state is always
 * float32 here unless a group asks otherwise.
 *
 * <pre>{@code
 * Storage grads = Storage.allocate(arena, n, Dtype.BFLOAT16);   // 2 bytes per gradient
 * }</pre>
 */
public enum Dtype {
    /** IEEE binary32: 4 bytes. */
    FLOAT32(4, "float32"),
    /** bfloat16: float32's sign and 8-bit exponent with a 7-bit fraction; 2 bytes. */
    BFLOAT16(2, "bfloat16"),
    /** IEEE binary16 (half): 5-bit exponent, 10-bit fraction, subnormals; 2 bytes. */
    FLOAT16(2, "float16");

    private final int bytes;
    private final String torchName;

    Dtype(int bytes, String torchName) {
        this.bytes = bytes;
        this.torchName = torchName;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** PyTorch's name, e.g. {@code "bfloat16"} for {@code torch.bfloat16}. */
    public String torchName() {
        return torchName;
    }

    /** The value {@code bits} holds (the low {@link #bytes()} bytes of it), widened exactly to float. */
    float widen(int bits) {
        return switch (this) {
            case FLOAT32 -> Float.intBitsToFloat(bits);
            case BFLOAT16 -> BFloat16.widen((short) bits);
            case FLOAT16 -> Float16.widen((short) bits);
        };
    }

    /** {@code value} rounded to this type (nearest even), as bits in the low {@link #bytes()} bytes. */
    int round(float value) {
        return switch (this) {
            case FLOAT32 -> Float.floatToRawIntBits(value);
            case BFLOAT16 -> BFloat16.round(value);
            case FLOAT16 -> Float16.round(value);
        };
    }

    /** {@code value} rounded to this type and widened back: what storing it keeps. */
    public float roundTrip(float value) {
        return widen(round(value));
    }
}
