package vecopt.zero;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Ranks as threads of one JVM: a group of communicators that exchange through shared memory (so buffers must be
 * readable from every rank's thread: heap or a shared arena, not a confined one). For tests of the
 * sharded step without a cluster, and for trying a data-parallel loop on one machine.
 *
 * <p>Each collective is two rendezvous of the group: every rank publishes its send buffer, all meet, each computes
 * its own result from the others' buffers, all meet again (so no buffer is reused while a peer still reads it). The
 * reduce-scatter adds the ranks' blocks in rank order, {@code ((g_0 + g_1) + g_2) + ...}, in float: deterministic,
 * and the order the exactness bound of the sharded step is derived for.
 *
 * <pre>{@code
 * List<InProcessCommunicator> group = InProcessCommunicator.group(4, Duration.ofSeconds(30));
 * // hand group.get(r) to the thread of rank r
 * }</pre>
 */
public final class InProcessCommunicator implements Communicator {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;

    /** What the ranks of one group share. */
    private static final class Shared {
        final int size;
        final Duration timeout;
        final CyclicBarrier barrier;
        final String[] ops; // the call each rank is in: ranks in different calls are a bug of the caller, named
        final MemorySegment[] segments;
        final double[][] doubles;
        final AtomicLongArray calls; // collective calls each rank has entered: who is missing when one times out
        volatile String broken; // why the group is unusable, or null

        Shared(int size, Duration timeout) {
            this.size = size;
            this.timeout = timeout;
            this.barrier = new CyclicBarrier(size);
            this.ops = new String[size];
            this.segments = new MemorySegment[size];
            this.doubles = new double[size][];
            this.calls = new AtomicLongArray(size);
        }
    }

    private final Shared shared;
    private final int rank;
    private boolean closed;

    private InProcessCommunicator(Shared shared, int rank) {
        this.shared = shared;
        this.rank = rank;
    }

    /**
     * A group of {@code size} communicators, rank r at index r; each call waits at most {@code timeout} for the
     * others.
     */
    public static List<InProcessCommunicator> group(int size, Duration timeout) {
        if (size < 1) {
            throw new IllegalArgumentException("size must be >= 1, got " + size);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        Shared s = new Shared(size, timeout);
        List<InProcessCommunicator> out = new ArrayList<>(size);
        for (int r = 0; r < size; r++) {
            out.add(new InProcessCommunicator(s, r));
        }
        return List.copyOf(out);
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return shared.size;
    }

    @Override
    public Duration timeout() {
        return shared.timeout;
    }

    @Override
    public void reduceScatter(MemorySegment send, MemorySegment recv, long count) {
        checkCount("reduceScatter", count);
        checkFloats("reduceScatter", "send", send, shared.size * count);
        checkFloats("reduceScatter", "recv", recv, count);
        enter("reduceScatter");
        shared.segments[rank] = send;
        meet("reduceScatter");
        sameCall("reduceScatter");
        long base = rank * count * Float.BYTES;
        MemorySegment.copy(shared.segments[0], base, recv, 0, count * Float.BYTES);
        for (int q = 1; q < shared.size; q++) { // rank order: ((g_0 + g_1) + g_2) + ...
            MemorySegment other = shared.segments[q];
            for (long i = 0; i < count; i++) {
                long at = i * Float.BYTES;
                recv.set(FLOAT, at, recv.get(FLOAT, at) + other.get(FLOAT, base + at));
            }
        }
        meet("reduceScatter");
    }

    @Override
    public void allGather(MemorySegment send, MemorySegment recv, long count) {
        checkCount("allGather", count);
        checkFloats("allGather", "send", send, count);
        checkFloats("allGather", "recv", recv, shared.size * count);
        enter("allGather");
        shared.segments[rank] = send;
        meet("allGather");
        sameCall("allGather");
        for (int q = 0; q < shared.size; q++) {
            MemorySegment.copy(shared.segments[q], 0, recv, q * count * Float.BYTES, count * Float.BYTES);
        }
        meet("allGather");
    }

    @Override
    public void allGather(double[] send, double[] recv) {
        if (send == null || recv == null) {
            throw new IllegalArgumentException("allGather(double[]): send and recv must not be null");
        }
        if (recv.length < (long) shared.size * send.length) {
            throw new IllegalArgumentException("allGather(double[]): recv must hold at least " + shared.size
                    + " x " + send.length + " values, got " + recv.length);
        }
        enter("allGather(double[])");
        shared.doubles[rank] = send; // read by the peers before the second meeting, and not written until then
        meet("allGather(double[])");
        sameCall("allGather(double[])");
        for (int q = 0; q < shared.size; q++) {
            double[] v = shared.doubles[q];
            if (v.length != send.length) {
                fail("allGather(double[]): rank " + q + " sent " + v.length + " values, rank " + rank + " sent "
                        + send.length + "; every rank must send the same number", null);
            }
            System.arraycopy(v, 0, recv, q * send.length, v.length);
        }
        meet("allGather(double[])");
    }

    @Override
    public void barrier() {
        enter("barrier");
        meet("barrier");
        sameCall("barrier");
        meet("barrier"); // else a rank let through could enter its next call before a peer checked this one's name
    }

    /** Leaves the group: peers waiting in a call, and every later call of any rank, fail naming this rank. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (shared.broken == null) {
                shared.broken = "rank " + rank + " closed its communicator";
            }
            shared.barrier.reset(); // wakes every waiting peer with BrokenBarrierException
        }
    }

    private void enter(String op) {
        if (closed) {
            throw new CommunicatorException(op + " on rank " + rank + ": this communicator is closed");
        }
        String why = shared.broken;
        if (why != null) {
            throw new CommunicatorException(op + " on rank " + rank + ": the group is broken (" + why + ")");
        }
        shared.calls.incrementAndGet(rank);
        shared.ops[rank] = op;
    }

    /** After the first meeting of a call: every rank must be in the same call, else none of them can go on. */
    private void sameCall(String op) {
        for (int q = 0; q < shared.size; q++) {
            if (!op.equals(shared.ops[q])) {
                fail(op + " on rank " + rank + ": rank " + q + " is in " + shared.ops[q]
                        + " instead; every rank must make the same collective calls in the same order", null);
            }
        }
    }

    private void meet(String op) {
        try {
            shared.barrier.await(shared.timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            long mine = shared.calls.get(rank);
            List<Integer> missing = new ArrayList<>();
            for (int q = 0; q < shared.size; q++) {
                if (shared.calls.get(q) < mine) {
                    missing.add(q);
                }
            }
            fail(op + " on rank " + rank + ": timed out after " + shared.timeout + " waiting for "
                    + (missing.isEmpty() ? "a peer" : "rank(s) " + missing) + " (dead or stuck?)", e);
        } catch (BrokenBarrierException e) {
            String why = shared.broken;
            throw new CommunicatorException(op + " on rank " + rank + ": the group broke while waiting ("
                    + (why == null ? "a peer timed out or was interrupted" : why) + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(op + " on rank " + rank + ": interrupted", e);
        }
    }

    private void fail(String message, Throwable cause) {
        if (shared.broken == null) {
            shared.broken = message;
        }
        shared.barrier.reset();
        throw new CommunicatorException(message, cause);
    }

    private static void checkCount(String op, long count) {
        if (count < 0) {
            throw new IllegalArgumentException(op + ": count must be >= 0, got " + count);
        }
    }

    static void checkFloats(String op, String name, MemorySegment s, long floats) {
        if (s == null) {
            throw new IllegalArgumentException(op + ": " + name + " must not be null");
        }
        if (s.byteSize() < floats * Float.BYTES) {
            throw new IllegalArgumentException(op + ": " + name + " must hold at least " + floats + " floats, got "
                    + s.byteSize() / Float.BYTES);
        }
    }
}
