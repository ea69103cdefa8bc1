package vecopt.zero;

import java.time.Duration;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;

/**
 * Rank 0's end of Gloo's rendezvous: PyTorch's {@code TCPStore} server, bound to a port the operating system picks
 * (port 0), before the other ranks are told where it is. Picking a free port, closing it and binding it again later
 * races with every other process on the host (the port can be taken in between, and then rank 0 fails to start); a
 * store that is already bound cannot lose its port.
 *
 * <pre>{@code
 * GlooStore store = GlooStore.bind("10.0.0.1", 2, Duration.ofSeconds(60));
 * String where = "10.0.0.1:" + store.port();        // tell the peers, e.g. through BarrierTaskContext.allGather
 * GlooCommunicator comm = GlooCommunicator.connect(store, "10.0.0.1", 2, Duration.ofSeconds(60));
 * }</pre>
 *
 * <p>{@link GlooCommunicator#connect(GlooStore, String, int, Duration)} takes the store over; a store that is never
 * handed over must be {@link #close() closed}.
 */
public final class GlooStore implements AutoCloseable {
    private final String host;
    private final int port;
    private final int size;
    private TCPStore store;

    private GlooStore(String host, int port, int size, TCPStore store) {
        this.host = host;
        this.port = port;
        this.size = size;
        this.store = store;
    }

    /**
     * Starts the store server on {@code host}, on a free port chosen by the operating system, for a group of
     * {@code size} ranks.
     *
     * @throws CommunicatorException when the server cannot start
     */
    public static GlooStore bind(String host, int size, Duration timeout) {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host must be a host name or address, got '" + host + "'");
        }
        if (size < 1) {
            throw new IllegalArgumentException("size must be >= 1, got " + size);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        TCPStore s;
        try {
            s = open(host, 0, true, size, timeout);
        } catch (RuntimeException e) {
            throw new CommunicatorException("could not start Gloo's rendezvous store on " + host + " (a free port"
                    + " chosen by the system): " + e.getMessage(), e);
        }
        int bound = Short.toUnsignedInt(s.getPort());
        if (bound == 0) {
            s.close();
            throw new CommunicatorException("Gloo's rendezvous store on " + host + " reports port 0 after binding");
        }
        return new GlooStore(host, bound, size, s);
    }

    /** A store client, or the server when {@code server} (then {@code port} 0 lets the system pick one). */
    static TCPStore open(String host, int port, boolean server, int size, Duration timeout) {
        TCPStoreOptions so = new TCPStoreOptions();
        so.port((short) port).isServer(server).numWorkers(new SizeTPointer(1).put(size))
                .waitWorkers(false).timeout(new Milliseconds(timeout.toMillis()));
        return new TCPStore(host, so);
    }

    /** The address the store listens on, as given to {@link #bind}. */
    public String host() {
        return host;
    }

    /** The port the store is bound to. */
    public int port() {
        return port;
    }

    /** The group size the store was started for. */
    public int size() {
        return size;
    }

    /** Hands the store over (to the communicator, which closes it); a second take fails. */
    TCPStore take() {
        if (store == null) {
            throw new IllegalStateException("this GlooStore was already handed to a communicator or closed");
        }
        TCPStore s = store;
        store = null;
        return s;
    }

    /** Stops the server, unless a communicator took it over. */
    @Override
    public void close() {
        if (store != null) {
            store.close();
            store = null;
        }
    }
}
