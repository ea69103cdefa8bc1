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
     * @param index  the work item this chunk belongs to: where the kernels add its partial sums
     *               (the {@link Kernels#NORM_SLOTS} slots from {@code NORM_SLOTS * index}); the chunks of one item
     *               are run in order by one thread
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

    public MemorySegment params() {
        return params;
    }
}
