package vecopt.bench;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
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
import vecopt.clip.NonFinite;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;

/**
 * A whole AdamW step, {@code opt.step(lr)}, over the same number of parameters ({@code size}) laid out as real
 * models lay them out, each tensor in its own off-heap buffer, against one flat buffer:
 * <ul>
 *   <li>{@code flat}: one tensor in one buffer (the fastest case: long contiguous chunks);
 *   <li>{@code gpt2}: GPT-2 small's 148 parameter tensors (token and position embeddings, 12 blocks of layer norms,
 *       attention and MLP weights and biases, the final layer norm), each scaled by {@code size / 124,439,808};
 *   <li>{@code 10k}: 10,000 buffers of log-uniform sizes from 1 to 64 Ki;
 *   <li>{@code 100k}: 100,000 buffers of log-uniform sizes from 1 to 1,024 (norms, biases, experts).
 * </ul>
 * The last tensor is sized so that every layout has exactly {@code size} parameters, so operations per second
 * compare directly: the ratio to {@code flat} is what the layout costs. Update pass only ({@code PROCEED}, no
 * clipping), as in {@link StepBench}.
 *
 * <p>{@link #build} measures construction: the {@code ParamSet} and the optimizer over the layout's buffers (state
 * allocated, grid cut and packed), one shot per iteration.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 3, jvmArgsAppend = BenchMain.FORK_HEAP)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LayoutBench {
    @Param({"16777216"})
    public int size;

    @Param({"flat", "gpt2", "10k", "100k"})
    public String layout;

    @Param({"1", "2"})
    public int threads;

    /**
     * Where the tensors' buffers live: {@code separate} allocations (as an autograd stack makes them), or
     * {@code slab}: still one buffer per tensor as far as vecopt knows, but slices of one contiguous allocation, to
     * tell what the engine costs per tensor from what scattered small allocations cost the memory system.
     */
    @Param({"separate"})
    public String placement;

    private Arena arena;
    private ParamSet set;
    private AdamW opt;

    /** GPT-2 small's parameter tensors, in the order of its state dict (124,439,808 parameters). */
    static long[] gpt2Sizes() {
        long d = 768, vocab = 50257, ctx = 1024;
        long[] block = {d, d, d * 3 * d, 3 * d, d * d, d, d, d, d * 4 * d, 4 * d, 4 * d * d, d};
        long[] out = new long[2 + 12 * block.length + 2];
        int i = 0;
        out[i++] = vocab * d;
        out[i++] = ctx * d;
        for (int b = 0; b < 12; b++) {
            for (long s : block) {
                out[i++] = s;
            }
        }
        out[i++] = d;
        out[i] = d;
        return out;
    }

    /** The tensor sizes of a layout, summing to exactly {@code size}. */
    static long[] sizes(String layout, int size) {
        long[] s = switch (layout) {
            case "flat" -> new long[] {size};
            case "gpt2" -> {
                long[] g = gpt2Sizes();
                double scale = (double) size / java.util.Arrays.stream(g).sum();
                for (int i = 0; i < g.length; i++) {
                    g[i] = Math.max(1, Math.round(g[i] * scale));
                }
                yield g;
            }
            case "10k" -> logUniform(10_000, 1 << 16, 10);
            case "100k" -> logUniform(100_000, 1 << 10, 100);
            default -> throw new IllegalArgumentException("layout must be flat, gpt2, 10k or 100k, got '" + layout + "'");
        };
        // Scale to the total, then let the last tensor absorb the rounding, so every layout has `size` parameters.
        double total = java.util.Arrays.stream(s).sum();
        long sum = 0;
        for (int i = 0; i < s.length - 1; i++) {
            s[i] = Math.max(1, Math.round(s[i] * size / total));
            sum += s[i];
        }
        s[s.length - 1] = size - sum;
        if (s[s.length - 1] < 1) {
            throw new IllegalStateException("layout " + layout + " does not fit " + size + " parameters");
        }
        return s;
    }

    private static long[] logUniform(int count, int max, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] s = new long[count];
        for (int i = 0; i < count; i++) {
            s[i] = (long) Math.exp(r.nextDouble(0, Math.log(max)));
        }
        return s;
    }

    /** The layout's tensors, each in its own pair of off-heap buffers (or slices of two slabs). */
    static ParamSet lay(long[] sizes, Arena arena, boolean slab) {
        ParamSet.Builder b = ParamSet.builder();
        long total = 0;
        for (long n : sizes) {
            total += (n + 15) & ~15L;
        }
        java.lang.foreign.MemorySegment ps = slab ? arena.allocate(4 * total, 64) : null;
        java.lang.foreign.MemorySegment gs = slab ? arena.allocate(4 * total, 64) : null;
        long at = 0;
        for (int i = 0; i < sizes.length; i++) {
            Storage p = slab ? Storage.wrap(ps.asSlice(4 * at, 4 * sizes[i])) : Storage.allocate(arena, sizes[i]);
            Storage g = slab ? Storage.wrap(gs.asSlice(4 * at, 4 * sizes[i])) : Storage.allocate(arena, sizes[i]);
            at += (sizes[i] + 15) & ~15L;
            Buffers.fill(p.segment(), -0.05f, 0.05f, 2L * i + 1);
            Buffers.fill(g.segment(), -0.01f, 0.01f, 2L * i + 2);
            b.add("t" + i, p, g, 0, sizes[i]);
        }
        return b.build();
    }

    static AdamW optimizer(ParamSet set, int threads) {
        return AdamW.builder(set).options(AdamOptions.LLM_PRETRAINING).threads(threads)
                .onNonFinite(NonFinite.PROCEED).build();
    }

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        set = lay(sizes(layout, size), arena, switch (placement) {
            case "separate" -> false;
            case "slab" -> true;
            default -> throw new IllegalArgumentException("placement must be separate or slab, got '" + placement + "'");
        });
        opt = optimizer(set, threads);
        opt.step(1e-4);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        opt.close();
        arena.close();
    }

    @Benchmark
    public StepReport step() {
        return opt.step(3e-4);
    }

    /** Construction of the ParamSet and the optimizer over the layout's existing buffers (closed again after). */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public long build() {
        ParamSet.Builder b = ParamSet.builder();
        set.tensors().forEach(b::add);
        try (AdamW o = optimizer(b.build(), threads)) {
            return o.steps();
        }
    }
}
