package vecopt.spark.measure;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.gloo.Device;
import org.bytedeco.pytorch.global.torch;

/**
 * One Gloo collective between 2 ranks, timed call by call, with one variable changed at a time: the diagnosis of
 * why {@code spark-measure}'s collectives ran far below the loopback ("Measured" in the README's "Scaling out").
 * Drives {@code ProcessGroupGloo} directly (no {@code ZeroStep}, no packing), so what it times is Gloo's call alone.
 *
 * <pre>
 * GlooProbe op=rs floats=16777216 mode=threads        # reduce-scatter, 2 ranks as 2 threads of this JVM
 * GlooProbe op=rs floats=16777216 mode=procs          # the same, rank 1 in a second JVM this one starts
 * GlooProbe op=ar|ag|rs|p2p floats=N iters=K device=host|default|iface:lo glooThreads=T pieces=C dtype=f32|bf16
 * </pre>
 *
 * Prints one line per rank: the op, its parameters, min / median / max milliseconds per call and the "bus" rate of
 * the median (bytes each rank sends per call over time: (N-1)/N of the full buffer for rs, ag; 2(N-1)/N for ar;
 * the buffer for p2p).
 */
public final class GlooProbe {
    private GlooProbe() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new HashMap<>(Map.of("op", "rs", "floats", "4194304", "iters", "10", "mode",
                "threads", "device", "host", "glooThreads", "2", "pieces", "1", "dtype", "f32", "rank", "-1",
                "port", "0"));
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq < 0 || !o.containsKey(a.substring(0, eq))) {
                throw new IllegalArgumentException("arguments are key=value with key in " + o.keySet() + ", got " + a);
            }
            o.put(a.substring(0, eq), a.substring(eq + 1));
        }
        int rank = Integer.parseInt(o.get("rank"));
        if (rank == 1) { // the child of mode=procs
            System.out.println(run(o, 1, Integer.parseInt(o.get("port"))));
            return;
        }
        TCPStore server = store(0, true);
        int port = Short.toUnsignedInt(server.getPort());
        if (o.get("mode").equals("threads")) {
            CompletableFuture<String> r1 = CompletableFuture.supplyAsync(() -> run(o, 1, port),
                    job -> Thread.ofPlatform().start(job));
            String r0 = run(o, 0, port, server);
            System.out.println(r0);
            System.out.println(r1.get());
        } else {
            // the same JVM, flags and class path, running this class as rank 1
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString()));
            cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(GlooProbe.class.getName());
            cmd.addAll(Arrays.asList(args));
            cmd.add("rank=1");
            cmd.add("port=" + port);
            Process child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT)
                    .redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
            System.out.println(run(o, 0, port, server));
            child.waitFor();
        }
    }

    static TCPStore store(int port, boolean server) {
        TCPStoreOptions so = new TCPStoreOptions();
        so.port((short) port).isServer(server).numWorkers(new SizeTPointer(1).put(2)).waitWorkers(false)
                .timeout(new Milliseconds(300_000));
        return new TCPStore("127.0.0.1", so);
    }

    static String run(Map<String, String> o, int rank, int port) {
        return run(o, rank, port, store(port, false));
    }

    static String run(Map<String, String> o, int rank, int port, TCPStore store) {
        String op = o.get("op");
        long n = Long.parseLong(o.get("floats"));
        int iters = Integer.parseInt(o.get("iters"));
        int pieces = Integer.parseInt(o.get("pieces"));
        boolean bf16 = o.get("dtype").equals("bf16");
        int elem = bf16 ? 2 : 4;
        torch.ScalarType type = bf16 ? torch.ScalarType.BFloat16 : torch.ScalarType.Float;
        ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create(new Milliseconds(300_000));
        String dev = o.get("device");
        Device device = dev.equals("host") ? ProcessGroupGloo.createDeviceForHostname("127.0.0.1")
                : dev.equals("default") ? ProcessGroupGloo.createDefaultDevice()
                : ProcessGroupGloo.createDeviceForInterface(dev.substring("iface:".length()));
        options.devices().push_back(device);
        options.threads(Integer.parseInt(o.get("glooThreads")));
        ProcessGroupGloo group = new ProcessGroupGloo(store, rank, 2, options);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment full = arena.allocate(n * elem, 64);
            MemorySegment half = arena.allocate(n / 2 * elem, 64);
            for (long i = 0; i < n * elem / 4; i++) {
                full.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 1000) * 1e-3f);
            }
            long per = n / pieces;
            Tensor[] fullT = new Tensor[pieces], halfT = new Tensor[pieces];
            for (int c = 0; c < pieces; c++) {
                fullT[c] = torch.from_blob(at(full.address() + c * per * elem), new long[] {per},
                        new TensorOptions(type));
                halfT[c] = torch.from_blob(at(half.address() + c * per / 2 * elem), new long[] {per / 2},
                        new TensorOptions(type));
            }
            String[] ops = op.split(",");
            double[][] ms = new double[ops.length][iters];
            TensorVector fullV = new TensorVector(fullT[0]); // made once: the call's own cost is what is timed
            Tensor mine = torch.from_blob(at(full.address() + rank * (n / 2) * elem), new long[] {n / 2},
                    new TensorOptions(type));
            Tensor theirs = torch.from_blob(at(full.address() + (1 - rank) * (n / 2) * elem), new long[] {n / 2},
                    new TensorOptions(type));
            TensorVector mineV = new TensorVector(mine), theirsV = new TensorVector(theirs);
            TensorVector halfV = new TensorVector(halfT[0]);
            for (int it = -2; it < iters; it++) {
                for (int k = 0; k < ops.length; k++) { // the variants interleaved: the machine's load hits all alike
                    long t0 = System.nanoTime();
                    for (int c = 0; c < pieces; c++) {
                        switch (ops[k]) {
                            case "rs" -> done(group._reduce_scatter_base(halfT[c], fullT[c]));
                            case "ag" -> done(group._allgather_base(fullT[c], halfT[c]));
                            case "ar" -> done(group.allreduce(new TensorVector(fullT[c])));
                            case "arInPlace" -> done(group.allreduce(fullV)); // rs as allreduce on our buffer
                            case "p2p" -> done(rank == 0 ? group.send(fullV, 1, 0) : group.recv(fullV, 0, 0));
                            case "rsP2p" -> { // 2 ranks: send the peer's half, receive ours, add
                                Work s1 = group.send(theirsV, 1 - rank, 1);
                                Work r1 = group.recv(halfV, 1 - rank, 1);
                                done(r1);
                                done(s1);
                                mine.add_(halfT[0]);
                            }
                            case "agP2p" -> { // 2 ranks: send ours, receive the peer's into its place
                                Work s1 = group.send(mineV, 1 - rank, 2);
                                Work r1 = group.recv(theirsV, 1 - rank, 2);
                                done(r1);
                                done(s1);
                            }
                            default -> throw new IllegalArgumentException("op must be among rs, ag, ar, arInPlace,"
                                    + " p2p, rsP2p, agP2p, got " + ops[k]);
                        }
                    }
                    if (it >= 0) {
                        ms[k][it] = (System.nanoTime() - t0) / 1e6;
                    }
                }
            }
            StringBuilder out = new StringBuilder();
            for (int k = 0; k < ops.length; k++) {
                Arrays.sort(ms[k]);
                double med = ms[k][iters / 2];
                double bytes = switch (ops[k]) {
                    case "ar", "arInPlace" -> n * elem * 2.0 / 2; // 2(N-1)/N of the buffer at N = 2
                    case "p2p" -> n * elem;
                    default -> n * elem / 2.0; // (N-1)/N
                };
                out.append(String.format(Locale.ROOT, "rank %d pid %d %s %-9s floats=%d pieces=%d device=%s"
                                + " glooThreads=%s dtype=%s OMP=%s/%s: min %.1f median %.1f max %.1f ms, %.2f GB/s;"
                                + " sorted %s%n", rank, ProcessHandle.current().pid(), o.get("mode"), ops[k], n,
                        pieces, dev, o.get("glooThreads"), o.get("dtype"), System.getenv("OMP_NUM_THREADS"),
                        System.getenv("OMP_WAIT_POLICY"), ms[k][0], med, ms[k][iters - 1],
                        bytes / (med * 1e-3) / 1e9,
                        Arrays.toString(Arrays.stream(ms[k]).mapToLong(Math::round).toArray())));
            }
            return out.toString().strip();
        } finally {
            group.close();
            store.close();
        }
    }

    private static void done(Work w) {
        w._wait();
        w.close();
    }

    private static Pointer at(long start) {
        return new Pointer() {
            {
                address = start;
            }
        };
    }
}
