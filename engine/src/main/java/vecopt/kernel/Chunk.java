package vecopt.kernel;

import java.lang.foreign.MemorySegment;

/**
 * One unit of kernel work: the element range {@code [start, start + length)} of a parameter buffer, of its gradient
 * buffer and of its state buffers, all of the same layout. Chunks are built once with an optimizer, so a step
 * allocates nothing; the kernels read the fields directly.
 */
public final class Chunk {
    final MemorySegment params;
    final MemorySegment grads;
    /** One buffer per state variable, in the optimizer's order (e.g. exp_avg, exp_avg_sq, max_exp_avg_sq). */
    final MemorySegment[] state;
    final long start;
    final int length;
    final int group;
    final int index;

    /**
     * @param state  the state buffers the optimizer keeps for this parameter buffer (possibly none)
     * @param group  the parameter group, whose prepared step the kernel applies
     * @param index  this chunk's position in its grid: where the kernels store its partial sums
     *               (the {@link Kernels#NORM_SLOTS} slots from {@code NORM_SLOTS * index})
     */
    public Chunk(MemorySegment params, MemorySegment grads, MemorySegment[] state, long start, int length, int group,
                 int index) {
        this.params = params;
        this.grads = grads;
        this.state = state.clone();
        this.start = start;
        this.length = length;
        this.group = group;
        this.index = index;
    }

    /** A chunk over gradients alone, for reductions. */
    public static Chunk ofGradients(MemorySegment grads, long start, int length, int index) {
        return new Chunk(null, grads, new MemorySegment[0], start, length, 0, index);
    }

    public int index() {
        return index;
    }

    public long start() {
        return start;
    }

    public int length() {
        return length;
    }

    public int group() {
        return group;
    }

    public MemorySegment grads() {
        return grads;
    }
}
