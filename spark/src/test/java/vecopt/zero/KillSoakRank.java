package vecopt.zero;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * One rank of {@link ZeroKillSoakTest}, in a JVM of its own: joins a 2-rank Gloo group (rank 0 binds the store on a
 * port the system picks and publishes it in {@code dir/port-<attempt>}; rank 1 waits for that file), trains the
 * test model with {@link ZeroTraining#resumable} (resuming from the newest complete save in {@code dir}, saving every
 * {@code every} steps) to step {@code steps}, halting itself at step {@code haltStep} if it is this rank's (as a
 * SIGKILL: no shutdown hook), and writes its final parameters, then the step it resumed at, to
 * {@code dir/result-<rank>} (crash-safely).
 *
 * <pre>
 * java ... vecopt.zero.KillSoakRank DIR RANK ATTEMPT STEPS EVERY HALT_RANK HALT_STEP
 * </pre>
 */
public final class KillSoakRank {
    private KillSoakRank() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int rank = Integer.parseInt(args[1]);
        int attempt = Integer.parseInt(args[2]);
        int steps = Integer.parseInt(args[3]);
        int every = Integer.parseInt(args[4]);
        int haltRank = Integer.parseInt(args[5]);
        int haltStep = Integer.parseInt(args[6]);
        Duration timeout = Duration.ofSeconds(60);
        Path portFile = dir.resolve("port-" + attempt);
        Communicator comm;
        if (rank == 0) {
            GlooStore store = GlooStore.bind("127.0.0.1", 2, timeout);
            Path tmp = dir.resolve("port-" + attempt + ".tmp");
            Files.writeString(tmp, Integer.toString(store.port()));
            Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE);
            comm = GlooCommunicator.connect(store, "127.0.0.1", 2, timeout);
        } else {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!Files.exists(portFile)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("rank 0 published no port in " + portFile + " within " + timeout);
                }
                Thread.sleep(20); // polling for rank 0's port file (written atomically), bounded by the deadline
            }
            int port = Integer.parseInt(Files.readString(portFile).strip());
            comm = GlooCommunicator.connect("127.0.0.1", port, "127.0.0.1", 1, 2, timeout);
        }
        double[][] r;
        try (comm) {
            r = ZeroTraining.resumable(comm, steps, dir.resolve("ckpt"), every, (q, step) -> {
                if (q == haltRank && step == haltStep) {
                    Runtime.getRuntime().halt(137);
                }
            });
        }
        double[] out = java.util.Arrays.copyOf(r[0], r[0].length + 1);
        out[r[0].length] = r[1][0]; // the step this attempt resumed at, last
        write(dir.resolve("result-" + rank), out);
    }

    private static void write(Path to, double[] values) throws IOException {
        Path tmp = to.resolveSibling(to.getFileName() + ".tmp");
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(tmp))) {
            for (double v : values) {
                out.writeDouble(v);
            }
        }
        Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE);
    }
}
