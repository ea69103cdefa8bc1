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

/**
 * CPU time per element of several implementations of one step, taking turns sample by sample in one JVM so that a
 * loaded machine's disturbances fall on all of them alike (the probes' method: {@link EightBitProbe},
 * {@link AdafactorProbe}). CPU time, not wall time: on a machine shared with other work the wall time of a step says
 * how often it was descheduled; the CPU time what it costs. On one thread it is the calling thread's CPU time (the
 * engine's pool and the C peers run a one-thread step on the caller); on more, the process's
 * ({@code clock_gettime(CLOCK_PROCESS_CPUTIME_ID)}, in ns: every thread, the JIT's and GC's too, idle once warm; the
 * JDK's own process CPU time counts in 10 ms ticks), so per element it is the sum over the threads: equal to one
 * thread's when a step scales. Prints, per implementation, the median and the smallest of the samples in ns per
 * element, and the wall time's median.
 *
 * <pre>{@code
 * CpuTurns.run(Map.of("java step", () -> opt.step(1e-3)), size, 1, 15, "fp32-q8 size 32768 threads 1");
 * }</pre>
 */
final class CpuTurns {
    private CpuTurns() {
    }

    /**
     * Runs each of {@code impls} (in their order, 3 rounds of warm-up, then {@code samples} rounds), each sample
     * about 30 ms of one thread's work at 1 ns per element, and prints the table under {@code title}; returns the
     * medians of CPU time per element by name.
     */
    static Map<String, Double> run(Map<String, Runnable> impls, long size, int threads, int samples, String title)
            throws Throwable {
        int reps = (int) Math.max(1, 30_000_000 / size);
        ThreadMXBean tmx = ManagementFactory.getThreadMXBean();
        MethodHandle clock = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().findOrThrow("clock_gettime"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        Map<String, List<double[]>> got = new LinkedHashMap<>();
        for (String name : impls.keySet()) {
            got.put(name, new ArrayList<>());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ts = arena.allocate(16, 8);
            for (int s = -3; s < samples; s++) {
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
        }
        System.out.printf("%s, %d samples of %d steps; ns per element (%s CPU time)%n", title, samples, reps,
                threads == 1 ? "thread" : "process");
        System.out.printf("  %-24s %10s %10s %10s%n", "", "cpu median", "cpu min", "wall median");
        Map<String, Double> medians = new LinkedHashMap<>();
        for (Map.Entry<String, List<double[]>> e : got.entrySet()) {
            double[] cpu = e.getValue().stream().mapToDouble(x -> x[0]).sorted().toArray();
            double[] wall = e.getValue().stream().mapToDouble(x -> x[1]).sorted().toArray();
            System.out.printf("  %-24s %10.3f %10.3f %10.3f%n", e.getKey(), median(cpu), cpu[0], median(wall));
            medians.put(e.getKey(), median(cpu));
        }
        return medians;
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
