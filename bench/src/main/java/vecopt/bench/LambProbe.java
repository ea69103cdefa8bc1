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
import vecopt.memory.Storage;
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.param.ParamSet;

/**
 * CPU time per element of LAMB's step over one tensor (StepBench's: weight decay 0.01, off-heap): the engine's
 * {@code opt.step}, its C peer ({@link LayerwisePeer#LAMB}) and the passes' traffic
 * ({@link CeilingBench#lambPasses}), on the same off-heap p and g, taking turns ({@link CpuTurns}). On one thread also
 * each pass alone: the engine's kernel over the chunks of its grid ({@code Kernels.trustNorms}, {@code trustApply},
 * without the work between the passes), the C peer's pass ({@code passes} 1 or 2) and the pass's traffic.
 *
 * <pre>{@code
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp bench/target/classes:engine/target/classes vecopt.bench.LambProbe 67108864 1 9
 * }</pre>
 * Arguments: size, threads, samples per implementation.
 */
public final class LambProbe {
    private static final LambOptions OPTIONS = LambOptions.DEFAULTS.withWeightDecay(0.01);

    private LambProbe() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: LambProbe SIZE THREADS SAMPLES");
        }
        int size = Integer.parseInt(args[0]), threads = Integer.parseInt(args[1]), samples = Integer.parseInt(args[2]);
        NativeKernels.require();
        NativeKernels.setThreads(threads);
        Kernels kernels = KernelProvider.kernels();
        try (Buffers b = Buffers.allocate("offheap", "staggered", size, 4).fill(0, -0.05f, 0.05f, 1)
                .fill(1, -0.01f, 0.01f, 2).fill(2, -0.001f, 0.001f, 3).fill(3, 1e-6f, 1e-4f, 4);
             Arena arena = Arena.ofShared()) {
            MemorySegment p = b.segment(0), g = b.segment(1), mu = b.segment(2), nu = b.segment(3);
            ParamSet set = ParamSet.builder().add("w", Storage.wrap(p), Storage.wrap(g), 0, size).build();
            MemorySegment t = LayerwisePeer.tensors(arena, new long[][] {{0, size, 0}});
            MemorySegment k = LayerwisePeer.lambScalars(arena, 1000, 3e-4, 1, OPTIONS);
            MemorySegment work = arena.allocate(LayerwisePeer.workspace(t), 64);
            MemorySegment out = arena.allocate(3 * Double.BYTES, 8);
            try (Lamb opt = Lamb.builder(set).options(OPTIONS).threads(threads).onNonFinite(NonFinite.PROCEED)
                    .build()) {
                opt.step(3e-4); // past the first step, as StepBench
                Map<String, Runnable> impls = new LinkedHashMap<>();
                impls.put("engine step", () -> opt.step(3e-4));
                impls.put("C step", () -> LayerwisePeer.LAMB.run(p, g, mu, nu, t, k, kernels.lanes(), work, out,
                        LayerwisePeer.STEP));
                impls.put("traffic (C)", () -> CeilingBench.lambPasses(p, g, mu, nu, size));
                if (threads == 1) {
                    passes(impls, kernels, set, p, g, mu, nu, size, t, k, work, out);
                }
                CpuTurns.run(impls, size, threads, samples, "lamb " + size + " threads " + threads + ", "
                        + kernels.describe());
            }
        } finally {
            NativeKernels.setThreads(1);
        }
    }

    /** Each pass alone, one thread: the engine's kernel over its grid's chunks, the C peer's pass, the traffic. */
    private static void passes(Map<String, Runnable> impls, Kernels kernels, ParamSet set, MemorySegment p,
                               MemorySegment g, MemorySegment mu, MemorySegment nu, int size, MemorySegment t,
                               MemorySegment k, MemorySegment work, MemorySegment out) {
        LambStep step = new LambStep().prepare(OPTIONS.b1(), OPTIONS.b2(), OPTIONS.eps(), OPTIONS.epsRoot(),
                OPTIONS.weightDecay(), 1000, 1);
        Chunk[] chunks = ChunkGrid.cut(set.tensors(), ChunkGrid.CHUNK, false).stream()
                .map(r -> new Chunk(p, g, new MemorySegment[] {mu, nu}, r.start(), r.length(), 0, 0))
                .toArray(Chunk[]::new);
        double[] sums = new double[Kernels.NORM_SLOTS * chunks.length];
        MemorySegment q = MemorySegment.NULL;
        impls.put("engine pass 1", () -> {
            for (int c = 0; c < chunks.length; c++) {
                kernels.trustNorms(chunks[c], step, sums, c);
            }
        });
        impls.put("C pass 1", () -> LayerwisePeer.LAMB.run(p, g, mu, nu, t, k, kernels.lanes(), work, out, 1));
        impls.put("traffic pass 1", () -> NativeKernels.passTraffic(mu, nu, p, g, size, 4, 2));
        // pass 2 with the factor of a real ratio (about 1e-4 here), as in the step
        impls.put("engine pass 2", () -> {
            for (Chunk c : chunks) {
                kernels.trustApply(c, step, -3e-4f);
            }
        });
        impls.put("C pass 2", () -> LayerwisePeer.LAMB.run(p, g, mu, nu, t, k, kernels.lanes(), work, out, 2));
        impls.put("traffic pass 2", () -> NativeKernels.passTraffic(p, mu, nu, q, size, 3, 1));
    }
}
