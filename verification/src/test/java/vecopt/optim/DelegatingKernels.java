package vecopt.optim;

import java.lang.foreign.MemorySegment;
import vecopt.kernel.AdamStep;
import vecopt.kernel.Chunk;
import vecopt.kernel.KernelProvider;
import vecopt.kernel.Kernels;
import vecopt.kernel.SgdStep;

/** The engine's kernels, to be overridden where a test plants a fault or a wait. */
class DelegatingKernels implements Kernels {
    static final Kernels K = KernelProvider.kernels();

    @Override
    public void adam(Chunk c, AdamStep step, double[] norms) {
        K.adam(c, step, norms);
    }

    @Override
    public void sgd(Chunk c, SgdStep step, double[] norms) {
        K.sgd(c, step, norms);
    }

    @Override
    public void update(Chunk c, vecopt.kernel.UpdateStep step) {
        K.update(c, step);
    }

    @Override
    public void trustNorms(Chunk c, vecopt.kernel.TrustRatioStep step, double[] sums, int slot) {
        K.trustNorms(c, step, sums, slot);
    }

    @Override
    public void trustApply(Chunk c, vecopt.kernel.TrustRatioStep step, float factor) {
        K.trustApply(c, step, factor);
    }

    @Override
    public void adafactor(Chunk c, vecopt.kernel.AdafactorStep step, vecopt.kernel.AdafactorChunk work, int pass) {
        K.adafactor(c, step, work, pass);
    }

    @Override
    public double sumOfSquares(MemorySegment x, long start, int length) {
        return K.sumOfSquares(x, start, length);
    }

    @Override
    public double sumOfSquares(MemorySegment x, vecopt.memory.Dtype type, int length) {
        return K.sumOfSquares(x, type, length);
    }

    @Override
    public float maxAbs(MemorySegment x, long start, int length) {
        return K.maxAbs(x, start, length);
    }

    @Override
    public void scale(MemorySegment x, long start, int length, float factor) {
        K.scale(x, start, length, factor);
    }

    @Override
    public void clamp(MemorySegment x, long start, int length, float limit) {
        K.clamp(x, start, length, limit);
    }

    @Override
    public String describe() {
        return "delegating to " + K.describe();
    }

    @Override
    public int lanes() {
        return K.lanes();
    }
}
