package vecopt.zero;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class InProcessCommunicatorTest {

    /** Runs {@code body} on one thread per rank; returns each rank's outcome (null or what it threw). */
    static List<Throwable> onRanks(List<? extends Communicator> group, Consumer<Communicator> body) throws Exception {
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (Communicator c : group) {
            fs.add(CompletableFuture.runAsync(() -> body.accept(c), r -> Thread.ofPlatform().start(r)));
        }
        List<Throwable> out = new ArrayList<>();
        for (CompletableFuture<Void> f : fs) {
            try {
                f.get();
                out.add(null);
            } catch (ExecutionException e) {
                out.add(e.getCause());
            }
        }
        return out;
    }

    @Test
    void collectivesComputeWhatTheySay() throws Exception {
        int n = 3, count = 5;
        var group = InProcessCommunicator.group(n, Duration.ofSeconds(30));
        float[][] reduced = new float[n][];
        float[][] gathered = new float[n][];
        double[][] sums = new double[n][];
        List<Throwable> errors = onRanks(group, c -> {
            try (Arena a = Arena.ofShared()) { // shared: the peers read these buffers
                MemorySegment send = a.allocate(ValueLayout.JAVA_FLOAT, n * count);
                for (int i = 0; i < n * count; i++) {
                    send.setAtIndex(ValueLayout.JAVA_FLOAT, i, 100 * c.rank() + i);
                }
                MemorySegment recv = a.allocate(ValueLayout.JAVA_FLOAT, count);
                c.reduceScatter(send, recv, count);
                reduced[c.rank()] = recv.toArray(ValueLayout.JAVA_FLOAT);
                MemorySegment all = a.allocate(ValueLayout.JAVA_FLOAT, n * count);
                c.allGather(recv, all, count);
                gathered[c.rank()] = all.toArray(ValueLayout.JAVA_FLOAT);
                sums[c.rank()] = c.allReduceSum(new double[] {c.rank() + 0.5, 1});
                c.barrier();
            }
        });
        assertEquals(List.of(), errors.stream().filter(e -> e != null).toList());
        float[] all = new float[n * count];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < count; i++) {
                float expect = 0 + r * count + i + 100 + r * count + i + 200 + r * count + i; // ranks 0, 1, 2
                assertEquals(expect, reduced[r][i], "rank " + r + " element " + i);
                all[r * count + i] = expect;
            }
        }
        for (int r = 0; r < n; r++) {
            assertArrayEquals(all, gathered[r]);
            assertArrayEquals(new double[] {0.5 + 1.5 + 2.5, 3}, sums[r]);
        }
    }

    @Test
    void aPeerThatNeverComesTimesOutNamingIt() throws Exception {
        var group = InProcessCommunicator.group(3, Duration.ofMillis(300));
        long t0 = System.nanoTime();
        List<Throwable> errors = onRanks(group.subList(0, 2), Communicator::barrier); // rank 2 never calls
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 10_000, "took " + ms + " ms");
        for (Throwable e : errors) {
            assertTrue(e instanceof CommunicatorException, String.valueOf(e));
        }
        String all = errors.get(0).getMessage() + " | " + errors.get(1).getMessage();
        assertTrue(all.contains("timed out after PT0.3S waiting for rank(s) [2]"), all);
        // The group is broken for good: the next call fails at once, saying why.
        CommunicatorException again = assertThrows(CommunicatorException.class, () -> group.get(2).barrier());
        assertTrue(again.getMessage().startsWith("barrier on rank 2: the group is broken ("), again.getMessage());
    }

    @Test
    void aPeerThatLeavesFailsTheWaitingRanksAtOnce() throws Exception {
        var group = InProcessCommunicator.group(2, Duration.ofSeconds(60));
        long t0 = System.nanoTime();
        List<Throwable> errors = onRanks(group, c -> {
            if (c.rank() == 1) {
                sleep(200); // rank 0 must already be waiting inside allGather when its peer leaves
                c.close(); // dies instead of joining
            } else {
                c.allGather(new double[] {1});
            }
        });
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 30_000, "waited " + ms + " ms for a peer that had left: the timeout, not the close, ended it");
        assertEquals("allGather(double[]) on rank 0: the group broke while waiting (rank 1 closed its communicator)",
                errors.get(0).getMessage());
    }

    @Test
    void ranksInDifferentCallsAreNamed() throws Exception {
        var group = InProcessCommunicator.group(2, Duration.ofSeconds(30));
        List<Throwable> errors = onRanks(group, c -> {
            if (c.rank() == 0) {
                c.barrier();
            } else {
                c.allGather(new double[] {1});
            }
        });
        String all = errors.get(0).getMessage() + " | " + errors.get(1).getMessage();
        assertTrue(all.contains("every rank must make the same collective calls in the same order"), all);
    }

    @Test
    void badArgumentsAreNamedBeforeAnythingIsSent() {
        var c = InProcessCommunicator.group(2, Duration.ofSeconds(1)).get(0);
        MemorySegment small = MemorySegment.ofArray(new float[3]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> c.reduceScatter(small, small, 2));
        assertEquals("reduceScatter: send must hold at least 4 floats, got 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> InProcessCommunicator.group(0, Duration.ofSeconds(1)));
        assertEquals("size must be >= 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> InProcessCommunicator.group(2, Duration.ZERO));
        assertEquals("timeout must be positive, got PT0S", e.getMessage());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms); // the caller says why it waits: a peer must be inside its call first
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }
}
