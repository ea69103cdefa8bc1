package vecopt.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import vecopt.exec.ChunkGrid;
import vecopt.kernel.AdamStep;
import vecopt.kernel.Chunk;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;

/**
 * A kernel that fails part-way through an update: the step throws {@link StepFailedException} with the kernel's
 * exception as its cause, and the optimizer refuses every later step (some chunks were updated, some not). Lives in
 * the optimizer's package because injecting a failing kernel is deliberately not public API.
 */
class KernelFailureTest {

    /** The engine's kernels, except that the update of one chunk throws. */
    static final class FailingOn extends DelegatingKernels {
        private final int chunk;
        private final RuntimeException failure;

        FailingOn(int chunk, RuntimeException failure) {
            this.chunk = chunk;
            this.failure = failure;
        }

        @Override
        public void adam(Chunk c, AdamStep step, double[] norms) {
            if (c.index() == chunk) {
                throw failure;
            }
            K.adam(c, step, norms);
        }
    }

    @Test
    void aKernelFailureSurfacesFromStepWithItsCauseAndTheOptimizerRefusesToGoOn() {
        RuntimeException boom = new IllegalStateException("planted failure in chunk 3");
        int n = 5 * ChunkGrid.CHUNK;
        float[] grads = new float[n];
        java.util.Arrays.fill(grads, 0.5f);
        ParamSet set = ParamSet.builder().add("w", Storage.of(new float[n]), Storage.of(grads), 0, n).build();
        try (AdamW opt = AdamW.builder(set).threads(2).kernels(new FailingOn(3, boom)).build()) {
            StepFailedException e = assertThrows(StepFailedException.class, () -> opt.step(1e-3));
            assertSame(boom, e.getCause());
            IllegalStateException again = assertThrows(IllegalStateException.class, () -> opt.step(1e-3));
            assertSame(e, again.getCause());
            assertThrows(IllegalStateException.class, opt::localGradSumOfSquares);
            assertArrayEquals(new long[] {0}, new long[] {opt.steps()}, "no step was counted");
        }
    }
}
