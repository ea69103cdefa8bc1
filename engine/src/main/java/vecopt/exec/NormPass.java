package vecopt.exec;

import java.lang.foreign.MemorySegment;
import java.util.List;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.param.Tensor;

/**
 * The sum of squared gradients of a list of tensors, in one read pass: the one implementation of the global norm,
 * used by the optimizers' gradient guard and by {@code GlobalNorm}/{@code Clip}. Optionally the same pass also sums
 * the squared parameters, whose only use is to tell whether every parameter is finite (a float's square is at most
 * 2^256, so the double sum of finite floats is finite).
 *
 * <p>The tensors are cut into the fixed {@link ChunkGrid} and packed into work items; each item's sum is computed
 * in double into its own slot, by whichever thread claims it, adding its pieces in order, and the slots are added in
 * item order. The result therefore depends only on the tensors and the kernels, never on the number of threads, and
 * both users above get the same bits.
 */
public final class NormPass {
    private final Chunk[][] items;
    private final double[] gradSums;
    private final double[] paramSums; // null unless the pass also reads the parameters
    private final WorkerPool.Task task;

    /**
     * @param withParams also sum the squared parameters ({@link #paramSumOfSquares()})
     */
    public NormPass(List<Tensor> tensors, Kernels kernels, boolean withParams) {
        this.items = ChunkGrid.items(ChunkGrid.cut(tensors, ChunkGrid.CHUNK), (r, index, item) -> new Chunk(
                r.tensor().params().segment(), r.tensor().params().dtype(), r.tensor().grads().segment(),
                r.tensor().grads().dtype(), new MemorySegment[0], r.start(), r.length(), 0, item));
        this.gradSums = new double[items.length];
        this.paramSums = withParams ? new double[items.length] : null;
        this.task = i -> {
            double g = 0, p = 0;
            for (Chunk c : items[i]) {
                g += kernels.sumOfSquares(c.grads(), c.gradType(), c.length());
                if (paramSums != null) {
                    p += kernels.sumOfSquares(c.params(), c.paramType(), c.length());
                }
            }
            gradSums[i] = g;
            if (paramSums != null) {
                paramSums[i] = p;
            }
        };
    }

    /** The sum of squared gradients on {@code pool}, or on the calling thread when it is null. Allocates nothing. */
    public double sumOfSquares(WorkerPool pool) {
        if (pool != null) {
            pool.run(items.length, task);
        } else {
            for (int i = 0; i < items.length; i++) {
                task.run(i);
            }
        }
        return inOrder(gradSums);
    }

    /** The sum of squared parameters of the last pass: finite exactly when every parameter is; NaN if not read. */
    public double paramSumOfSquares() {
        return paramSums == null ? Double.NaN : inOrder(paramSums);
    }

    private static double inOrder(double[] sums) {
        double s = 0;
        for (double v : sums) {
            s += v;
        }
        return s;
    }
}
