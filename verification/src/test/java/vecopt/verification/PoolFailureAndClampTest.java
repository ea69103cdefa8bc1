package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import vecopt.clip.Clip;
import vecopt.kernel.AdamStep;
import vecopt.kernel.Chunk;
import vecopt.kernel.KernelProvider;
import vecopt.kernel.Kernels;
import vecopt.kernel.SgdStep;
import vecopt.optim.AdamW;
import vecopt.parallel.ChunkGrid;
import vecopt.parallel.WorkerPool;
import vecopt.reference.ClipReference;

/** A worker's exception reaches the caller with its cause, and the pool stays usable; clip-by-value as PyTorch's. */
class PoolFailureAndClampTest {

    /** The engine's kernels, except that the update of one chunk throws. */
    record FailingOn(int chunk, RuntimeException failure) implements Kernels {
        private static final Kernels K = KernelProvider.kernels();

        @Override
        public void adam(Chunk c, AdamStep step, double[] norms) {
            if (c.index() == chunk) {
                throw failure;
            }
            K.adam(c, step, norms);
        }

        @Override
        public void sgd(Chunk c, SgdStep step, double[] norms) {
            K.sgd(c, step, norms);
        }

        @Override
        public double sumOfSquares(MemorySegment x, long start, int length) {
            return K.sumOfSquares(x, start, length);
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
            return "failing on chunk " + chunk;
        }

        @Override
        public int lanes() {
            return K.lanes();
        }
    }

    @Test
    void aWorkerFailureSurfacesFromStepWithItsCause() {
        RuntimeException boom = new IllegalStateException("planted failure in chunk 3");
        try (Rig rig = new Rig(0, 5 * ChunkGrid.CHUNK, true);
             AdamW opt = AdamW.builder(rig.set).threads(2).kernels(new FailingOn(3, boom)).build()) {
            WorkerPool.WorkerException e = assertThrows(WorkerPool.WorkerException.class, () -> opt.step(1e-3));
            assertSame(boom, e.getCause());
            // Some chunks were updated and some not: the optimizer refuses to step on top of that.
            IllegalStateException again = assertThrows(IllegalStateException.class, () -> opt.step(1e-3));
            assertSame(e, again.getCause());
        }
        // The pool itself survives a failed job: the next job runs every task exactly once.
        try (WorkerPool pool = new WorkerPool(3)) {
            int[] hits = new int[100];
            assertThrows(WorkerPool.WorkerException.class, () -> pool.run(100, i -> {
                if (i == 50) {
                    throw new ArithmeticException("planted");
                }
            }));
            pool.run(100, i -> hits[i]++);
            for (int i = 0; i < 100; i++) {
                assertEquals(1, hits[i], "task " + i + " ran " + hits[i] + " times after a failed job");
            }
        }
    }

    @Property(tries = 40)
    void clipByValueIsPyTorchsClamp(@ForAll @IntRange(min = 0, max = 3000) int n, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        try (Rig rig = new Rig(r.nextInt(0, 9), n, seed % 2 == 0)) {
            float[] g = Rig.values(r, n, -2, 4);
            if (n > 0) {
                g[r.nextInt(n)] = Float.NaN; // NaN stays NaN, as torch.clamp leaves it
            }
            rig.setGrads(g);
            double limit = r.nextDouble(0.01, 2.0);
            Clip.byValue(rig.set, limit);
            float[] expected = g.clone();
            ClipReference.clipByValue((float) limit, expected);
            Check.bitwiseEqual("clamped gradients", expected, rig.grads());
            Check.guards(rig);
        }
    }
}
