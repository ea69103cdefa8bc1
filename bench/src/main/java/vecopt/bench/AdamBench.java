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
import vecopt.reference.AdamReference;

/**
 * The Adam-family kernels, one thread, over one whole array: AdamW (28 bytes per parameter: read p, g, m, v, write
 * p, m, v), Adam with L2 decay (28) and AMSGrad (36: also reads and writes vmax). Each operation is one full step
 * over {@code size} parameters, in place, so the score in ops/s times {@code size} is parameters per second.
 *
 * <p>Peers on the same buffers: the engine's SIMD kernel ({@code engine}), its scalar kernel ({@code scalar}), a plain
 * Java loop ({@code javaLoop}) and the C kernel ({@code nativeC}). The state evolves from step to step as in training
 * (v stays positive and normal, so no denormals), and the kernels write to memory the benchmark owns, so nothing
 * can be folded away and no Blackhole is needed.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 3, jvmArgsAppend = BenchMain.FORK_HEAP)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class AdamBench {
    private static final Kernels SIMD = KernelProvider.kernels();
    private static final Kernels SCALAR = KernelProvider.scalar();

    @Param({"32768", "1048576", "16777216", "67108864"})
    public int size;

    @Param({"offheap", "heap"})
    public String memory;

    @Param({"adamw", "adam_l2", "amsgrad"})
    public String adam;

    /** "staggered" (no 4K aliasing between buffers) or "aliased" (to measure what staggering saves). */
    @Param({"staggered"})
    public String layout;

    private Buffers buffers;
    private Chunk chunk;
    private AdamScalars step;
    private boolean amsgrad;

    @Setup(Level.Trial)
    public void setUp() {
        buffers = Buffers.allocate(memory, layout, size, 5)
                .fill(0, -0.05f, 0.05f, 1)   // p
                .fill(1, -0.01f, 0.01f, 2)   // g
                .fill(2, -0.001f, 0.001f, 3) // m
                .fill(3, 1e-6f, 1e-4f, 4)    // v > 0
                .fill(4, 1e-6f, 1e-4f, 5);   // vmax > 0
        chunk = new Chunk(buffers.segment(0), buffers.segment(1),
                new MemorySegment[] {buffers.segment(2), buffers.segment(3), buffers.segment(4)}, 0, size, 0, 0);
        step = AdamScalars.of(adam, 1000);
        amsgrad = adam.equals("amsgrad");
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
        SIMD.adam(chunk, step.engine, null);
    }

    @Benchmark
    public void scalar() {
        SCALAR.adam(chunk, step.engine, null);
    }

    /** The scalar reference: PyTorch's formulas in double, one element at a time (its own arrays, same values). */
    @Benchmark
    public void reference(ReferenceArrays r) {
        AdamReference.step(r.p, r.g, r.s1, r.s2, step.amsgrad ? r.s3 : null, 0, r.n, step.lr, step.b1, step.b2,
                step.epsilon, step.weightDecay, step.decoupled, step.t, 1.0);
    }

    @Benchmark
    public void javaLoop() {
        if (amsgrad) {
            JavaLoops.amsgrad(buffers, step);
        } else {
            JavaLoops.adam(buffers, step);
        }
    }

    @Benchmark
    public void nativeC(NativePeer peer) {
        if (amsgrad) {
            NativeKernels.amsgrad(buffers.segment(0), buffers.segment(1), buffers.segment(2), buffers.segment(3),
                    buffers.segment(4), size, step);
        } else {
            NativeKernels.adam(buffers.segment(0), buffers.segment(1), buffers.segment(2), buffers.segment(3), size,
                    step);
        }
    }
}
