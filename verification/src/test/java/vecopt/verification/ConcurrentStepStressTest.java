package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;

/**
 * Several threads hammer one optimizer's {@code step} at once, as a careless trainer might. Every call either
 * completes or is refused with an {@link IllegalStateException} naming both threads, and the result is exactly that
 * of the completed steps run one after another: no lost update, no step counted twice, no torn state. (Before the
 * optimizer detected concurrent calls, this corrupted every parameter and the step counters.)
 */
class ConcurrentStepStressTest {
    @Test
    void concurrentCallsAreRefusedAndTheCompletedStepsAreExactlyASerialRun() throws Exception {
        int n = 3 * vecopt.exec.ChunkGrid.CHUNK + 77, callers = 4, attempts = 300;
        float[] p0 = Rig.values(new SplittableRandom(1), n, -2, 3), g = Rig.values(new SplittableRandom(2), n, -6, 4);
        AtomicInteger completed = new AtomicInteger(), refused = new AtomicInteger();
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        float[] concurrentParams;
        long steps;
        try (Rig rig = new Rig(0, n, true);
             AdamW opt = AdamW.builder(rig.set).options(AdamOptions.FINE_TUNING).clipGradNorm(1.0).threads(2).build()) {
            rig.setParams(p0);
            rig.setGrads(g);
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                Thread t = new Thread(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < attempts; i++) {
                            try {
                                opt.step(1e-3);
                                completed.incrementAndGet();
                            } catch (IllegalStateException e) {
                                if (!e.getMessage().contains("' called this optimizer while thread '")) {
                                    throw e;
                                }
                                refused.incrementAndGet();
                            }
                        }
                    } catch (Throwable e) {
                        unexpected.compareAndSet(null, e);
                    }
                }, "caller-" + c);
                threads.add(t);
                t.start();
            }
            start.countDown();
            for (Thread t : threads) {
                t.join();
            }
            concurrentParams = rig.params();
            steps = opt.steps();
            assertEquals(null, unexpected.get(), "only IllegalStateException may come out of a refused step");
            assertEquals(callers * attempts, completed.get() + refused.get());
            assertEquals(completed.get(), steps, "every completed step counted once");
            assertTrue(refused.get() > 0, "the callers did overlap (" + completed.get() + " completed)");
        }
        try (Rig rig = new Rig(0, n, true);
             AdamW serial = AdamW.builder(rig.set).options(AdamOptions.FINE_TUNING).clipGradNorm(1.0).threads(2)
                     .build()) {
            rig.setParams(p0);
            rig.setGrads(g);
            for (long i = 0; i < steps; i++) {
                serial.step(1e-3);
            }
            Check.bitwiseEqual("params after " + steps + " steps, concurrent callers vs serial", rig.params(),
                    concurrentParams);
        }
    }
}
