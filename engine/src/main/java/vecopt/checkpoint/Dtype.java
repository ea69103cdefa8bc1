package vecopt.checkpoint;

/**
 * The element types of the safetensors format (https://huggingface.co/docs/safetensors, "Format"), by the names its
 * header uses, with their size in bytes. vecopt writes {@link #F32}, {@link #BF16} and {@link #F16} (each buffer's
 * own type: {@link #of(vecopt.memory.Dtype)}); the reader knows them all, so that a file holding, say, 8-bit
 * block-quantized state with its per-block scales as separate F32 tensors is parsed and reported by name rather than
 * rejected as garbage.
 *
 * <pre>{@code
 * long bytes = entry.elements() * entry.dtype().bytes();   // == entry.byteLength()
 * }</pre>
 */
public enum Dtype {
    BOOL(1), U8(1), I8(1), F8_E4M3(1), F8_E5M2(1), I16(2), U16(2), F16(2), BF16(2), I32(4), U32(4), F32(4), F64(8),
    I64(8), U64(8);

    private final int bytes;

    Dtype(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The safetensors dtype of buffers of element type {@code type}: F32, BF16 or F16. */
    public static Dtype of(vecopt.memory.Dtype type) {
        return switch (type) {
            case FLOAT32 -> F32;
            case BFLOAT16 -> BF16;
            case FLOAT16 -> F16;
        };
    }

    /**
     * True when a tensor of this dtype loads into a buffer of {@code buffer}'s type without changing a value: the
     * same type, or a 16-bit float into a float32 buffer (widening is exact: every bfloat16 and float16 is a float).
     * Narrowing would round, and is refused.
     */
    boolean loadsExactlyInto(vecopt.memory.Dtype buffer) {
        return this == of(buffer) || buffer == vecopt.memory.Dtype.FLOAT32 && (this == BF16 || this == F16);
    }

    /** The dtype called {@code name} in a header, or null when safetensors has no such dtype. */
    static Dtype named(String name) {
        for (Dtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }
}
