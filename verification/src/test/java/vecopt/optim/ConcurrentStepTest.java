package vecopt.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import vecopt.kernel.AdamStep;
import vecopt.kernel.Chunk;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;

/**
 * An optimizer is stepped by one thread at a time: a second thread that calls {@code step} (or
 * {@code localGradSumOfSquares}, or {@code close}) while the first is inside a step is refused with an
 * {@link IllegalStateException} and changes nothing. The first step is held inside its update by a kernel that
 * waits on a latch, so the overlap is certain, not a race the test hopes to win.
 */
class ConcurrentStepTest {

    /** The engine's kernels, except that the update waits until the test lets it go. */
    static final class Held extends DelegatingKernels {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile Thread inside;

        @Override
        public void adam(Chunk c, AdamStep step, double[] norms) {
            inside = Thread.currentThread();
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            K.adam(c, step, norms);
        }
    }

    @Test
    void aSecondThreadIsRefusedWhileAStepRuns() throws Exception {
        int n = 1000;
        float[] p = new float[n], g = new float[n];
        java.util.Arrays.fill(g, 0.25f);
        ParamSet set = ParamSet.builder().add("w", Storage.of(p), Storage.of(g), 0, n).build();
        Held held = new Held();
        ExecutorService other = Executors.newSingleThreadExecutor();
        try (AdamW opt = AdamW.builder(set).threads(1).kernels(held).build()) {
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                Future<StepReport> first = other.submit(() -> opt.step(1e-3));
                held.entered.await();
                float before = p[0];
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> opt.step(1e-3));
                assertTrue(e.getMessage().contains("one thread at a time")
                        && e.getMessage().contains("'" + Thread.currentThread().getName() + "'")
                        && e.getMessage().contains("'" + held.inside.getName() + "'"), e.getMessage());
                assertThrows(IllegalStateException.class, opt::localGradSumOfSquares);
                assertThrows(IllegalStateException.class, opt::close);
                assertEquals(before, p[0], "the refused call wrote nothing");
                held.release.countDown();
                assertEquals(1, first.get().step());
            });
            assertEquals(1, opt.steps(), "exactly the first step was applied");
            assertEquals(2, opt.step(1e-3).step(), "after the first step returns, the optimizer is free again");
        } finally {
            held.release.countDown();
            other.shutdownNow();
        }
    }
}
