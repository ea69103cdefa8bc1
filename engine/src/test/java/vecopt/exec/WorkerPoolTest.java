package vecopt.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** Every task of every job runs exactly once, whatever the job sizes, and failures surface with their cause. */
class WorkerPoolTest {

    @Test
    void jobsOfChangingSizesRunEachTaskExactlyOnce() {
        // Job sizes jump up and down, so a worker still leaving a small job while a larger one opens would show as
        // a task run twice (or one run while the caller already returned).
        SplittableRandom r = new SplittableRandom(7);
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int job = 0; job < 20_000; job++) {
                int n = r.nextInt(1, 64);
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                pool.run(n, hits::incrementAndGet);
                for (int i = 0; i < n; i++) {
                    if (hits.get(i) != 1) {
                        throw new AssertionError("job " + job + " of " + n + " tasks: task " + i + " ran "
                                + hits.get(i) + " times");
                    }
                }
            }
        }
    }

    @Test
    void failuresSurfaceWithTheirCauseInlineAndOnWorkers() {
        ArithmeticException boom = new ArithmeticException("planted");
        for (int size : new int[] {1, 3}) {
            try (WorkerPool pool = new WorkerPool(size)) {
                WorkerPool.WorkerException e = assertThrows(WorkerPool.WorkerException.class,
                        () -> pool.run(100, i -> {
                            if (i == 50) {
                                throw boom;
                            }
                        }));
                assertSame(boom, e.getCause());
                int[] hits = new int[100];
                pool.run(100, i -> hits[i]++);
                for (int i = 0; i < 100; i++) {
                    assertEquals(1, hits[i], "after a failed job, task " + i + " ran " + hits[i] + " times");
                }
            }
        }
    }
}
