package vecopt.optim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import vecopt.kernel.BlockCodes;
import vecopt.kernel.DynamicMap;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * 8-bit block-quantized Adam state (exp_avg and the square root of exp_avg_sq, {@link BlockCodes}), kept per tensor
 * as bitsandbytes keeps it: a tensor of at least {@code minSize} elements has one byte per element and variable plus
 * one float32 scale per block of 256 of its elements, counted from its first element; a smaller tensor keeps its two
 * variables in float32 (bitsandbytes' {@code min_8bit_size}, 4096 by default: biases and norms are few bytes and the
 * most sensitive). Heap for heap parameters, 64-byte aligned off-heap for off-heap ones, from the given arena or from
 * one this object owns and frees in {@link #close()}.
 */
final class QuantizedState implements AutoCloseable {
    /** bitsandbytes' default {@code min_8bit_size}. */
    static final int DEFAULT_MIN_SIZE = 4096;
    private static final int VARIABLES = 2;

    /**
     * One tensor's state: {@code values[v]} the codes (bytes) of variable v, or its floats for a small tensor;
     * {@code scales[v]} the block scales, null for a small tensor.
     */
    record Slot(boolean quantized, MemorySegment[] values, MemorySegment[] scales) {
    }

    private final Map<Tensor, Slot> slots;
    private final Arena arena;
    private final Arena owned;
    private final boolean offHeap;
    private final int minSize;
    private final EightBitCode code;
    private long bytes;

    QuantizedState(ParamSet params, int minSize, EightBitCode code, Arena given) {
        this.minSize = minSize;
        this.code = code;
        this.slots = new IdentityHashMap<>(params.tensors().size());
        this.offHeap = params.tensors().stream().anyMatch(t -> t.params().isNative());
        this.owned = given == null && offHeap ? Arena.ofShared() : null;
        this.arena = given != null ? given : owned;
        try {
            for (Tensor t : params.tensors()) {
                boolean q = t.length() >= minSize;
                MemorySegment[] values = new MemorySegment[VARIABLES];
                MemorySegment[] scales = q ? new MemorySegment[VARIABLES] : null;
                for (int v = 0; v < VARIABLES; v++) {
                    values[v] = q ? bytes(t.length()) : floats(t.length());
                    if (q) {
                        scales[v] = floats(blocks(t.length()));
                    }
                }
                slots.put(t, new Slot(q, values, scales));
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            if (owned != null) {
                owned.close();
            }
            throw e;
        }
    }

    static long blocks(long length) {
        return (length + BlockCodes.BLOCK - 1) / BlockCodes.BLOCK;
    }

    private MemorySegment bytes(long n) {
        bytes += n;
        return offHeap ? arena.allocate(n, 64) : MemorySegment.ofArray(new byte[checkedHeap(n)]);
    }

    private MemorySegment floats(long n) {
        bytes += 4 * n;
        return offHeap ? arena.allocate(4 * n, 64) : MemorySegment.ofArray(new float[checkedHeap(n)]);
    }

    private static int checkedHeap(long n) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a heap buffer holds at most 2^31-9 elements, got " + n);
        }
        return (int) n;
    }

    Slot of(Tensor t) {
        return slots.get(t);
    }

    int minSize() {
        return minSize;
    }

    EightBitCode code() {
        return code;
    }

    /** Bytes of state held here (codes, scales and the small tensors' floats). */
    long bytes() {
        return bytes;
    }

    /** A segment of each arena this state lives in, for the step's liveness check (empty on the heap). */
    List<MemorySegment> representatives() {
        return offHeap ? List.of(slots.values().iterator().next().values()[0]) : List.of();
    }

    /**
     * Variable {@code v} (0 exp_avg, 1 exp_avg_sq) of tensor {@code t} as floats: decoded (under the float codes,
     * exp_avg_sq as the square of the decoded square root), or copied for a small tensor.
     */
    float[] values(Tensor t, int v) {
        Slot s = slots.get(t);
        float[] out = new float[Math.toIntExact(t.length())];
        for (int i = 0; i < out.length; i++) {
            if (s.quantized()) {
                int code = s.values()[v].get(ValueLayout.JAVA_BYTE, i);
                float scale = s.scales()[v].get(ValueLayout.JAVA_FLOAT_UNALIGNED, (long) (i / BlockCodes.BLOCK) * 4);
                if (this.code == EightBitCode.BITSANDBYTES_DYNAMIC) { // exp_avg_sq itself
                    out[i] = (v == 0 ? DynamicMap.decodeSigned(code) : DynamicMap.decodeUnsigned(code)) * scale;
                    continue;
                }
                float r = (v == 0 ? BlockCodes.decodeSigned(code) : BlockCodes.decodeUnsigned(code)) * scale;
                out[i] = v == 0 ? r : r * r;
            } else {
                out[i] = s.values()[v].get(ValueLayout.JAVA_FLOAT_UNALIGNED, (long) i * 4);
            }
        }
        return out;
    }

    @Override
    public void close() {
        if (owned != null) {
            owned.close();
        }
    }
}
