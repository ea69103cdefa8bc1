package vecopt.clip;

import vecopt.kernel.KernelProvider;
import vecopt.kernel.Kernels;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;
import vecopt.exec.ChunkGrid;
import vecopt.exec.NormPass;

/**
 * Norms over all gradients of a parameter set, in one read pass, as one vector (PyTorch's
 * {@code clip_grad_norm_} total norm, {@code norm_type=2} or {@code inf}).
 *
 * <p>Squares are summed in double, per chunk of the fixed grid, and the chunk sums are added in grid order: the
 * result does not depend on threads, and is accurate to about {@code n_chunk * 2^-53} relative (far below a float
 * ULP), with no overflow or underflow for any float input (a float's square lies in [2^-298, 2^256]).
 *
 * <p>An optimizer's norm pass ({@code StepReport.gradNorm()}, {@code localGradSumOfSquares()}) is this same pass over
 * the same grid: the two give the same bits for the same parameter set.
 *
 * <pre>{@code
 * double total = GlobalNorm.l2(params);
 * }</pre>
 */
public final class GlobalNorm {
    private GlobalNorm() {
    }

    /** The L2 norm of all gradients; NaN or infinite when one of them is. */
    public static double l2(ParamSet params) {
        return Math.sqrt(sumOfSquares(params));
    }

    /**
     * The sum of squares of all gradients of this set: what a rank that owns some shards contributes to a global
     * norm (add the ranks' sums, then take the square root). The same bits as an optimizer's
     * {@code localGradSumOfSquares()} over the same set.
     */
    public static double sumOfSquares(ParamSet params) {
        checkReadable(params);
        return new NormPass(params.tensors(), KernelProvider.kernels(), false).sumOfSquares(null);
    }

    /** The largest absolute gradient; NaN when one is NaN. */
    public static double linf(ParamSet params) {
        checkReadable(params);
        Kernels k = KernelProvider.kernels();
        float max = 0f;
        for (ChunkGrid.Range r : ChunkGrid.cut(params.tensors(), ChunkGrid.CHUNK)) {
            Storage g = r.tensor().grads();
            if (g.dtype() == Dtype.FLOAT32) {
                max = Math.max(max, k.maxAbs(g.segment(), r.start(), r.length()));
            } else { // 16-bit gradients: widened one by one (this utility is not on the step's path)
                for (long i = r.start(); i < r.start() + r.length(); i++) {
                    max = Math.max(max, Math.abs(g.get(i)));
                }
            }
        }
        return max;
    }

    private static void checkReadable(ParamSet params) {
        for (Tensor t : params.tensors()) {
            if (!t.grads().segment().scope().isAlive()) {
                throw new IllegalStateException("grads of '" + t.name() + "': the arena of this buffer is closed");
            }
        }
    }
}
