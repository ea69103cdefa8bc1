package vecopt.clip;

import vecopt.check.Require;
import vecopt.kernel.KernelProvider;
import vecopt.kernel.Kernels;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;
import vecopt.exec.ChunkGrid;

/**
 * Gradient clipping with PyTorch's semantics ({@code torch.nn.utils.clip_grad_norm_}, {@code clip_grad_value_}),
 * applied to the gradient buffers in place; one difference: {@link #byNorm} leaves non-finite gradients unscaled
 * (and says so through the norm it returns) where PyTorch would multiply them by a NaN coefficient. For clipping
 * fused into the update (no write pass over the gradients), use the optimizer builder's {@code clipGradNorm(maxNorm)} instead.
 *
 * <pre>{@code
 * double norm = Clip.byNorm(params, 1.0);   // total norm before clipping
 * }</pre>
 */
public final class Clip {
    /** PyTorch's guard against division by zero in the coefficient: {@code max_norm / (total_norm + 1e-6)}. */
    public static final double EPS = 1e-6;

    private Clip() {
    }

    /**
     * The factor gradients are multiplied by: {@code min(1, maxNorm / (totalNorm + 1e-6))}. NaN for a NaN norm and 0
     * for an infinite one, as in PyTorch. For a data-parallel job: add each rank's optimizer
     * {@code localGradSumOfSquares()}, check the total is finite, take the square root, and pass the coefficient
     * from here to each rank's {@code step(lr, coefficient)}.
     */
    public static double coefficient(double maxNorm, double totalNorm) {
        Require.positive("maxNorm", maxNorm);
        double c = maxNorm / (totalNorm + EPS);
        return Double.isNaN(c) ? Double.NaN : Math.min(1.0, c);
    }

    /**
     * Scales all gradients by {@link #coefficient} when the global L2 norm exceeds {@code maxNorm}; returns the norm
     * before clipping. Non-finite gradients are left as they are (the returned norm says so: NaN or infinite).
     */
    public static double byNorm(ParamSet params, double maxNorm) {
        Require.positive("maxNorm", maxNorm);
        Kernels k = KernelProvider.kernels();
        double norm = GlobalNorm.l2(params);
        double coef = coefficient(maxNorm, norm);
        if (Double.isFinite(norm) && coef < 1.0) {
            float f = (float) coef;
            for (ChunkGrid.Range r : ChunkGrid.cut(params.tensors(), ChunkGrid.CHUNK)) {
                Storage g = r.tensor().grads();
                if (g.dtype() == Dtype.FLOAT32) {
                    k.scale(g.segment(), r.start(), r.length(), f);
                } else { // 16-bit: multiplied in float and rounded back, as PyTorch's grad.mul_(coef) on bf16/fp16
                    for (long i = r.start(); i < r.start() + r.length(); i++) {
                        g.set(i, g.get(i) * f);
                    }
                }
            }
        }
        return norm;
    }

    /** Clamps every gradient to {@code [-clipValue, clipValue]} ({@code clip_grad_value_}). */
    public static void byValue(ParamSet params, double clipValue) {
        Require.nonNegative("clipValue", clipValue);
        Kernels k = KernelProvider.kernels();
        for (Tensor t : params.tensors()) {
            t.grads().checkUsable("grads of '" + t.name() + "'", Thread.currentThread());
        }
        final float limit = (float) clipValue;
        for (ChunkGrid.Range r : ChunkGrid.cut(params.tensors(), ChunkGrid.CHUNK)) {
            Storage g = r.tensor().grads();
            if (g.dtype() == Dtype.FLOAT32) {
                k.clamp(g.segment(), r.start(), r.length(), limit);
            } else { // 16-bit: only values outside the range are written (a NaN keeps its bits, as in PyTorch)
                for (long i = r.start(); i < r.start() + r.length(); i++) {
                    float x = g.get(i);
                    if (x > limit || x < -limit) {
                        g.set(i, Math.min(Math.max(x, -limit), limit));
                    }
                }
            }
        }
    }
}
