package vecopt.kernel;

import java.lang.foreign.MemorySegment;

/**
 * One unit of kernel work: the element range {@code [start, start + length)} of a parameter buffer, its gradient
 * buffer and up to three state buffers, all with the same layout. Built once when an optimizer is built, so the step
 * itself allocates nothing.
 */
public final class Chunk {
    final MemorySegment params;
    final MemorySegment grads;
    final MemorySegment state1; // exp_avg (Adam) or momentum buffer (SGD); null when unused
    final MemorySegment state2; // exp_avg_sq (Adam); null when unused
    final MemorySegment state3; // max_exp_avg_sq (AMSGrad); null when unused
    final long start;
    final int length;
    final int group;
    final int index;

    /**
     * @param index this chunk's position in its optimizer's grid: where the kernels store its partial sums
     *              (the {@link Kernels#NORM_SLOTS} slots from {@code NORM_SLOTS * index} of the sums array)
     */
    public Chunk(MemorySegment params, MemorySegment grads, MemorySegment state1, MemorySegment state2,
                 MemorySegment state3, long start, int length, int group, int index) {
        this.params = params;
        this.grads = grads;
        this.state1 = state1;
        this.state2 = state2;
        this.state3 = state3;
        this.start = start;
        this.length = length;
        this.group = group;
        this.index = index;
    }

    /** Position in the optimizer's chunk grid. */
    public int index() {
        return index;
    }

    public long start() {
        return start;
    }

    public int length() {
        return length;
    }

    /** Index of the parameter group this chunk belongs to. */
    public int group() {
        return group;
    }

    public MemorySegment params() {
        return params;
    }

    public MemorySegment grads() {
        return grads;
    }
}
