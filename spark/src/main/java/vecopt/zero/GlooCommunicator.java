package vecopt.zero;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;

/**
 * Collectives over Gloo, the CPU collective library of PyTorch's distributed training (ring reduce-scatter and
 * all-gather over TCP), through the bytedeco JavaCPP bindings of libtorch ({@code ProcessGroupGloo} with a
 * {@code TCPStore} for the rendezvous). Each rank, in its own process or thread, connects once:
 *
 * <pre>{@code
 * // rank 0 hosts the store at storeHost:storePort; every rank names the address its peers reach it at
 * try (GlooCommunicator comm = GlooCommunicator.connect("10.0.0.1", 29500, myAddress, rank, size,
 *         Duration.ofSeconds(60))) {
 *     // ZeroStep.create(model, comm, ...)
 * }
 * }</pre>
 *
 * <p><b>Failure.</b> Every call waits at most {@link #timeout()} (Gloo's own timeout); a peer whose process died is
 * seen at once by the TCP connection closing ("Connection closed by peer"); both throw {@link CommunicatorException}
 * naming the call and this rank, and every later call throws at once.
 *
 * <p>Buffers must be off-heap (Gloo reads and writes them from native code): {@link ZeroStep}'s are. The first
 * connect in a JVM loads libtorch (about 330 MB of native code, seconds).
 */
public final class GlooCommunicator implements Communicator {
    private final int rank;
    private final int size;
    private final Duration timeout;
    private final TCPStore store;
    private final ProcessGroupGloo group;
    private String broken;
    private boolean closed;

    private GlooCommunicator(int rank, int size, Duration timeout, TCPStore store, ProcessGroupGloo group) {
        this.rank = rank;
        this.size = size;
        this.timeout = timeout;
        this.store = store;
        this.group = group;
    }

    /**
     * Joins the group of {@code size} ranks as {@code rank}; returns once every rank has joined, or throws after
     * {@code timeout}.
     *
     * @param storeHost address of rank 0, which hosts the rendezvous store
     * @param storePort the store's port on rank 0 (free there)
     * @param localHost the address this rank's peers reach it at (Gloo's device binds to it)
     */
    public static GlooCommunicator connect(String storeHost, int storePort, String localHost, int rank, int size,
                                           Duration timeout) {
        if (storeHost == null || storeHost.isBlank()) {
            throw new IllegalArgumentException("storeHost must be a host name or address, got '" + storeHost + "'");
        }
        if (storePort < 1 || storePort > 65535) {
            throw new IllegalArgumentException("storePort must be in [1, 65535], got " + storePort);
        }
        if (localHost == null || localHost.isBlank()) {
            throw new IllegalArgumentException("localHost must be a host name or address, got '" + localHost + "'");
        }
        if (size < 1) {
            throw new IllegalArgumentException("size must be >= 1, got " + size);
        }
        if (rank < 0 || rank >= size) {
            throw new IllegalArgumentException("rank must be in [0, " + size + "), got " + rank);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        TCPStore store = null;
        try {
            TCPStoreOptions so = new TCPStoreOptions();
            so.port((short) storePort).isServer(rank == 0).numWorkers(new SizeTPointer(1).put(size))
                    .waitWorkers(false).timeout(new Milliseconds(timeout.toMillis()));
            store = new TCPStore(storeHost, so);
            ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create(new Milliseconds(timeout.toMillis()));
            options.devices().push_back(ProcessGroupGloo.createDeviceForHostname(localHost));
            ProcessGroupGloo group = new ProcessGroupGloo(store, rank, size, options);
            return new GlooCommunicator(rank, size, timeout, store, group);
        } catch (RuntimeException e) {
            if (store != null) {
                store.close();
            }
            throw new CommunicatorException("rank " + rank + " of " + size + " could not join the Gloo group (store "
                    + storeHost + ":" + storePort + ", local address " + localHost + ", timeout " + timeout + "): "
                    + e.getMessage(), e);
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Duration timeout() {
        return timeout;
    }

    @Override
    public void reduceScatter(MemorySegment send, MemorySegment recv, long count) {
        checkCount("reduceScatter", count);
        checkNative("reduceScatter", "send", send, size * count);
        checkNative("reduceScatter", "recv", recv, count);
        ready("reduceScatter");
        try (Tensor in = floats(send, size * count); Tensor out = floats(recv, count)) {
            run("reduceScatter", () -> group._reduce_scatter_base(out, in));
        }
    }

    @Override
    public void allGather(MemorySegment send, MemorySegment recv, long count) {
        checkCount("allGather", count);
        checkNative("allGather", "send", send, count);
        checkNative("allGather", "recv", recv, size * count);
        ready("allGather");
        try (Tensor in = floats(send, count); Tensor out = floats(recv, size * count)) {
            run("allGather", () -> group._allgather_base(out, in));
        }
    }

    @Override
    public double[] allGather(double[] values) {
        if (values == null) {
            throw new IllegalArgumentException("allGather: values must not be null");
        }
        ready("allGather(double[])");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment send = arena.allocate(ValueLayout.JAVA_DOUBLE, Math.max(1, values.length));
            MemorySegment recv = arena.allocate(ValueLayout.JAVA_DOUBLE, Math.max(1, (long) size * values.length));
            MemorySegment.copy(values, 0, send, ValueLayout.JAVA_DOUBLE, 0, values.length);
            try (Tensor in = doubles(send, values.length); Tensor out = doubles(recv, (long) size * values.length)) {
                run("allGather(double[])", () -> group._allgather_base(out, in));
            }
            return recv.asSlice(0, (long) size * values.length * Double.BYTES).toArray(ValueLayout.JAVA_DOUBLE);
        }
    }

    @Override
    public void barrier() {
        ready("barrier");
        run("barrier", group::barrier);
    }

    /** Leaves the group: peers blocked in a call see the connection close and fail. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            group.close();
            store.close();
        }
    }

    private void ready(String op) {
        if (closed) {
            throw new CommunicatorException(op + " on rank " + rank + ": this communicator is closed");
        }
        if (broken != null) {
            throw new CommunicatorException(op + " on rank " + rank + ": the group is broken (" + broken + ")");
        }
    }

    private void run(String op, java.util.function.Supplier<Work> call) {
        long t0 = System.nanoTime();
        try (Work work = call.get()) {
            work._wait();
        } catch (RuntimeException e) {
            broken = op + " failed: " + e.getMessage();
            throw new CommunicatorException(op + " on rank " + rank + " of " + size + " failed after "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms (timeout " + timeout + "; a peer died, is stuck, or"
                    + " called another collective): " + e.getMessage(), e);
        }
    }

    /** A tensor over {@code count} floats of {@code s}, no copy (Gloo works on the segment's memory). */
    private static Tensor floats(MemorySegment s, long count) {
        return torch.from_blob(at(s), new long[] {count}, new TensorOptions(torch.ScalarType.Float));
    }

    private static Tensor doubles(MemorySegment s, long count) {
        return torch.from_blob(at(s), new long[] {count}, new TensorOptions(torch.ScalarType.Double));
    }

    private static Pointer at(MemorySegment s) {
        long start = s.address(); // not named "address": inside the class body below that is Pointer's field
        return new Pointer() {
            {
                address = start;
            }
        };
    }

    private static void checkCount(String op, long count) {
        if (count < 0) {
            throw new IllegalArgumentException(op + ": count must be >= 0, got " + count);
        }
    }

    private static void checkNative(String op, String name, MemorySegment s, long floats) {
        InProcessCommunicator.checkFloats(op, name, s, floats);
        if (!s.isNative()) {
            throw new IllegalArgumentException(op + ": " + name + " must be off-heap (Gloo reads it from native code),"
                    + " got a heap segment");
        }
    }
}
