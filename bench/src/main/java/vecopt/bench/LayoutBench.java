package vecopt.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
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
import org.openjdk.jmh.infra.BenchmarkParams;
import vecopt.clip.NonFinite;
import vecopt.exec.ChunkGrid;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

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

    // The native peer's pieces: arrays of pointers and lengths (see NativeKernels.adamPieces).
    private long runs;
    private MemorySegment starts, pp, gp, mp, vp, np;
    private AdamScalars scalars;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        arena = Arena.ofShared();
        set = lay(sizes(layout, size), arena, switch (placement) {
            case "separate" -> false;
            case "slab" -> true;
            default -> throw new IllegalArgumentException("placement must be separate or slab, got '" + placement + "'");
        });
        if (params.getBenchmark().endsWith(".nativeC")) {
            NativeKernels.require();
            NativeKernels.setThreads(threads);
            nativePieces();
            return;
        }
        opt = optimizer(set, threads);
        opt.step(1e-4);
    }

    /**
     * The layout's tensors as the native peer's pieces: cut at the engine's grid ({@link ChunkGrid#CHUNK} floats)
     * and packed into runs of consecutive pieces of at most that many floats (the engine's work items, without its
     * limit on pieces per item); the moments in two slabs sliced as the engine slices its state.
     */
    private void nativePieces() {
        List<long[]> pieces = new ArrayList<>(); // {tensor, offset, length}
        List<Tensor> tensors = set.tensors();
        for (int t = 0; t < tensors.size(); t++) {
            for (long o = 0; o < tensors.get(t).length(); o += ChunkGrid.CHUNK) {
                pieces.add(new long[] {t, o, Math.min(ChunkGrid.CHUNK, tensors.get(t).length() - o)});
            }
        }
        long total = 0;
        for (Tensor t : tensors) {
            total += (t.length() + 15) & ~15L;
        }
        MemorySegment ms = arena.allocate(4 * total, 64), vs = arena.allocate(4 * total, 64);
        Buffers.fill(ms, -0.001f, 0.001f, 3);
        Buffers.fill(vs, 1e-6f, 1e-4f, 4);
        int count = pieces.size();
        pp = arena.allocate(ValueLayout.ADDRESS, count);
        gp = arena.allocate(ValueLayout.ADDRESS, count);
        mp = arena.allocate(ValueLayout.ADDRESS, count);
        vp = arena.allocate(ValueLayout.ADDRESS, count);
        np = arena.allocate(ValueLayout.JAVA_LONG, count);
        List<Long> runStarts = new ArrayList<>();
        long[] stateAt = new long[tensors.size()];
        long at = 0;
        for (int t = 0; t < tensors.size(); t++) {
            stateAt[t] = at;
            at += (tensors.get(t).length() + 15) & ~15L;
        }
        long inRun = 0;
        for (int i = 0; i < count; i++) {
            long[] piece = pieces.get(i);
            Tensor t = tensors.get((int) piece[0]);
            long off = 4 * (t.offset() + piece[1]);
            long stateOff = 4 * (stateAt[(int) piece[0]] + piece[1]);
            if (i == 0 || inRun + piece[2] > ChunkGrid.CHUNK) {
                runStarts.add((long) i);
                inRun = 0;
            }
            inRun += piece[2];
            pp.setAtIndex(ValueLayout.ADDRESS, i, t.params().segment().asSlice(off));
            gp.setAtIndex(ValueLayout.ADDRESS, i, t.grads().segment().asSlice(off));
            mp.setAtIndex(ValueLayout.ADDRESS, i, ms.asSlice(stateOff));
            vp.setAtIndex(ValueLayout.ADDRESS, i, vs.asSlice(stateOff));
            np.setAtIndex(ValueLayout.JAVA_LONG, i, piece[2]);
        }
        runStarts.add((long) count);
        runs = runStarts.size() - 1;
        starts = arena.allocate(ValueLayout.JAVA_LONG, runStarts.size());
        for (int r = 0; r < runStarts.size(); r++) {
            starts.setAtIndex(ValueLayout.JAVA_LONG, r, runStarts.get(r));
        }
        scalars = AdamScalars.of("adamw", 1000);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (opt != null) {
            opt.close();
        }
        arena.close();
    }

    @Benchmark
    public StepReport step() {
        return opt.step(3e-4);
    }

    /**
     * The same layout's AdamW update by the native peer's multi-tensor loop (gcc, {@code -O3 -march=native}, on as
     * many OpenMP threads): the ceiling for this layout, measured in the same run, so the engine's cost per tensor
     * reads against what a C kernel pays for the same pieces.
     */
    @Benchmark
    public void nativeC() {
        NativeKernels.adamPieces(runs, starts, pp, gp, mp, vp, np, scalars);
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
