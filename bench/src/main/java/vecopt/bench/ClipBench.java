package vecopt.bench;

import java.lang.foreign.Arena;
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
import org.openjdk.jmh.infra.BenchmarkParams;
import vecopt.clip.Clip;
import vecopt.clip.GlobalNorm;
import vecopt.clip.NonFinite;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;

/**
 * The global norm, clipping, and clipping fused into AdamW, off-heap, on 1 or 2 threads:
 * <ul>
 *   <li>{@code norm}: the optimizer's norm pass on its pool ({@code localGradSumOfSquares}), 4 bytes per parameter,
 *       read against the one-array read ceiling; {@code nativeNorm} the same sum in C;</li>
 *   <li>{@code fusedClipAdamW}: {@code step(lr)} of an optimizer built with {@code clipGradNorm}: a norm pass, then
 *       the update pass with the coefficient applied in registers (4 + 28 = 32 bytes); {@code nativeC} the same two
 *       passes in C;</li>
 *   <li>{@code clipThenAdamW}: {@link Clip#byNorm} (norm pass, then g *= coef in place) followed by {@code step(lr)}
 *       of an optimizer without clipping: 4 + 8 + 28 = 40 bytes. {@code Clip.byNorm} runs on the calling thread.</li>
 * </ul>
 * The gradients' norm is kept above maxNorm so that clipping always scales: the fused step never writes g; the
 * unfused one shrinks g by a factor 1 - 2^-22 per operation (maxNorm is set just under the last norm), which keeps
 * the gradients normal floats for the whole run while every operation still does the full scale pass.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 3, jvmArgsAppend = BenchMain.FORK_HEAP)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ClipBench {
    private static final double SHRINK = 1.0 - 0x1p-22;

    @Param({"32768", "1048576", "16777216", "67108864"})
    public int size;

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private Buffers buffers;
    private ParamSet set;
    private AdamW opt;
    private AdamScalars adam;
    private double maxNorm;
    private double currentNorm; // clipThenAdamW: the norm of g as the last clip left it

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        String method = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
        adam = AdamScalars.of("adamw", 1000);
        if (method.startsWith("native")) {
            NativeKernels.require();
            buffers = Buffers.allocate("offheap", "staggered", size, 4)
                    .fill(0, -0.05f, 0.05f, 1).fill(1, -0.01f, 0.01f, 2).fill(2, -0.001f, 0.001f, 3)
                    .fill(3, 1e-6f, 1e-4f, 4);
            NativeKernels.setThreads(threads);
            maxNorm = 0.5 * Math.sqrt(NativeKernels.sumOfSquares(buffers.segment(1), size));
            return;
        }
        arena = Arena.ofShared();
        Storage p = Storage.allocate(arena, size), g = Storage.allocate(arena, size);
        Buffers.fill(p.segment(), -0.05f, 0.05f, 1);
        Buffers.fill(g.segment(), -0.01f, 0.01f, 2);
        set = ParamSet.builder().add("w", p, g, 0, size).build();
        currentNorm = GlobalNorm.l2(set);
        maxNorm = 0.5 * currentNorm;
        AdamW.Builder b = AdamW.builder(set).options(AdamOptions.LLM_PRETRAINING).threads(threads);
        opt = method.equals("fusedClipAdamW") ? b.clipGradNorm(maxNorm).build()
                : b.onNonFinite(NonFinite.PROCEED).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (opt != null) {
            opt.close();
        }
        if (arena != null) {
            arena.close();
        }
        if (buffers != null) {
            buffers.close();
        }
    }

    @Benchmark
    public double norm() {
        return opt.localGradSumOfSquares();
    }

    @Benchmark
    public double nativeNorm() {
        return NativeKernels.sumOfSquares(buffers.segment(1), size);
    }

    @Benchmark
    public StepReport fusedClipAdamW() {
        return opt.step(3e-4);
    }

    @Benchmark
    public StepReport clipThenAdamW() {
        double max = currentNorm * SHRINK;
        double before = Clip.byNorm(set, max);
        currentNorm = before * (float) Clip.coefficient(max, before);
        return opt.step(3e-4);
    }

    /** The fused form in C: norm pass, then AdamW with the coefficient folded into the gradient scale. */
    @Benchmark
    public void nativeC() {
        double norm = Math.sqrt(NativeKernels.sumOfSquares(buffers.segment(1), size));
        NativeKernels.adamScaled(buffers.segment(0), buffers.segment(1), buffers.segment(2), buffers.segment(3), size,
                adam, (float) Clip.coefficient(maxNorm, norm));
    }
}
