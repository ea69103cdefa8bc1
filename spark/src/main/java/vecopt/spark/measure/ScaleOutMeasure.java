package vecopt.spark.measure;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;
import vecopt.zero.Communicator;
import vecopt.zero.GlooCommunicator;
import vecopt.zero.GlooStore;
import vecopt.zero.ZeroReport;
import vecopt.zero.ZeroStep;

/**
 * {@code ./vecopt spark-measure}: the sharded step's phases for a model of P parameters on 2 ranks over Gloo (two
 * threads of this JVM, each with its own Gloo context, talking over TCP on the loopback), against one process's
 * AdamW step over the same P, and the loopback's bandwidth measured in the same run (one TCP stream, 256 MB); then the
 * per-byte cost of the collectives and its projection to 8 and 64 ranks with the ring algorithm's 2(N - 1)/N factor.
 * No Spark: what is measured is what runs inside the barrier stage once it has started.
 *
 * <pre>
 * ./vecopt spark-measure                 # 16M and 64M parameters
 * ./vecopt spark-measure 4000000         # other sizes
 * </pre>
 */
public final class ScaleOutMeasure {
    static final int WARMUP = 2;
    static final int STEPS = 5;
    static final String HOST = "127.0.0.1";

    private ScaleOutMeasure() {
    }

    /** Mean milliseconds of each phase of one rank, and its state bytes. */
    record Phases(double rs, double norm, double update, double ag, long stateBytes) {
    }

    public static void main(String[] args) throws Exception {
        long[] sizes = args.length == 0 ? new long[] {16L << 20, 64L << 20} : new long[args.length];
        for (int i = 0; i < args.length; i++) {
            sizes[i] = Long.parseLong(args[i]);
            if (sizes[i] < 1024) {
                throw new IllegalArgumentException("sizes must be at least 1024 parameters, got " + args[i]);
            }
        }
        double loopback = loopbackGBps(256L << 20);
        System.out.printf(Locale.ROOT, "loopback TCP, one stream, 256 MB: %.2f GB/s%n", loopback);
        System.out.printf(Locale.ROOT, "%-12s %9s %9s %9s %9s %9s %10s %10s %12s %14s%n", "parameters", "RS ms",
                "norm ms", "update ms", "AG ms", "step ms", "1-proc ms", "GB/s RS+AG", "state/rank", "state 1 proc");
        List<double[]> perByte = new ArrayList<>();
        for (long p : sizes) {
            Phases[] ranks = sharded(p);
            double single = single(p);
            Phases r = ranks[0];
            double step = Math.max(ranks[0].rs() + ranks[0].norm() + ranks[0].update() + ranks[0].ag(),
                    ranks[1].rs() + ranks[1].norm() + ranks[1].update() + ranks[1].ag());
            // Ring reduce-scatter and all-gather each move (N - 1)/N of the buffer in and out of every rank: at
            // N = 2, half of P floats each, so both together move P * 4 bytes per rank.
            double bytes = p * 4.0;
            double gbps = bytes / ((r.rs() + r.ag()) * 1e-3) / 1e9;
            System.out.printf(Locale.ROOT, "%,12d %9.1f %9.1f %9.1f %9.1f %9.1f %10.1f %10.2f %,12d %,14d%n", p, r.rs(),
                    r.norm(), r.update(), r.ag(), step, single, gbps, r.stateBytes(), 2L * p * Float.BYTES);
            perByte.add(new double[] {p, (r.rs() + r.ag()) / bytes, r.update(), single});
        }
        System.out.printf(Locale.ROOT, "%nprojection (per-byte cost of RS+AG measured at N = 2, times the ring's"
                + " 2(N-1)/N; update measured at N = 2, times 2/N):%n");
        System.out.printf(Locale.ROOT, "%-12s %6s %12s %12s %14s%n", "parameters", "ranks", "RS+AG ms", "update ms",
                "state/rank MB");
        for (double[] pb : perByte) {
            for (int n : new int[] {2, 8, 64}) {
                double comm = pb[1] * 2 * (n - 1) / n * pb[0] * 4; // ms: per-byte ms x bytes each rank moves
                System.out.printf(Locale.ROOT, "%,12d %6d %12.1f %12.2f %14.1f%n", (long) pb[0], n, comm,
                        pb[2] * 2 / n, 2 * pb[0] * 4 / n / 1e6);
            }
        }
    }

    /** Two ranks over Gloo, threads of this JVM: each rank's mean phase times over {@code STEPS} steps. */
    static Phases[] sharded(long p) throws Exception {
        Duration timeout = Duration.ofSeconds(300);
        GlooStore store = GlooStore.bind(HOST, 2, timeout);
        List<CompletableFuture<Phases>> fs = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            int rank = r;
            fs.add(CompletableFuture.supplyAsync(() -> {
                try (Arena arena = Arena.ofShared();
                     Communicator comm = rank == 0 ? GlooCommunicator.connect(store, HOST, 2, timeout)
                             : GlooCommunicator.connect(HOST, store.port(), HOST, 1, 2, timeout)) {
                    ParamSet set = model(arena, p, rank);
                    try (ZeroStep zero = ZeroStep.create(set, comm, s -> adamw(s, 1))) {
                        double rs = 0, norm = 0, update = 0, ag = 0;
                        for (int i = 0; i < WARMUP + STEPS; i++) {
                            ZeroReport rep = zero.step(1e-4);
                            if (i >= WARMUP) {
                                rs += rep.reduceScatterNanos();
                                norm += rep.normNanos();
                                update += rep.updateNanos();
                                ag += rep.allGatherNanos();
                            }
                        }
                        double k = 1e6 * STEPS;
                        return new Phases(rs / k, norm / k, update / k, ag / k, zero.stateBytes());
                    }
                }
            }, job -> Thread.ofPlatform().start(job)));
        }
        return new Phases[] {fs.get(0).get(), fs.get(1).get()};
    }

    /** One process, AdamW over all {@code p} parameters on the machine's 2 cores: mean ms per step. */
    static double single(long p) {
        try (Arena arena = Arena.ofShared()) {
            ParamSet set = model(arena, p, 0);
            try (Optimizer<?> opt = adamw(set, 2)) {
                long total = 0;
                for (int i = 0; i < WARMUP + STEPS; i++) {
                    long t0 = System.nanoTime();
                    opt.step(1e-4);
                    if (i >= WARMUP) {
                        total += System.nanoTime() - t0;
                    }
                }
                return total / 1e6 / STEPS;
            }
        }
    }

    static AdamW adamw(ParamSet set, int threads) {
        return AdamW.builder(set).options(AdamOptions.LLM_PRETRAINING).clipGradNorm(1.0).threads(threads).build();
    }

    /** Two tensors over off-heap buffers, random parameters and gradients (rank-dependent). */
    static ParamSet model(Arena arena, long p, int rank) {
        long bias = 1024;
        Storage params = Storage.allocate(arena, p);
        Storage grads = Storage.allocate(arena, p);
        SplittableRandom r = new SplittableRandom(rank);
        for (long i = 0; i < p; i++) {
            params.set(i, (float) r.nextGaussian() * 0.02f);
            grads.set(i, (float) r.nextGaussian() * 1e-3f);
        }
        return ParamSet.builder().add("w", params, grads, 0, p - bias).add("b", params, grads, p - bias, bias).build();
    }

    /** One TCP stream over the loopback, {@code bytes} from a thread of this JVM to another: GB/s. */
    static double loopbackGBps(long bytes) throws IOException, InterruptedException {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(HOST, 0))) {
            int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
            Thread sender = Thread.ofPlatform().start(() -> {
                try (SocketChannel out = SocketChannel.open(new InetSocketAddress(HOST, port))) {
                    ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
                    for (long sent = 0; sent < bytes; ) {
                        b.clear();
                        sent += out.write(b);
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            long t0;
            try (SocketChannel in = server.accept()) {
                ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
                t0 = System.nanoTime();
                long got = 0;
                while (got < bytes) {
                    b.clear();
                    int n = in.read(b);
                    if (n < 0) {
                        break;
                    }
                    got += n;
                }
            }
            double s = (System.nanoTime() - t0) / 1e9;
            sender.join();
            return bytes / s / 1e9;
        }
    }
}
