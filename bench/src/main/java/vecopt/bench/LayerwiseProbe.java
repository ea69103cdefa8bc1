package vecopt.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import vecopt.clip.NonFinite;
import vecopt.exec.ChunkGrid;
import vecopt.kernel.Chunk;
import vecopt.kernel.KernelProvider;
import vecopt.kernel.Kernels;
import vecopt.kernel.LambStep;
import vecopt.kernel.LarsStep;
import vecopt.kernel.TrustRatioStep;
import vecopt.memory.Storage;
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.optim.Lars;
import vecopt.optim.LarsOptions;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;

/**
 * CPU time per element of LAMB's or LARS's step over one tensor, off-heap, with StepBench's options (LAMB weight decay
 * 0.01, LARS 1e-4): the engine's {@code opt.step}, its C peer ({@link LayerwisePeer}) and the passes' traffic
 * ({@link CeilingBench#lambPasses}, {@link CeilingBench#larsPasses}), on the same off-heap buffers, taking turns
 * ({@link CpuTurns}). On one thread also each pass alone: the engine's kernel over the chunks of its grid
 * ({@code Kernels.trustNorms}, {@code trustApply}, without the work between the passes), the C peer's pass
 * ({@code passes} 1 or 2) and the pass's traffic. For LAMB also the C peer prefetching
 * ({@link LayerwisePeer#PREFETCH}).
 *
 * <pre>{@code
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp bench/target/classes:engine/target/classes vecopt.bench.LayerwiseProbe lamb 67108864 1 9
 * }</pre>
 * Arguments: lamb or lars, size, threads, samples per implementation.
 */
public final class LayerwiseProbe {
    private static final LambOptions LAMB = LambOptions.DEFAULTS.withWeightDecay(0.01);
    private static final LarsOptions LARS = LarsOptions.DEFAULTS.withWeightDecay(1e-4);

    private LayerwiseProbe() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length != 4 || !(args[0].equals("lamb") || args[0].equals("lars"))) {
            throw new IllegalArgumentException("usage: LayerwiseProbe lamb|lars SIZE THREADS SAMPLES");
        }
        boolean lamb = args[0].equals("lamb");
        int size = Integer.parseInt(args[1]), threads = Integer.parseInt(args[2]), samples = Integer.parseInt(args[3]);
        NativeKernels.require();
        NativeKernels.setThreads(threads);
        Kernels kernels = KernelProvider.kernels();
        try (Buffers b = Buffers.allocate("offheap", "staggered", size, 4).fill(0, -0.05f, 0.05f, 1)
                .fill(1, -0.01f, 0.01f, 2).fill(2, -0.001f, 0.001f, 3).fill(3, 1e-6f, 1e-4f, 4);
             Arena arena = Arena.ofShared()) {
            // LAMB: mu, nu in buffers 2, 3; LARS: the trace in 2
            MemorySegment p = b.segment(0), g = b.segment(1), s0 = b.segment(2);
            MemorySegment s1 = lamb ? b.segment(3) : MemorySegment.NULL;
            ParamSet set = ParamSet.builder().add("w", Storage.wrap(p), Storage.wrap(g), 0, size).build();
            MemorySegment t = LayerwisePeer.tensors(arena, new long[][] {{0, size, 0}});
            MemorySegment k = lamb ? LayerwisePeer.lambScalars(arena, 1000, 3e-4, 1, LAMB)
                    : LayerwisePeer.larsScalars(arena, 3e-4, 1, LARS);
            MemorySegment work = arena.allocate(LayerwisePeer.workspace(t), 64);
            MemorySegment out = arena.allocate(3 * Double.BYTES, 8);
            LayerwisePeer peer = lamb ? LayerwisePeer.LAMB : LayerwisePeer.LARS;
            try (Optimizer<?> opt = lamb
                    ? Lamb.builder(set).options(LAMB).threads(threads).onNonFinite(NonFinite.PROCEED).build()
                    : Lars.builder(set).options(LARS).threads(threads).onNonFinite(NonFinite.PROCEED).build()) {
                opt.step(3e-4); // past the first step, as StepBench
                Map<String, Runnable> impls = new LinkedHashMap<>();
                impls.put("engine step", () -> opt.step(3e-4));
                impls.put("C step", () -> peer.run(p, g, s0, s1, t, k, kernels.lanes(), work, out, LayerwisePeer.STEP));
                if (lamb) {
                    impls.put("C step prefetch", () -> peer.run(p, g, s0, s1, t, k, kernels.lanes(), work, out,
                            LayerwisePeer.STEP | LayerwisePeer.PREFETCH));
                }
                impls.put("traffic (C)", () -> {
                    if (lamb) {
                        CeilingBench.lambPasses(p, g, s0, s1, size);
                    } else {
                        CeilingBench.larsPasses(p, g, s0, size);
                    }
                });
                if (threads == 1) {
                    TrustRatioStep step = lamb
                            ? new LambStep().prepare(LAMB.b1(), LAMB.b2(), LAMB.eps(), LAMB.epsRoot(),
                                    LAMB.weightDecay(), 1000, 1)
                            : new LarsStep().prepare(LARS.weightDecay(), LARS.momentum(), LARS.nesterov(), 1);
                    MemorySegment[] state = lamb ? new MemorySegment[] {s0, s1} : new MemorySegment[] {s0};
                    Chunk[] chunks = ChunkGrid.cut(set.tensors(), ChunkGrid.CHUNK, false).stream()
                            .map(r -> new Chunk(p, g, state, r.start(), r.length(), 0, 0)).toArray(Chunk[]::new);
                    double[] sums = new double[Kernels.NORM_SLOTS * chunks.length];
                    MemorySegment q = MemorySegment.NULL;
                    impls.put("engine pass 1", () -> {
                        for (int c = 0; c < chunks.length; c++) {
                            kernels.trustNorms(chunks[c], step, sums, c);
                        }
                    });
                    impls.put("C pass 1", () -> peer.run(p, g, s0, s1, t, k, kernels.lanes(), work, out, 1));
                    if (lamb) {
                        impls.put("C pass 1 prefetch", () -> peer.run(p, g, s0, s1, t, k, kernels.lanes(), work, out,
                                1 | LayerwisePeer.PREFETCH));
                    }
                    impls.put("traffic pass 1", () -> {
                        if (lamb) {
                            NativeKernels.passTraffic(s0, s1, p, g, size, 4, 2);
                        } else {
                            NativeKernels.passTraffic(p, g, q, q, size, 2, 0);
                        }
                    });
                    // pass 2 with a factor of the size a real one has here (-lr * ratio, about 1e-4 or less)
                    impls.put("engine pass 2", () -> {
                        for (Chunk c : chunks) {
                            kernels.trustApply(c, step, -3e-4f);
                        }
                    });
                    impls.put("C pass 2", () -> peer.run(p, g, s0, s1, t, k, kernels.lanes(), work, out, 2));
                    if (lamb) {
                        impls.put("C pass 2 prefetch", () -> peer.run(p, g, s0, s1, t, k, kernels.lanes(), work, out,
                                2 | LayerwisePeer.PREFETCH));
                    }
                    impls.put("traffic pass 2", () -> {
                        if (lamb) {
                            NativeKernels.passTraffic(p, s0, s1, q, size, 3, 1);
                        } else {
                            NativeKernels.passTraffic(p, s0, g, q, size, 3, 2);
                        }
                    });
                }
                CpuTurns.run(impls, size, threads, samples, args[0] + " " + size + " threads " + threads + ", "
                        + kernels.describe());
            }
        } finally {
            NativeKernels.setThreads(1);
        }
    }
}
