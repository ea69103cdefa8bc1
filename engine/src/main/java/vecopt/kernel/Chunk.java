package vecopt.kernel;

import java.lang.foreign.MemorySegment;
import vecopt.memory.Dtype;

/**
 * One unit of kernel work: the element range {@code [start, start + length)} of a parameter buffer, of its gradient
 * buffer and of its state buffers, all of the same layout. Chunks are built once with an optimizer, so a step
 * allocates nothing; the kernels read the fields directly.
 *
 * <p>A chunk holds its own slices of the buffers, exactly its range, allocated with it (its elements are at
 * {@code [0, length)} of each slice). A step over many small tensors reads every chunk's segments; slices made
 * here, one after another, lie next to their chunk in memory in the order the step visits them, where the callers'
 * segment objects lie wherever they were made. With 100,000 tensors of 1 to 1,024 floats that took the update from
 * 0.30x to 0.58x of one flat buffer's speed (the kernels' dependent loads of scattered segment objects missed the
 * cache on every chunk).
 */
public final class Chunk {
    final MemorySegment params;
    final MemorySegment grads;
    /** One buffer per state variable, in the optimizer's order (e.g. exp_avg, exp_avg_sq, max_exp_avg_sq). */
    final MemorySegment[] state;
    final int length;
    final int group;
    final int index;
    /**
     * {@link Dtype#ordinal()} of the gradients and of the parameters: 0 float32, 1 bfloat16, 2 float16; for the
     * parameters also 3: bfloat16 without a master copy, stored with stochastic rounding.
     */
    final int gradType;
    final int paramType;
    /** True when either is not float32: the kernels then run the generated mixed-precision loops. */
    final boolean mixed;
    /** 1 where the optimizer state (but not a master copy) is bfloat16, stored with stochastic rounding; else 0. */
    final int stateType;
    /** The index of the chunk's first element in its buffers (the stochastic rounding's counter). */
    final long start;
    /**
     * With 8-bit block-quantized state ({@code stateType} 2, or 3 in bitsandbytes' dynamic maps): the float32 scales of the chunk's blocks, one segment
     * per quantized variable (exp_avg, then sqrt of exp_avg_sq); else null.
     */
    final MemorySegment[] scales;
    /**
     * With 8-bit state: per quantized variable, whether it is coded as the square root of a non-negative value
     * (the unsigned code) rather than as the value (the signed code); else null.
     */
    final boolean[] root;
    /**
     * With 8-bit state, the block being stepped: per quantized variable its scale before the step (the loads decode
     * against it) and the reciprocal of its new scale (the stores code against it), set by the block driver before
     * each block's loop. A chunk is run by one thread at a time, so these are its own; else null.
     */
    final float[] blockScale;
    final float[] blockInverse;
    private final Dtype gradDtype;
    private final Dtype paramDtype;

    /**
     * @param params the whole parameter buffer; the chunk keeps its slice {@code [start, start + length)}
     * @param grads  the whole gradient buffer, sliced alike
     * @param state  the state buffers the optimizer keeps for this parameter buffer (possibly none), sliced alike
     * @param group  the parameter group, whose prepared step the kernel applies
     * @param index  the work item this chunk belongs to: where the kernels add its partial sums
     *               (the {@link Kernels#NORM_SLOTS} slots from {@code NORM_SLOTS * index}); the chunks of one item
     *               are run in order by one thread
     */
    public Chunk(MemorySegment params, MemorySegment grads, MemorySegment[] state, long start, int length, int group,
                 int index) {
        this(params, Dtype.FLOAT32, grads, Dtype.FLOAT32, state, start, length, group, index);
    }

    /**
     * A chunk whose parameters and gradients may be stored as 16-bit floats (the state is float32). Where the
     * parameters are 16-bit the optimizer's last state buffer is their float32 master copy.
     */
    public Chunk(MemorySegment params, Dtype paramType, MemorySegment grads, Dtype gradType, MemorySegment[] state,
                 long start, int length, int group, int index) {
        this(params, paramType, false, grads, gradType, state, start, length, group, index);
    }

    /**
     * As above; {@code stochastic}: bfloat16 parameters without a master copy, each new value stored with stochastic
     * rounding (see {@code MixedScalar.roundStochastically}).
     */
    public Chunk(MemorySegment params, Dtype paramType, boolean stochastic, MemorySegment grads, Dtype gradType,
                 MemorySegment[] state, long start, int length, int group, int index) {
        this(params, paramType, stochastic, grads, gradType, Dtype.FLOAT32, state, start, length, group, index);
    }

    /**
     * As above; {@code stateType}: {@link Dtype#BFLOAT16} where the optimizer's state variables (all but a master
     * copy) are stored as bfloat16 with stochastic rounding.
     */
    public Chunk(MemorySegment params, Dtype paramType, boolean stochastic, MemorySegment grads, Dtype gradType,
                 Dtype stateType, MemorySegment[] state, long start, int length, int group, int index) {
        if (stateType == Dtype.FLOAT16) {
            throw new IllegalArgumentException("optimizer state is float32 or bfloat16, got " + stateType);
        }
        if (stochastic && paramType != Dtype.BFLOAT16) {
            throw new IllegalArgumentException("stochastic rounding is for bfloat16 parameters, got " + paramType);
        }
        this.start = start;
        final long from = start * Float.BYTES, bytes = (long) length * Float.BYTES;
        this.params = params.asSlice(start * paramType.bytes(), (long) length * paramType.bytes());
        this.grads = grads.asSlice(start * gradType.bytes(), (long) length * gradType.bytes());
        this.paramType = stochastic ? 3 : paramType.ordinal();
        this.gradType = gradType.ordinal();
        this.paramDtype = paramType;
        this.gradDtype = gradType;
        this.stateType = stateType == Dtype.BFLOAT16 ? 1 : 0;
        this.mixed = paramType != Dtype.FLOAT32 || gradType != Dtype.FLOAT32 || stateType != Dtype.FLOAT32;
        this.state = new MemorySegment[state.length];
        final boolean masterLast = paramType != Dtype.FLOAT32 && !stochastic;
        for (int i = 0; i < state.length; i++) {
            boolean narrow = stateType == Dtype.BFLOAT16 && !(masterLast && i == state.length - 1);
            this.state[i] = narrow ? state[i].asSlice(start * 2, (long) length * 2) : state[i].asSlice(from, bytes);
        }
        this.length = length;
        this.group = group;
        this.index = index;
        this.scales = null;
        this.root = null;
        this.blockScale = null;
        this.blockInverse = null;
    }

    private Chunk(MemorySegment params, Dtype paramType, boolean stochastic, MemorySegment grads, Dtype gradType,
                  int stateType, MemorySegment[] state, MemorySegment[] scales, boolean[] root, long start, int length,
                  int group, int index) {
        this.start = start;
        this.params = params.asSlice(start * paramType.bytes(), (long) length * paramType.bytes());
        this.grads = grads.asSlice(start * gradType.bytes(), (long) length * gradType.bytes());
        this.paramType = stochastic ? 3 : paramType.ordinal();
        this.gradType = gradType.ordinal();
        this.paramDtype = paramType;
        this.gradDtype = gradType;
        this.stateType = stateType;
        this.mixed = paramType != Dtype.FLOAT32 || gradType != Dtype.FLOAT32 || stateType != 0;
        this.state = state;
        this.scales = scales;
        this.root = root;
        this.blockScale = scales == null ? null : new float[scales.length];
        this.blockInverse = scales == null ? null : new float[scales.length];
        this.length = length;
        this.group = group;
        this.index = index;
    }

    /**
     * A chunk of an Adam-family optimizer with 8-bit block-quantized state ({@link BlockCodes}). Its range must start
     * at a block boundary of its tensor. The segments are already the chunk's own:
     *
     * @param codes   the byte codes of exp_avg and of sqrt(exp_avg_sq), {@code length} bytes each
     * @param scales  their blocks' float32 scales, {@code ceil(length / 256)} floats each
     * @param master  the float32 master copy's slice ({@code length} floats) where the parameters are 16-bit and
     *                kept with one; else null
     */
    public static Chunk quantized(MemorySegment params, Dtype paramType, boolean stochastic, MemorySegment grads,
                                  Dtype gradType, MemorySegment[] codes, MemorySegment[] scales, MemorySegment master,
                                  long start, int length, int group, int index) {
        return quantized(params, paramType, stochastic, grads, gradType, codes, scales, master, start, length, group,
                index, false);
    }

    /**
     * As above; {@code dynamicMap}: the codes are bitsandbytes' dynamic maps ({@link DynamicMap}: exp_avg and
     * exp_avg_sq itself, {@code stateType} 3) rather than {@link BlockCodes}' float codes.
     */
    public static Chunk quantized(MemorySegment params, Dtype paramType, boolean stochastic, MemorySegment grads,
                                  Dtype gradType, MemorySegment[] codes, MemorySegment[] scales, MemorySegment master,
                                  long start, int length, int group, int index, boolean dynamicMap) {
        return quantized(params, paramType, stochastic, grads, gradType, codes, scales, new boolean[] {false, true},
                master, start, length, group, index, dynamicMap);
    }

    /**
     * A chunk of any optimizer with 8-bit block-quantized state in {@link BlockCodes}' float codes: as above, with
     * one code and scale segment per quantized state variable (in the optimizer's state order) and
     * {@code root[j]} true where variable j is coded as its square root (the unsigned code: RMSprop's square_avg,
     * Adagrad's sum), false where as itself (the signed code: a momentum buffer, Lion's exp_avg).
     */
    public static Chunk quantized(MemorySegment params, Dtype paramType, boolean stochastic, MemorySegment grads,
                                  Dtype gradType, MemorySegment[] codes, MemorySegment[] scales, boolean[] root,
                                  MemorySegment master, long start, int length, int group, int index,
                                  boolean dynamicMap) {
        if (stochastic && paramType != Dtype.BFLOAT16) {
            throw new IllegalArgumentException("stochastic rounding is for bfloat16 parameters, got " + paramType);
        }
        if (root.length != codes.length || scales.length != codes.length) {
            throw new IllegalArgumentException("codes, scales and root: one per quantized variable, got "
                    + codes.length + ", " + scales.length + " and " + root.length);
        }
        MemorySegment[] state = java.util.Arrays.copyOf(codes, codes.length + (master == null ? 0 : 1));
        if (master != null) {
            state[codes.length] = master;
        }
        return new Chunk(params, paramType, stochastic, grads, gradType, dynamicMap ? 3 : 2, state, scales.clone(),
                root.clone(), start, length, group, index);
    }

    /**
     * A chunk whose float32 state segments are already its own slices ({@code length} floats each from 0), for
     * state kept per tensor rather than per buffer (the small tensors of an optimizer with 8-bit state).
     */
    public static Chunk presliced(MemorySegment params, Dtype paramType, boolean stochastic, MemorySegment grads,
                                  Dtype gradType, MemorySegment[] state, long start, int length, int group,
                                  int index) {
        if (stochastic && paramType != Dtype.BFLOAT16) {
            throw new IllegalArgumentException("stochastic rounding is for bfloat16 parameters, got " + paramType);
        }
        return new Chunk(params, paramType, stochastic, grads, gradType, 0, state.clone(), null, null, start, length,
                group, index);
    }

    public int index() {
        return index;
    }

    public int length() {
        return length;
    }

    public int group() {
        return group;
    }

    /** The parameters' element type. */
    public Dtype paramType() {
        return paramDtype;
    }

    /** The gradients' element type. */
    public Dtype gradType() {
        return gradDtype;
    }

    /** The chunk's slice of the gradient buffer: its {@code length} elements from 0. */
    public MemorySegment grads() {
        return grads;
    }

    /** The chunk's slice of the parameter buffer: its {@code length} elements from 0. */
    public MemorySegment params() {
        return params;
    }
}
