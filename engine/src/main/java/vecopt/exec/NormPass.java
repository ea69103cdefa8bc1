package vecopt.exec;

import java.util.List;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.param.Tensor;

/**
 * The sum of squared gradients of a list of tensors, in one read pass: the one implementation of the global norm,
 * used by the optimizers' gradient check and by {@code GlobalNorm}/{@code Clip}.
 *
 * <p>The gradients are cut into the fixed {@link ChunkGrid}; each chunk's sum is computed in double into its own
 * slot, by whichever thread claims it, and the slots are added in grid order. The result therefore depends only on
 * the tensors and the kernels, never on the number of threads, and both users above get the same bits.
 */
public final class NormPass {
    private final Chunk[] chunks;
    private final double[] sums;
    private final WorkerPool.Task task;
    private final Kernels kernels;

    public NormPass(List<Tensor> tensors, Kernels kernels) {
        List<ChunkGrid.Range> ranges = ChunkGrid.cut(tensors, ChunkGrid.CHUNK);
        this.chunks = new Chunk[ranges.size()];
        for (int i = 0; i < chunks.length; i++) {
            ChunkGrid.Range r = ranges.get(i);
            chunks[i] = Chunk.ofGradients(r.tensor().grads().segment(), r.start(), r.length(), i);
        }
        this.sums = new double[chunks.length];
        this.kernels = kernels;
        this.task = i -> sums[i] = kernels.sumOfSquares(chunks[i].grads(), chunks[i].start(), chunks[i].length());
    }

    /** The sum of squares on {@code pool}, or on the calling thread when {@code pool} is null. Allocates nothing. */
    public double sumOfSquares(WorkerPool pool) {
        if (pool != null) {
            pool.run(chunks.length, task);
        } else {
            for (int i = 0; i < chunks.length; i++) {
                task.run(i);
            }
        }
        double s = 0;
        for (double v : sums) {
            s += v;
        }
        return s;
    }

    /** The kernels this pass runs. */
    public Kernels kernels() {
        return kernels;
    }
}
