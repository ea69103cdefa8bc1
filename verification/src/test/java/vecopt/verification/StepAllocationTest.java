package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;

/**
 * The step hot path allocates nothing: measured with the JVM's per-thread allocation counter on the calling thread,
 * after the kernels are JIT-compiled (the Vector API boxes vectors until C2 compiles a loop, so early steps do
 * allocate). This counts bytes, it does not time anything.
 */
class StepAllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private static long allocatedBySteps(Optimizer<?> opt, int steps) {
        long tid = Thread.currentThread().threadId();
        long before = THREADS.getThreadAllocatedBytes(tid);
        for (int i = 0; i < steps; i++) {
            opt.step(1e-3);
        }
        return THREADS.getThreadAllocatedBytes(tid) - before;
    }

    /**
     * After warm-up, rounds of 500 steps until one allocates nothing. A step that allocated even one object would
     * show in every round; what the JVM itself allocates now and then on this thread (a recompilation, a safepoint
     * poll's bookkeeping: tens of bytes in some rounds, measured) cannot make every round non-zero. Until C2 has
     * compiled the kernels every vector is boxed, and on a loaded machine the compiler threads may take thousands of
     * steps to get there, so up to 200 rounds are allowed; a compiled step returns in microseconds, so this ends at
     * the first zero round.
     */
    private static void warmThenMeasure(Rig rig, Optimizer<?> opt) {
        rig.setParams(Rig.values(new SplittableRandom(1), rig.length, -2, 2));
        rig.setGrads(Rig.values(new SplittableRandom(2), rig.length, -6, 2));
        allocatedBySteps(opt, 3000); // warm-up: interpreter and C1 code box vectors
        long[] rounds = new long[200];
        for (int i = 0; i < rounds.length; i++) {
            rounds[i] = allocatedBySteps(opt, 500);
            if (rounds[i] == 0) {
                return;
            }
        }
        assertEquals(0, rounds[rounds.length - 1], "bytes allocated per round of 500 steps (last 10): "
                + java.util.Arrays.toString(java.util.Arrays.copyOfRange(rounds, rounds.length - 10, rounds.length)));
    }

    @Test
    void adamWWithClippingAndTrackingInline() {
        try (Rig rig = new Rig(3, 4099, true);
             AdamW opt = AdamW.builder(rig.set).options(AdamOptions.LLM_PRETRAINING).clipGradNorm(1.0)
                     .trackNorms(true).threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void adamWOnAPoolOfTwo() {
        try (Rig rig = new Rig(0, 2 * vecopt.exec.ChunkGrid.CHUNK + 5, false);
             AdamW opt = AdamW.builder(rig.set).options(AdamOptions.FINE_TUNING.withAmsgrad(true)).clipGradNorm(1.0)
                     .threads(2).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void sgdNesterov() {
        try (Rig rig = new Rig(1, 4099, true);
             Sgd opt = Sgd.builder(rig.set).options(SgdOptions.MOMENTUM.withNesterov(true)).threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }
}
