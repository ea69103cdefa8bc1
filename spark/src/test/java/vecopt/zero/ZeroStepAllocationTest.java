package vecopt.zero;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The sharded step's hot path allocates nothing, measured as the engine's StepAllocationTest measures the optimizer's:
 * the JVM's per-thread allocation counter on the stepping thread, after enough steps for the JIT to compile the
 * kernels (the Vector API boxes vectors until C2 compiles a loop, so early steps do allocate). This counts bytes, it
 * does not time anything.
 *
 * <p>The transport is left out by an {@link Echo} communicator that moves the bytes and allocates nothing itself, so
 * what is counted is ZeroStep's own work: packing, the norm exchange's arrays, the division, the update, the report,
 * unpacking. (What Gloo allocates per call is its own cost: GlooCommunicatorTest.)
 */
class ZeroStepAllocationTest {
    static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /**
     * Rank {@code rank} of {@code size} with no peers: the reduce-scatter hands back this rank's own block, the
     * all-gather repeats the block everywhere. Wrong as arithmetic, right as traffic: the same calls with the same
     * lengths as a real group, and nothing allocated.
     */
    static final class Echo implements Communicator {
        private final int rank;
        private final int size;

        Echo(int rank, int size) {
            this.rank = rank;
            this.size = size;
        }

        @Override public int rank() { return rank; }
        @Override public int size() { return size; }
        @Override public Duration timeout() { return Duration.ofSeconds(1); }

        @Override
        public void reduceScatter(MemorySegment send, MemorySegment recv, long count) {
            MemorySegment.copy(send, rank * count * Float.BYTES, recv, 0, count * Float.BYTES);
        }

        @Override
        public void allGather(MemorySegment send, MemorySegment recv, long count) {
            for (int q = 0; q < size; q++) {
                MemorySegment.copy(send, 0, recv, q * count * Float.BYTES, count * Float.BYTES);
            }
        }

        @Override
        public void allGather(double[] send, double[] recv) {
            for (int q = 0; q < size; q++) {
                System.arraycopy(send, 0, recv, q * send.length, send.length);
            }
        }

        @Override public void barrier() { }
        @Override public void close() { }
    }

    @Test
    void aShardedStepAllocatesNothing() {
        for (int size : new int[] {1, 3}) {
            for (double clip : new double[] {0, 1.0}) {
                Ranks.Model m = new Ranks.Model();
                m.setGrads(ZeroStepTest::rough, 0, 0);
                try (ZeroStep zero = ZeroStep.create(m.set, new Echo(size - 1, size), Ranks.adamw(clip, 1))) {
                    steps(zero, 2000); // warm-up: the JIT compiles the kernels and the copies
                    warmThenMeasure(zero, size + " ranks, clip " + clip);
                    assertTrue(zero.optimizer().steps() > 0);
                }
            }
        }
    }

    /**
     * Rounds of 200 steps until one allocates nothing, as the engine's StepAllocationTest measures: a step that
     * allocated even one object would show in every round, while what the JVM itself allocates now and then on this
     * thread cannot make every round non-zero; until C2 has compiled the kernels vectors are boxed, and on a loaded
     * machine the compiler threads take long to get there (in a suite run beside other builds, load about 13 on 2
     * cores, a single round of 200 steps after the warm-up allocated 6,528 bytes). Bounded by time, 120 s, not by
     * count: on a quiet machine this ends at the first round.
     */
    private static void warmThenMeasure(ZeroStep zero, String what) {
        long tid = Thread.currentThread().threadId();
        long deadline = System.nanoTime() + 120_000_000_000L;
        long[] last = new long[10];
        int rounds = 0;
        do {
            long before = THREADS.getThreadAllocatedBytes(tid);
            steps(zero, 200);
            long bytes = THREADS.getThreadAllocatedBytes(tid) - before;
            if (bytes == 0) {
                return;
            }
            last[rounds++ % last.length] = bytes;
        } while (System.nanoTime() < deadline);
        assertEquals(0, last[(rounds - 1) % last.length], what + ": bytes allocated per round of 200 steps, after "
                + rounds + " rounds (last 10, cyclic): " + java.util.Arrays.toString(last));
    }

    static void steps(ZeroStep zero, int n) {
        for (int i = 0; i < n; i++) {
            zero.step(1e-6); // a tiny lr: thousands of steps stay far from overflow whatever the echo computes
        }
    }
}
