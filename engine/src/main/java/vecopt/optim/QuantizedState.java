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
 * 8-bit block-quantized optimizer state ({@link BlockCodes}), kept per tensor as bitsandbytes keeps it: a tensor of
 * at least {@code minSize} elements has one byte per element and variable plus one float32 scale per block of 256 of
 * its elements, counted from its first element; a smaller tensor keeps its variables in float32 (bitsandbytes'
 * {@code min_8bit_size}, 4096 by default: biases and norms are few bytes and the most sensitive). Each variable is
 * coded as itself (the signed code: exp_avg, a momentum buffer) or as its square root (the unsigned code: exp_avg_sq,
 * square_avg, Adagrad's sum). Heap for heap parameters, 64-byte aligned off-heap for off-heap ones, from the given
 * arena or from one this object owns and frees in {@link #close()}.
 */
final class QuantizedState implements AutoCloseable {
    /** bitsandbytes' default {@code min_8bit_size}. */
    static final int DEFAULT_MIN_SIZE = 4096;

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
    private final List<String> variables;
    private final boolean[] roots;
    private long bytes;

    /**
     * @param variables the quantized state variables, in the optimizer's state order
     * @param roots     per variable, whether it is coded as its square root
     */
    QuantizedState(ParamSet params, List<String> variables, boolean[] roots, int minSize, EightBitCode code,
                   Arena given) {
        this.minSize = minSize;
        this.code = code;
        this.variables = List.copyOf(variables);
        this.roots = roots.clone();
        this.slots = new IdentityHashMap<>(params.tensors().size());
        this.offHeap = params.tensors().stream().anyMatch(t -> t.params().isNative());
        this.owned = given == null && offHeap ? Arena.ofShared() : null;
        this.arena = given != null ? given : owned;
        final int count = variables.size();
        try {
            for (Tensor t : params.tensors()) {
                boolean q = t.length() >= minSize;
                MemorySegment[] values = new MemorySegment[count];
                MemorySegment[] scales = q ? new MemorySegment[count] : null;
                for (int v = 0; v < count; v++) {
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

    /** The quantized variables' names, in state order. */
    List<String> variables() {
        return variables;
    }

    /** Per variable, whether it is coded as its square root. */
    boolean[] roots() {
        return roots.clone();
    }

    /**
     * Sets variable {@code v} of tensor {@code t} to {@code value} everywhere (a state that does not start at 0:
     * Adagrad's initial_accumulator_value): a small tensor's floats, or each block's scale the value (its square root,
     * for a variable coded so) and every code 1.0's, so that the step decodes exactly what any later state decodes
     * to (1.0 times the scale; squared for a root). Before the first step only.
     */
    void fill(Tensor t, int v, float value) {
        Slot s = slots.get(t);
        if (!s.quantized()) {
            for (long i = 0; i < t.length(); i++) {
                s.values()[v].set(ValueLayout.JAVA_FLOAT_UNALIGNED, i * 4, value);
            }
            return;
        }
        float scale = roots[v] ? (float) Math.sqrt(value) : Math.abs(value);
        byte one = (byte) (roots[v] ? BlockCodes.encodeUnsigned(1f) : BlockCodes.encodeSigned(Math.signum(value)));
        s.values()[v].fill(one);
        for (long b = 0; b < blocks(t.length()); b++) {
            s.scales()[v].set(ValueLayout.JAVA_FLOAT_UNALIGNED, b * 4, scale);
        }
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
     * Variable {@code v} of tensor {@code t} as floats: decoded (under the float codes, a variable coded as its
     * square root as the square of the decoded root), or copied for a small tensor.
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
                float r = (roots[v] ? BlockCodes.decodeUnsigned(code) : BlockCodes.decodeSigned(code)) * scale;
                out[i] = roots[v] ? r * r : r;
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
