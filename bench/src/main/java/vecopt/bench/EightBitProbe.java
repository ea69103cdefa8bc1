package vecopt.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import vecopt.clip.NonFinite;
import vecopt.memory.BFloat16;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.param.ParamSet;

/**
 * CPU time per element of AdamW with 8-bit state: the engine's step against its C peers ({@link EightBitPeer}) and
 * the mix's traffic ({@link MixedTraffic}), in one JVM, the implementations taking turns sample by sample so that a
 * loaded machine's disturbances fall on all of them alike. CPU time, not wall time: on a machine shared with other
 * work the wall time of a step says how often it was descheduled; the CPU time what it costs. On one thread it is
 * the calling thread's CPU time (the engine's pool and the C peer run a one-thread step on the caller); on more, the
 * process's ({@code clock_gettime(CLOCK_PROCESS_CPUTIME_ID)}, in ns: every thread, the JIT's and GC's too, idle once
 * warm; the JDK's own process CPU time counts in 10 ms ticks), so per element it is the sum over the threads: equal
 * to one thread's when a step scales. Prints, per implementation, the median and the smallest of the samples
 * in ns per element, and the wall time's median. The float32 AdamW step and its traffic run alongside, on float32 buffers
 * of their own: the reference the 8-bit mixes are read against (the goal: 1.35x the float32 step's parameters per
 * second, that is at most 1 / 1.35 of its time per element).
 *
 * <pre>{@code
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp bench/target/classes:engine/target/classes vecopt.bench.EightBitProbe bf16-master-q8 32768 1 15
 * }</pre>
 * Arguments: storage ({@code fp32-q8} or {@code bf16-master-q8}), size, threads, samples per implementation.
 */
public final class EightBitProbe {
    private EightBitProbe() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length != 4) {
            throw new IllegalArgumentException("usage: EightBitProbe fp32-q8|bf16-master-q8 SIZE THREADS SAMPLES");
        }
        String storage = args[0];
        int size = Integer.parseInt(args[1]), threads = Integer.parseInt(args[2]), samples = Integer.parseInt(args[3]);
        int mode = switch (storage) {
            case "fp32-q8" -> 5;
            case "bf16-master-q8" -> 6;
            default -> throw new IllegalArgumentException("storage must be fp32-q8 or bf16-master-q8, got " + storage);
        };
        NativeKernels.require();
        try (Arena arena = Arena.ofShared()) {
            Dtype t = mode == 5 ? Dtype.FLOAT32 : Dtype.BFLOAT16;
            Storage p = Storage.allocate(arena, size, t), g = Storage.allocate(arena, size, t);
            MemorySegment pw = arena.allocate(4L * size, 64), p16 = mode == 6 ? arena.allocate(2L * size, 64)
                    : MemorySegment.NULL;
            MemorySegment g32 = mode == 5 ? arena.allocate(4L * size, 64) : MemorySegment.NULL;
            MemorySegment g16 = mode == 6 ? arena.allocate(2L * size, 64) : MemorySegment.NULL;
            MemorySegment m = arena.allocate(size, 64), r = arena.allocate(size, 64);
            MemorySegment sm = arena.allocate(4L * ((size + 255) / 256), 64), sr = arena.allocate(4L * ((size + 255) / 256), 64);
            SplittableRandom rnd = new SplittableRandom(1); // MixedBench's values
            for (long i = 0; i < size; i++) {
                float pi = (float) rnd.nextDouble(-1, 1), gi = (float) rnd.nextDouble(-1e-3, 1e-3);
                p.set(i, pi);
                g.set(i, gi);
                if (mode == 5) {
                    pw.setAtIndex(ValueLayout.JAVA_FLOAT, i, pi);
                    g32.setAtIndex(ValueLayout.JAVA_FLOAT, i, gi);
                } else {
                    pw.setAtIndex(ValueLayout.JAVA_FLOAT, i, BFloat16.widen(BFloat16.round(pi)));
                    p16.setAtIndex(ValueLayout.JAVA_SHORT, i, BFloat16.round(pi));
                    g16.setAtIndex(ValueLayout.JAVA_SHORT, i, BFloat16.round(gi));
                }
            }
            Storage fp = Storage.allocate(arena, size), fg = Storage.allocate(arena, size);
            MemorySegment[] ft = new MemorySegment[4];
            for (int j = 0; j < 4; j++) {
                ft[j] = arena.allocate(4L * size, 64);
            }
            SplittableRandom rf = new SplittableRandom(1);
            for (long i = 0; i < size; i++) {
                float pi = (float) rf.nextDouble(-1, 1), gi = (float) rf.nextDouble(-1e-3, 1e-3);
                fp.set(i, pi);
                fg.set(i, gi);
                ft[0].setAtIndex(ValueLayout.JAVA_FLOAT, i, pi);
                ft[1].setAtIndex(ValueLayout.JAVA_FLOAT, i, gi);
            }
            MemorySegment k = EightBitPeer.scalars(new AdamScalars(1e-3, 0.9, 0.999, 1e-8, 0.01, true, false, 10), arena);
            NativeKernels.setThreads(threads);
            try (AdamW opt = AdamW.builder(ParamSet.builder().add("w", p, g, 0, size).build())
                    .options(AdamOptions.ADAMW_DEFAULTS).onNonFinite(NonFinite.PROCEED).threads(threads)
                    .eightBitState().build();
                 AdamW fopt = AdamW.builder(ParamSet.builder().add("w", fp, fg, 0, size).build())
                    .options(AdamOptions.ADAMW_DEFAULTS).onNonFinite(NonFinite.PROCEED).threads(threads).build()) {
                Map<String, Runnable> impls = new LinkedHashMap<>();
                impls.put("java step", () -> opt.step(1e-3));
                impls.put("C (gcc vectorized)", () -> EightBitPeer.run("c", pw, p16, g32, g16, m, r, sm, sr, size, mode, k));
                if (EightBitPeer.has("avx512")) {
                    impls.put("C (AVX-512 intrinsics)",
                            () -> EightBitPeer.run("avx512", pw, p16, g32, g16, m, r, sm, sr, size, mode, k));
                }
                if (EightBitPeer.has("avx512bf16") && mode == 6) {
                    impls.put("C (intrinsics, CPU bf16)",
                            () -> EightBitPeer.run("avx512bf16", pw, p16, g32, g16, m, r, sm, sr, size, mode, k));
                }
                impls.put("traffic (C)", () -> MixedTraffic.run(pw, p16, g32, g16, m, r, size, mode));
                impls.put("float32 step (engine)", () -> fopt.step(1e-3));
                impls.put("float32 traffic (C)", () -> MixedTraffic.run(ft[0], MemorySegment.NULL, ft[1],
                        MemorySegment.NULL, ft[2], ft[3], size, 0));
                // a sample of about 30 ms of one thread's work at ~1 ns per element
                int reps = Math.max(1, 30_000_000 / size);
                ThreadMXBean tmx = ManagementFactory.getThreadMXBean();
                MethodHandle clock = Linker.nativeLinker().downcallHandle(
                        Linker.nativeLinker().defaultLookup().findOrThrow("clock_gettime"),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
                MemorySegment ts = arena.allocate(16, 8);
                Map<String, List<double[]>> got = new LinkedHashMap<>();
                for (String name : impls.keySet()) {
                    got.put(name, new ArrayList<>());
                }
                for (int s = -3; s < samples; s++) { // 3 rounds of warm-up, then the samples
                    for (Map.Entry<String, Runnable> e : impls.entrySet()) {
                        long c0 = threads == 1 ? tmx.getCurrentThreadCpuTime() : processCpu(clock, ts);
                        long w0 = System.nanoTime();
                        for (int i = 0; i < reps; i++) {
                            e.getValue().run();
                        }
                        long w1 = System.nanoTime();
                        long c1 = threads == 1 ? tmx.getCurrentThreadCpuTime() : processCpu(clock, ts);
                        if (s >= 0) {
                            double per = (double) reps * size;
                            got.get(e.getKey()).add(new double[] {(c1 - c0) / per, (w1 - w0) / per});
                        }
                    }
                }
                System.out.printf("%s size %d threads %d, %d samples of %d steps; ns per element (%s CPU time)%n",
                        storage, size, threads, samples, reps, threads == 1 ? "thread" : "process");
                System.out.printf("  %-24s %10s %10s %10s%n", "", "cpu median", "cpu min", "wall median");
                for (Map.Entry<String, List<double[]>> e : got.entrySet()) {
                    double[] cpu = e.getValue().stream().mapToDouble(x -> x[0]).sorted().toArray();
                    double[] wall = e.getValue().stream().mapToDouble(x -> x[1]).sorted().toArray();
                    System.out.printf("  %-24s %10.3f %10.3f %10.3f%n", e.getKey(), median(cpu), cpu[0], median(wall));
                }
            }
        }
    }

    /** The process's CPU time in ns: {@code clock_gettime(CLOCK_PROCESS_CPUTIME_ID = 2, ts)}. */
    private static long processCpu(MethodHandle clock, MemorySegment ts) throws Throwable {
        if ((int) clock.invokeExact(2, ts) != 0) {
            throw new IllegalStateException("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
        }
        return ts.get(ValueLayout.JAVA_LONG, 0) * 1_000_000_000L + ts.get(ValueLayout.JAVA_LONG, 8);
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
