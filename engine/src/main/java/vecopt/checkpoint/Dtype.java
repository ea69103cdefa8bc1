package vecopt.checkpoint;

/**
 * The element types of the safetensors format (https://huggingface.co/docs/safetensors, "Format"), by the names its
 * header uses, with their size in bytes. vecopt writes {@link #F32} today; the reader knows them all, so that a file
 * holding bf16 or fp16 parameters, or 8-bit block-quantized state with its per-block scales as separate F32 tensors,
 * is parsed and reported by name rather than rejected as garbage.
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
