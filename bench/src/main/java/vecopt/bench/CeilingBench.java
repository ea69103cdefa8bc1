package vecopt.bench;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Memory ceilings, in C (the fastest code this machine has), over off-heap buffers laid out as the kernels' are:
 * <ul>
 *   <li>{@code triad}: STREAM's a = b + s*c, 12 bytes per element as STREAM counts them (16 with the write-allocate
 *       read of a, which the hardware does but STREAM does not count);</li>
 *   <li>{@code adamwTraffic}: read four arrays, write three, with next to no arithmetic: 28 bytes per element, the
 *       ceiling AdamW is read against;</li>
 *   <li>{@code read}: one array read and summed, 4 bytes per element: the ceiling of the global-norm pass;</li>
 *   <li>{@code larsTraffic}, {@code lambTraffic}, {@code adafactorTraffic}: the passes of a layer-wise optimizer's
 *       design, one after the other, each with its own streams and next to no arithmetic (LARS: read 2, then read 3
 *       and write 2 of them: 28 bytes; LAMB: read 4 and write 2, then read 3 and write 1: 40; Adafactor over a
 *       matrix: read 2, read 1, read 2 and write 1: 24). A pass that only reads is slower per byte than one that also
 *       writes on this kind of machine (one core's outstanding reads bound it), so the AdamW traffic ceiling
 *       overstates what these designs can reach; these are their own ceilings.</li>
 * </ul>
 * Each on 1 and 2 OpenMP threads; needs the native peer (skipped with its reason otherwise).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 3, jvmArgsAppend = BenchMain.FORK_HEAP)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class CeilingBench {
    @Param({"32768", "1048576", "16777216", "67108864"})
    public int size;

    @Param({"1", "2"})
    public int threads;

    private Buffers buffers;

    @Setup(Level.Trial)
    public void setUp(NativePeer peer) {
        buffers = Buffers.allocate("offheap", "staggered", size, 4)
                .fill(0, -1f, 1f, 1).fill(1, -1e-3f, 1e-3f, 2).fill(2, -1f, 1f, 3).fill(3, 0f, 1f, 4);
        NativeKernels.setThreads(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        buffers.close();
    }

    @Benchmark
    public void triad() {
        NativeKernels.triad(buffers.segment(0), buffers.segment(2), buffers.segment(3), size, 0.5f);
    }

    @Benchmark
    public void adamwTraffic() {
        NativeKernels.adamwTraffic(buffers.segment(0), buffers.segment(1), buffers.segment(2), buffers.segment(3), size);
    }

    @Benchmark
    public float larsTraffic() {
        return larsPasses(buffers.segment(0), buffers.segment(1), buffers.segment(2), size);
    }

    @Benchmark
    public float lambTraffic() {
        return lambPasses(buffers.segment(0), buffers.segment(1), buffers.segment(2), buffers.segment(3), size);
    }

    @Benchmark
    public float adafactorTraffic() {
        return adafactorPasses(buffers.segment(0), buffers.segment(1), size);
    }

    /** LARS's passes: read p, g; then read p, trace, g and write p, trace (28 bytes per element). */
    static float larsPasses(MemorySegment p, MemorySegment g, MemorySegment trace, long size) {
        float s = NativeKernels.passTraffic(p, g, MemorySegment.NULL, MemorySegment.NULL, size, 2, 0);
        NativeKernels.passTraffic(p, trace, g, MemorySegment.NULL, size, 3, 2);
        return s;
    }

    /** LAMB's passes: read mu, nu, p, g and write mu, nu; then read p, mu, nu and write p (40 bytes per element). */
    static float lambPasses(MemorySegment p, MemorySegment g, MemorySegment mu, MemorySegment nu, long size) {
        NativeKernels.passTraffic(mu, nu, p, g, size, 4, 2);
        return NativeKernels.passTraffic(p, mu, nu, MemorySegment.NULL, size, 3, 1);
    }

    /** Adafactor's passes over a matrix: read p, g; read g; read g, p and write p (24 bytes per element). */
    static float adafactorPasses(MemorySegment p, MemorySegment g, long size) {
        float s = NativeKernels.passTraffic(p, g, MemorySegment.NULL, MemorySegment.NULL, size, 2, 0)
                + NativeKernels.passTraffic(g, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, size, 1, 0);
        NativeKernels.passTraffic(p, g, MemorySegment.NULL, MemorySegment.NULL, size, 2, 1);
        return s;
    }

    @Benchmark
    public float read() {
        return NativeKernels.read(buffers.segment(1), size);
    }
}
