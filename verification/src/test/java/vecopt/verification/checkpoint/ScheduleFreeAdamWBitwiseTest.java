package vecopt.verification.checkpoint;

import org.junit.jupiter.api.Test;
import vecopt.optim.ScheduleFreeAdamW;

/**
 * Schedule-free AdamW gives the same bits for any thread count, heap or off-heap buffers, and the SIMD or the scalar
 * kernels: steps (clipping, a skipped step, warmup, two groups), the eval() and train() switches between them.
 * Over {@link Model}'s tensors: one longer than a chunk, small ones packed together, tails of every kind.
 */
class ScheduleFreeAdamWBitwiseTest {
    private static Model.Image run(boolean offHeap, int threads, boolean vectorized) {
        try (Model m = new Model(offHeap, 7, 2);
             ScheduleFreeAdamW opt = ScheduleFreeAdamW.builder(m.set).options(ScheduleFreeAdamWCheckpointTest.OPTIONS)
                     .group("no_decay", ScheduleFreeAdamWCheckpointTest.OPTIONS.withWeightDecay(0).withLrScale(0.5),
                             Setup::noDecay)
                     .clipGradNorm(1.0).threads(threads).vectorized(vectorized).build()) {
            ScheduleFreeAdamWCheckpointTest.run(opt, m, 0, 5);
            ScheduleFreeAdamWCheckpointTest.run(opt, m, 5, 9);
            return Model.image(opt);
        }
    }

    @Test
    void threadsHeapOffHeapAndScalarKernelsGiveTheSameBits() {
        Model.Image base = run(false, 1, true);
        base.assertSameAs(run(true, 1, true), "off-heap");
        base.assertSameAs(run(false, 2, true), "2 threads");
        base.assertSameAs(run(true, 3, true), "off-heap, 3 threads");
        base.assertSameAs(run(false, 2, false), "scalar kernels, 2 threads");
    }
}
