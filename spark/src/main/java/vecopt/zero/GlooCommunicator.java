package vecopt.zero;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.TCPStore;
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
    private final CachedTensor rsIn = new CachedTensor(torch.ScalarType.Float);
    private final CachedTensor rsOut = new CachedTensor(torch.ScalarType.Float);
    private final CachedTensor agIn = new CachedTensor(torch.ScalarType.Float);
    private final CachedTensor agOut = new CachedTensor(torch.ScalarType.Float);
    private final CachedTensor dIn = new CachedTensor(torch.ScalarType.Double);
    private final CachedTensor dOut = new CachedTensor(torch.ScalarType.Double);
    private final Arena arena = Arena.ofShared(); // the staging of the double exchange
    private MemorySegment doubleStaging;
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
     * Joins the group of {@code size} ranks as {@code rank}, with the store at {@code storeHost:storePort} (rank 0
     * binds that port, which must be free there: prefer {@link GlooStore#bind} and {@link #connect(GlooStore, String,
     * int, Duration)} on rank 0, which cannot race for a port); returns once every rank has joined, or throws after
     * {@code timeout}.
     *
     * @param storeHost address of rank 0, which hosts the rendezvous store
     * @param storePort the store's port on rank 0
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
        checkJoin(localHost, rank, size, timeout);
        TCPStore store = null;
        try {
            store = GlooStore.open(storeHost, storePort, rank == 0, size, timeout);
            return join(store, localHost, rank, size, timeout);
        } catch (RuntimeException e) {
            if (store != null) {
                store.close();
            }
            throw new CommunicatorException("rank " + rank + " of " + size + " could not join the Gloo group (store "
                    + storeHost + ":" + storePort + ", local address " + localHost + ", timeout " + timeout + "): "
                    + e.getMessage(), e);
        }
    }

    /**
     * Joins the group as rank 0 over {@code store}, which this rank bound beforehand ({@link GlooStore#bind}) and
     * whose {@link GlooStore#port()} the other ranks were told; the communicator takes the store over and closes it.
     *
     * <pre>{@code
     * GlooStore store = GlooStore.bind("10.0.0.1", size, timeout);    // the OS picks a free port
     * // ... tell the peers "10.0.0.1:" + store.port(), e.g. through Spark's BarrierTaskContext.allGather ...
     * GlooCommunicator comm = GlooCommunicator.connect(store, "10.0.0.1", size, timeout);
     * }</pre>
     */
    public static GlooCommunicator connect(GlooStore store, String localHost, int size, Duration timeout) {
        if (store == null) {
            throw new IllegalArgumentException("store must not be null");
        }
        checkJoin(localHost, 0, size, timeout);
        if (store.size() != size) {
            throw new IllegalArgumentException("size must be the store's (" + store.size() + "), got " + size);
        }
        TCPStore s = store.take();
        try {
            return join(s, localHost, 0, size, timeout);
        } catch (RuntimeException e) {
            s.close();
            throw new CommunicatorException("rank 0 of " + size + " could not join the Gloo group (store "
                    + store.host() + ":" + store.port() + ", local address " + localHost + ", timeout " + timeout
                    + "): " + e.getMessage(), e);
        }
    }

    private static void checkJoin(String localHost, int rank, int size, Duration timeout) {
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
    }

    private static GlooCommunicator join(TCPStore store, String localHost, int rank, int size, Duration timeout) {
        ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create(new Milliseconds(timeout.toMillis()));
        options.devices().push_back(ProcessGroupGloo.createDeviceForHostname(localHost));
        ProcessGroupGloo group = new ProcessGroupGloo(store, rank, size, options);
        return new GlooCommunicator(rank, size, timeout, store, group);
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
        Tensor in = rsIn.over(send, size * count), out = rsOut.over(recv, count);
        long t0 = System.nanoTime();
        try (Work work = group._reduce_scatter_base(out, in)) {
            work._wait();
        } catch (RuntimeException e) {
            throw failed("reduceScatter", t0, e);
        }
    }

    @Override
    public void allGather(MemorySegment send, MemorySegment recv, long count) {
        checkCount("allGather", count);
        checkNative("allGather", "send", send, count);
        checkNative("allGather", "recv", recv, size * count);
        ready("allGather");
        Tensor in = agIn.over(send, count), out = agOut.over(recv, size * count);
        long t0 = System.nanoTime();
        try (Work work = group._allgather_base(out, in)) {
            work._wait();
        } catch (RuntimeException e) {
            throw failed("allGather", t0, e);
        }
    }

    @Override
    public void allGather(double[] send, double[] recv) {
        if (send == null || recv == null) {
            throw new IllegalArgumentException("allGather(double[]): send and recv must not be null");
        }
        if (recv.length < (long) size * send.length) {
            throw new IllegalArgumentException("allGather(double[]): recv must hold at least " + size + " x "
                    + send.length + " values, got " + recv.length);
        }
        ready("allGather(double[])");
        long outBytes = (long) size * send.length * Double.BYTES, inBytes = (long) send.length * Double.BYTES;
        if (doubleStaging == null || doubleStaging.byteSize() < outBytes + inBytes) {
            // grown rarely (the step's exchange has one fixed length) and kept: no allocation per call after that
            doubleStaging = arena.allocate(Math.max(64, 2 * (outBytes + inBytes)), 64);
        }
        MemorySegment out = doubleStaging.asSlice(0, outBytes);
        MemorySegment in = doubleStaging.asSlice(outBytes, inBytes);
        MemorySegment.copy(send, 0, in, ValueLayout.JAVA_DOUBLE, 0, send.length);
        Tensor tin = dIn.over(in, send.length), tout = dOut.over(out, (long) size * send.length);
        long t0 = System.nanoTime();
        try (Work work = group._allgather_base(tout, tin)) {
            work._wait();
        } catch (RuntimeException e) {
            throw failed("allGather(double[])", t0, e);
        }
        MemorySegment.copy(out, ValueLayout.JAVA_DOUBLE, 0, recv, 0, size * send.length);
    }

    @Override
    public void barrier() {
        ready("barrier");
        long t0 = System.nanoTime();
        try (Work work = group.barrier()) {
            work._wait();
        } catch (RuntimeException e) {
            throw failed("barrier", t0, e);
        }
    }

    /** Leaves the group: peers blocked in a call see the connection close and fail. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                group.close();
                store.close();
            } finally {
                for (CachedTensor t : new CachedTensor[] {rsIn, rsOut, agIn, agOut, dIn, dOut}) {
                    t.close();
                }
                arena.close();
            }
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

    private CommunicatorException failed(String op, long t0, RuntimeException e) {
        broken = op + " failed: " + e.getMessage();
        return new CommunicatorException(op + " on rank " + rank + " of " + size + " failed after "
                + (System.nanoTime() - t0) / 1_000_000 + " ms (timeout " + timeout + "; a peer died, is stuck, or"
                + " called another collective): " + e.getMessage(), e);
    }

    /**
     * The tensor one argument of one collective was last called with, kept while the caller passes the same memory
     * again (a training loop passes the same buffers every step), so a call wraps no new tensor.
     */
    private static final class CachedTensor {
        private final torch.ScalarType type;
        private long address = -1;
        private long count = -1;
        private Tensor tensor;

        CachedTensor(torch.ScalarType type) {
            this.type = type;
        }

        Tensor over(MemorySegment s, long n) {
            if (tensor == null || s.address() != address || n != count) {
                close();
                tensor = torch.from_blob(at(s), new long[] {n}, new TensorOptions(type));
                address = s.address();
                count = n;
            }
            return tensor;
        }

        void close() {
            if (tensor != null) {
                tensor.close();
                tensor = null;
            }
        }
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
