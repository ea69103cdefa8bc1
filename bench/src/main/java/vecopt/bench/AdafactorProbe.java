package vecopt.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import vecopt.clip.NonFinite;
import vecopt.kernel.AdafactorChunk;
import vecopt.kernel.AdafactorStep;
import vecopt.kernel.Chunk;
import vecopt.kernel.KernelProvider;
import vecopt.kernel.Kernels;
import vecopt.memory.Storage;
import vecopt.optim.Adafactor;
import vecopt.optim.AdafactorOptions;
import vecopt.param.ParamSet;
import vecopt.param.Shape;

/**
 * CPU time per element of Adafactor's step over StepBench's matrix (8192 x 8192 at 64M, 4096 x 4096 at 16M), HF's
 * defaults: the engine's {@code opt.step}, its C peer ({@link AdafactorPeer}) and the passes' traffic
 * ({@link CeilingBench#adafactorPasses}), on the same off-heap p and g, taking turns ({@link CpuTurns}). On one
 * thread also each pass alone: the engine's kernel over the chunks ({@code Kernels.adafactor}, the factors all 1,
 * without the work between passes), the C peer's loops alone ({@code passes} 1, 2 or 4) and the pass's traffic.
 *
 * <pre>{@code
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp bench/target/classes:engine/target/classes vecopt.bench.AdafactorProbe 67108864 1 9
 * }</pre>
 * Arguments: size, threads, samples per implementation.
 */
public final class AdafactorProbe {
    private AdafactorProbe() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: AdafactorProbe SIZE THREADS SAMPLES");
        }
        int size = Integer.parseInt(args[0]), threads = Integer.parseInt(args[1]), samples = Integer.parseInt(args[2]);
        int cols = StepBench.adafactorCols(size), rows = size / cols;
        NativeKernels.require();
        NativeKernels.setThreads(threads);
        try (Buffers b = Buffers.allocate("offheap", "staggered", size, 2).fill(0, -0.05f, 0.05f, 1)
                .fill(1, -0.01f, 0.01f, 2); Arena arena = Arena.ofShared()) {
            MemorySegment p = b.segment(0), g = b.segment(1);
            ParamSet set = ParamSet.builder().add("w", Storage.wrap(p), Storage.wrap(g), 0, size,
                    Shape.of(rows, cols)).build();
            MemorySegment row = arena.allocate(4L * rows, 64), col = arena.allocate(4L * cols, 64);
            MemorySegment work = arena.allocate(AdafactorPeer.workspace(size, rows, cols), 64);
            MemorySegment k = AdafactorPeer.scalars(AdafactorOptions.DEFAULTS, 1000, 3e-4, 1, arena);
            MemorySegment out = arena.allocate(8, 4);
            try (Adafactor opt = Adafactor.builder(set).threads(threads).onNonFinite(NonFinite.PROCEED).build()) {
                Map<String, Runnable> impls = new LinkedHashMap<>();
                impls.put("engine step", () -> opt.step(3e-4));
                impls.put("C step", () -> AdafactorPeer.run(p, g, MemorySegment.NULL, row, col, size, rows, cols,
                        work, k, out, AdafactorPeer.STEP));
                impls.put("traffic (C)", () -> CeilingBench.adafactorPasses(p, g, size));
                if (threads == 1) {
                    passes(impls, p, g, size, rows, cols, row, col, work, k, out);
                }
                impls.get("C step").run(); // the peer's factors in its workspace before a pass runs alone
                CpuTurns.run(impls, size, threads, samples, "adafactor " + rows + " x " + cols + " threads " + threads);
            }
        } finally {
            NativeKernels.setThreads(1);
        }
    }

    /** Each pass alone, one thread: the engine's kernel over Adafactor's chunks, the C peer's loops, the traffic. */
    private static void passes(Map<String, Runnable> impls, MemorySegment p, MemorySegment g, int size, int rows,
                               int cols, MemorySegment row, MemorySegment col, MemorySegment work, MemorySegment k,
                               MemorySegment out) {
        Kernels kernels = KernelProvider.kernels();
        AdafactorStep step = new AdafactorStep().prepare(1e-30, -0.8, Double.NaN, false, 1000, 1);
        float[] rf = new float[rows], cf = new float[cols];
        Arrays.fill(rf, 1f);
        Arrays.fill(cf, 1f);
        int n = (size + Adafactor.CHUNK - 1) / Adafactor.CHUNK;
        Chunk[] chunks = new Chunk[n];
        AdafactorChunk[] work2 = new AdafactorChunk[n];
        for (int c = 0; c < n; c++) {
            int len = Math.min(Adafactor.CHUNK, size - c * Adafactor.CHUNK);
            chunks[c] = new Chunk(p, g, new MemorySegment[0], (long) c * Adafactor.CHUNK, len, 0, c);
            work2[c] = new AdafactorChunk((long) c * Adafactor.CHUNK, len, rows, cols, rf, cf);
            work2[c].prepareApply(1f, 1e-6f, 0f);
        }
        MemorySegment q = MemorySegment.NULL;
        for (int pass = 0; pass < 3; pass++) {
            final int ps = pass;
            impls.put("engine pass " + (pass + 1), () -> {
                for (int c = 0; c < n; c++) {
                    kernels.adafactor(chunks[c], step, work2[c], ps);
                }
            });
            impls.put("C pass " + (pass + 1), () -> AdafactorPeer.run(p, g, MemorySegment.NULL, row, col, size, rows,
                    cols, work, k, out, 1 << ps));
            impls.put("traffic pass " + (pass + 1), () -> {
                switch (ps) {
                    case 0 -> NativeKernels.passTraffic(p, g, q, q, size, 2, 0);
                    case 1 -> NativeKernels.passTraffic(g, q, q, q, size, 1, 0);
                    default -> NativeKernels.passTraffic(p, g, q, q, size, 2, 1);
                }
            });
        }
    }
}
