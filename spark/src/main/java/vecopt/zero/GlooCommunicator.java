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
import org.bytedeco.pytorch.TensorVector;
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
    private final Blocks rsSend = new Blocks(); // the reduce-scatter's input, one tensor per rank's block
    private final Blocks rsAcc = new Blocks(); // the partial sum this rank forwards
    private final Blocks rsIncoming = new Blocks(); // the partial sum received from the left neighbour
    private final Blocks agRecv = new Blocks(); // the all-gather's output, one tensor per rank's block
    private final Milliseconds waitLimit; // kept: a call allocates no chrono object
    private MemorySegment ringScratch; // acc and incoming of the reduce-scatter, grown rarely and kept
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
        this.waitLimit = new Milliseconds(timeout.toMillis());
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

    /**
     * Ring reduce-scatter over Gloo's point-to-point send and receive, on this communicator's own buffers: N - 1
     * steps, each sending one block to the right neighbour and receiving one from the left, then adding this rank's
     * block to it. Not {@code ProcessGroupGloo._reduce_scatter_base}: that clones the whole input into a new tensor,
     * all-reduces it (twice the bytes a reduce-scatter moves) and copies one block out, allocating a full-size
     * temporary per call, and on this project's VMs a fresh page costs about 55 us to touch (the README's "Scaling
     * out", "Measured"). Block b's sum is {@code ((g_(b+1) + g_(b+2)) + ...) + g_b} (ranks mod N): one fixed order
     * for a given N, so a run is reproducible; for N = 2 it is {@code g_0 + g_1} as {@link InProcessCommunicator}.
     */
    @Override
    public void reduceScatter(MemorySegment send, MemorySegment recv, long count) {
        checkCount("reduceScatter", count);
        checkNative("reduceScatter", "send", send, size * count);
        checkNative("reduceScatter", "recv", recv, count);
        ready("reduceScatter");
        if (size == 1 || count == 0) {
            MemorySegment.copy(send, 0, recv, 0, count * Float.BYTES);
            return;
        }
        long bytes = count * Float.BYTES;
        if (ringScratch == null || ringScratch.byteSize() < 2 * bytes) {
            ringScratch = arena.allocate(2 * bytes, 64); // grown rarely (a step's count is fixed) and kept
        }
        MemorySegment acc = ringScratch.asSlice(0, bytes), incoming = ringScratch.asSlice(bytes, bytes);
        rsSend.over(send, count, size);
        rsAcc.over(acc, count, 1);
        rsIncoming.over(incoming, count, 1);
        int right = (rank + 1) % size, left = (rank + size - 1) % size;
        long t0 = System.nanoTime();
        try {
            for (int step = 0; step < size - 1; step++) {
                int out = Math.floorMod(rank - step - 1, size), in = Math.floorMod(rank - step - 2, size);
                exchange(step == 0 ? rsSend.vector(out) : rsAcc.vector(0), right, rsIncoming.vector(0), left,
                        step);
                MemorySegment sum = step == size - 2 ? recv : acc;
                addBlock(send, in * bytes, incoming, sum, count);
            }
        } catch (RuntimeException e) {
            throw failed("reduceScatter", t0, e);
        }
    }

    /**
     * Ring all-gather over Gloo's point-to-point send and receive, straight into {@code recv}: this rank's block is
     * copied into its place, then N - 1 steps each forward one block to the right neighbour and receive the next
     * from the left. Not {@code ProcessGroupGloo._allgather_base}, which gathers into a new full-size temporary per
     * call and copies it out (see {@link #reduceScatter}).
     */
    @Override
    public void allGather(MemorySegment send, MemorySegment recv, long count) {
        checkCount("allGather", count);
        checkNative("allGather", "send", send, count);
        checkNative("allGather", "recv", recv, size * count);
        ready("allGather");
        MemorySegment.copy(send, 0, recv, rank * count * Float.BYTES, count * Float.BYTES);
        if (size == 1 || count == 0) {
            return;
        }
        agRecv.over(recv, count, size);
        int right = (rank + 1) % size, left = (rank + size - 1) % size;
        long t0 = System.nanoTime();
        try {
            for (int step = 0; step < size - 1; step++) {
                int out = Math.floorMod(rank - step, size), in = Math.floorMod(rank - step - 1, size);
                exchange(agRecv.vector(out), right, agRecv.vector(in), left, size + step);
            }
        } catch (RuntimeException e) {
            throw failed("allGather", t0, e);
        }
    }

    /** Sends {@code out} to {@code to} and receives {@code in} from {@code from}, both under {@code tag}; waits. */
    private void exchange(TensorVector out, int to, TensorVector in, int from, int tag) {
        try (Work sent = group.send(out, to, tag); Work received = group.recv(in, from, tag)) {
            if (!received._wait(waitLimit) || !sent._wait(waitLimit)) {
                throw new IllegalStateException("timed out after " + timeout);
            }
        }
    }

    /** {@code sum[i] = mine[at + i] + incoming[i]} for {@code count} floats ({@code sum} may be the scratch). */
    private static void addBlock(MemorySegment mine, long at, MemorySegment incoming, MemorySegment sum, long count) {
        for (long i = 0; i < count; i++) {
            long o = i * Float.BYTES;
            sum.set(ValueLayout.JAVA_FLOAT, o, mine.get(ValueLayout.JAVA_FLOAT, at + o)
                    + incoming.get(ValueLayout.JAVA_FLOAT, o));
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
                for (CachedTensor t : new CachedTensor[] {dIn, dOut}) {
                    t.close();
                }
                for (Blocks b : new Blocks[] {rsSend, rsAcc, rsIncoming, agRecv}) {
                    b.close();
                }
                waitLimit.close();
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

    /**
     * One float buffer cut into {@code blocks} equal blocks, a tensor and a one-tensor vector over each (what Gloo's
     * send and receive take), kept while the caller passes the same memory again, so a call wraps nothing new.
     */
    private static final class Blocks {
        private long address = -1;
        private long count = -1;
        private Tensor[] tensors = new Tensor[0];
        private TensorVector[] vectors = new TensorVector[0];

        void over(MemorySegment s, long perBlock, int blocks) {
            if (s.address() == address && perBlock == count && blocks == tensors.length) {
                return;
            }
            close();
            tensors = new Tensor[blocks];
            vectors = new TensorVector[blocks];
            for (int b = 0; b < blocks; b++) {
                tensors[b] = torch.from_blob(at(s.address() + b * perBlock * Float.BYTES), new long[] {perBlock},
                        new TensorOptions(torch.ScalarType.Float));
                vectors[b] = new TensorVector(tensors[b]);
            }
            address = s.address();
            count = perBlock;
        }

        TensorVector vector(int block) {
            return vectors[block];
        }

        void close() {
            for (int b = 0; b < tensors.length; b++) {
                vectors[b].close();
                tensors[b].close();
            }
            tensors = new Tensor[0];
            vectors = new TensorVector[0];
            address = -1;
        }
    }

    private static Pointer at(MemorySegment s) {
        return at(s.address());
    }

    private static Pointer at(long start) {
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
