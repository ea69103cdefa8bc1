package vecopt.zero;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Two ranks over Gloo, as threads of this JVM (each with its own Gloo context and TCP connections). */
class GlooCommunicatorTest {
    static final String HOST = "127.0.0.1";

    /**
     * Rank r of {@code size} over {@code store}: rank 0 takes the bound store over, the others connect to its port
     * (no port is picked free and bound later).
     */
    static GlooCommunicator connect(GlooStore store, int r, int size, Duration timeout) {
        return r == 0 ? GlooCommunicator.connect(store, HOST, size, timeout)
                : GlooCommunicator.connect(HOST, store.port(), HOST, r, size, timeout);
    }

    /**
     * With two ranks every sum is one float addition, which commutes, so Gloo's ring order cannot matter: the run
     * over Gloo must be the in-process run bit for bit (parameters and norms, clipping on).
     */
    @Test
    void shardedStepsOverGlooAreTheInProcessRunBitForBit() throws Exception {
        GlooStore store = GlooStore.bind(HOST, 2, Duration.ofSeconds(60));
        var gloo = Ranks.zero(2, r -> connect(store, r, 2, Duration.ofSeconds(60)), 4, ZeroStepTest::rough,
                Ranks.adamw(1.0, 1));
        var local = Ranks.zero(2, 4, ZeroStepTest::rough, Ranks.adamw(1.0, 1));
        gloo.assertRanksAgree();
        assertArrayEquals(local.params()[0], gloo.params()[0]);
        for (int s = 0; s < 4; s++) {
            ZeroReport g = gloo.reports().get(0).get(s), l = local.reports().get(0).get(s);
            assertEquals(l.gradNorm(), g.gradNorm(), "norm at step " + s);
            assertTrue(g.clipCoef() < 1, "clipping must be active: " + g);
            System.out.printf("gloo step %d: reduce-scatter %.2f ms, norm %.2f ms, update %.2f ms, all-gather %.2f ms%n",
                    s, g.reduceScatterNanos() / 1e6, g.normNanos() / 1e6, g.updateNanos() / 1e6,
                    g.allGatherNanos() / 1e6);
        }
    }

    /** A peer that dies (closes its connections) or is stuck (never calls) fails the call instead of hanging it. */
    @Test
    void aDeadOrStuckPeerFailsTheCallWithAClearError() throws Exception {
        Duration timeout = Duration.ofSeconds(3);
        for (boolean dies : new boolean[] {true, false}) {
            GlooStore store = GlooStore.bind(HOST, 2, timeout);
            List<Throwable> errors = InProcessCommunicatorTest.onRanks(List.of(0, 1).stream().map(r -> (Communicator)
                    new Lazy(() -> connect(store, r, 2, timeout), r)).toList(), c -> {
                Communicator comm = ((Lazy) c).get();
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment send = a.allocate(4L * 64), recv = a.allocate(4L * 32);
                    comm.reduceScatter(send, recv, 32); // a healthy step first
                    if (comm.rank() == 1) {
                        if (dies) {
                            comm.close();
                        } else {
                            sleep(timeout.toMillis() * 3); // stuck: alive but silent past the timeout, the case under test
                        }
                        return;
                    }
                    long t0 = System.nanoTime();
                    CommunicatorException e = assertThrows(CommunicatorException.class,
                            () -> comm.reduceScatter(send, recv, 32));
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    System.out.println((dies ? "dead" : "stuck") + " peer: failed after " + ms + " ms: "
                            + e.getMessage());
                    assertTrue(e.getMessage().startsWith("reduceScatter on rank 0 of 2 failed after "), e.getMessage());
                    assertTrue(ms < timeout.toMillis() + 5_000, "failed only after " + ms + " ms");
                    CommunicatorException again = assertThrows(CommunicatorException.class, comm::barrier);
                    assertTrue(again.getMessage().startsWith("barrier on rank 0: the group is broken ("),
                            again.getMessage());
                } finally {
                    comm.close();
                }
            });
            assertNull(errors.get(0), String.valueOf(errors.get(0)));
            assertNull(errors.get(1), String.valueOf(errors.get(1)));
        }
    }

    @Test
    void badArgumentsAreNamedBeforeConnecting() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GlooCommunicator.connect(HOST, 0, HOST, 0, 2, Duration.ofSeconds(1)));
        assertEquals("storePort must be in [1, 65535], got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> GlooCommunicator.connect(HOST, 29500, HOST, 2, 2, Duration.ofSeconds(1)));
        assertEquals("rank must be in [0, 2), got 2", e.getMessage());
    }

    /** The store binds a port the system picks, reports it, and is handed over once. */
    @Test
    void theStoreBindsAPortOfItsOwnAndIsHandedOverOnce() {
        try (GlooStore a = GlooStore.bind(HOST, 2, Duration.ofSeconds(5));
             GlooStore b = GlooStore.bind(HOST, 2, Duration.ofSeconds(5))) {
            assertTrue(a.port() > 0 && b.port() > 0, a.port() + ", " + b.port());
            assertTrue(a.port() != b.port(), "two stores on one port " + a.port());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> GlooCommunicator.connect(a, HOST, 3, Duration.ofSeconds(5)));
            assertEquals("size must be the store's (2), got 3", e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GlooStore.bind(HOST, 0, Duration.ofSeconds(5)));
        assertEquals("size must be >= 1, got 0", e.getMessage());
    }

    /**
     * Gloo through the JavaCPP bindings: the tensors over the step's buffers are made once and kept, so what a call
     * allocates is the {@code Work} handle the native call returns (a Java object per call, the bindings' doing),
     * independent of the buffer size. Measured: 488 bytes per step (3 calls); with a tensor wrapped per call, as
     * before the cache, 2,656. The bound sits between the two: the handles, not the tensors. (Here, not in the
     * allocation test's own JVM: a bound of bytes per call is not disturbed by the JIT history of other tests.)
     */
    @Test
    void glooAllocatesOnlyItsWorkHandles() throws Exception {
        try (GlooStore store = GlooStore.bind(HOST, 1, Duration.ofSeconds(30));
             GlooCommunicator comm = GlooCommunicator.connect(store, HOST, 1,
                     Duration.ofSeconds(30))) {
            Ranks.Model m = new Ranks.Model();
            m.setGrads(ZeroStepTest::rough, 0, 0);
            try (ZeroStep zero = ZeroStep.create(m.set, comm, Ranks.adamw(1.0, 1))) {
                ZeroStepAllocationTest.steps(zero, 2000);
                long tid = Thread.currentThread().threadId();
                long before = ZeroStepAllocationTest.THREADS.getThreadAllocatedBytes(tid);
                ZeroStepAllocationTest.steps(zero, 200);
                long perStep = (ZeroStepAllocationTest.THREADS.getThreadAllocatedBytes(tid) - before) / 200;
                System.out.printf("ZeroStep over Gloo (1 rank): %d bytes allocated per step (3 collective calls)%n",
                        perStep);
                assertTrue(perStep <= 1024, perStep + " bytes per step: more than the Work handles of 3 calls");
            }
        }
    }

    /** Connects on the rank's own thread (Gloo's constructor blocks until every rank has joined). */
    private static final class Lazy implements Communicator {
        private final java.util.function.Supplier<Communicator> make;
        private final int rank;
        private Communicator made;

        Lazy(java.util.function.Supplier<Communicator> make, int rank) {
            this.make = make;
            this.rank = rank;
        }

        Communicator get() {
            if (made == null) {
                made = make.get();
            }
            return made;
        }

        public int rank() { return rank; }
        public int size() { return 2; }
        public Duration timeout() { return get().timeout(); }
        public void reduceScatter(MemorySegment s, MemorySegment r, long c) { get().reduceScatter(s, r, c); }
        public void allGather(MemorySegment s, MemorySegment r, long c) { get().allGather(s, r, c); }
        public void allGather(double[] s, double[] r) { get().allGather(s, r); }
        public void barrier() { get().barrier(); }
        public void close() { get().close(); }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms); // the caller says why it waits: a stuck peer outliving the timeout
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }
}
