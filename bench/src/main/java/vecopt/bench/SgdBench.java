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
import vecopt.kernel.Chunk;
import vecopt.kernel.KernelProvider;
import vecopt.kernel.Kernels;
import vecopt.reference.SgdReference;

/**
 * SGD with momentum and with Nesterov momentum, one thread, in the steady state (the buffer exists): 20 bytes per
 * parameter (read p, g, buf, write p, buf). Same peers as {@link AdamBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 3, jvmArgsAppend = BenchMain.FORK_HEAP)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class SgdBench {
    private static final Kernels SIMD = KernelProvider.kernels();
    private static final Kernels SCALAR = KernelProvider.scalar();

    @Param({"32768", "1048576", "16777216", "67108864"})
    public int size;

    @Param({"offheap", "heap"})
    public String memory;

    @Param({"momentum", "nesterov"})
    public String sgd;

    @Param({"staggered"})
    public String layout;

    private Buffers buffers;
    private Chunk chunk;
    private SgdScalars step;

    @Setup(Level.Trial)
    public void setUp() {
        buffers = Buffers.allocate(memory, layout, size, 3)
                .fill(0, -0.05f, 0.05f, 1)    // p
                .fill(1, -0.01f, 0.01f, 2)    // g
                .fill(2, -0.01f, 0.01f, 3);   // momentum buffer
        chunk = new Chunk(buffers.segment(0), buffers.segment(1), new MemorySegment[] {buffers.segment(2)}, 0, size, 0, 0);
        step = SgdScalars.of(sgd);
        if (NativeKernels.available()) {
            NativeKernels.setThreads(1);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        buffers.close();
    }

    @Benchmark
    public void engine() {
        SIMD.sgd(chunk, step.engine, null);
    }

    @Benchmark
    public void scalar() {
        SCALAR.sgd(chunk, step.engine, null);
    }

    /** The scalar reference in double (its own arrays, same values). */
    @Benchmark
    public void reference(ReferenceArrays r) {
        SgdReference.step(r.p, r.g, r.s1, 0, r.n, step.lr, step.momentumD, step.dampening, step.weightDecayD,
                step.nesterov, false, 1.0);
    }

    @Benchmark
    public void javaLoop() {
        JavaLoops.sgdMomentum(buffers, step);
    }

    @Benchmark
    public void nativeC(NativePeer peer) {
        NativeKernels.sgdMomentum(buffers.segment(0), buffers.segment(1), buffers.segment(2), size, step);
    }
}
