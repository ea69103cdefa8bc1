package vecopt.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
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

/**
 * What the kernel layout costs: the engine's fp32 AdamW kernel run the two ways a storage type other than fp32 can
 * reach it, one thread, over one whole array. This is the measurement behind the kernel package's design note.
 *
 * <ul>
 *   <li>{@code direct}: the fp32 kernel on the buffers themselves (what fp32 storage runs; 28 bytes per parameter).
 *   <li>{@code stagedF32}: the same buffers, but block by block (1024 elements) every stream is first copied into
 *       a per-thread scratch block that stays in L1, the fp32 kernel runs on the scratch, and the written streams are
 *       copied back: the staging path with the identity conversion, so its cost over {@code direct} is what the
 *       layout itself costs.
 *   <li>{@code stagedBf16Grad}: gradients stored as bf16 (24 bytes per parameter): the load stage widens them into
 *       the scratch block, the other streams are copied as above, the same fp32 kernel runs.
 *   <li>{@code fusedBf16Grad}: the alternative layout, one hand-written loop per storage combination: AdamW with the
 *       bf16 widening inside the loop (bitwise the same results as {@code stagedBf16Grad}).
 * </ul>
 * The state evolves from step to step as in training; the kernels write to memory the benchmark owns, so nothing can
 * be folded away.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 3, jvmArgsAppend = BenchMain.FORK_HEAP)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class StagedBench {
    private static final Kernels SIMD = KernelProvider.kernels();
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class,
            VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 2)));
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Elements per staged block: 4 fp32 scratch streams of 4 KiB, 16 KiB in all, well inside a 48 KiB L1. */
    static final int BLOCK = 1024;

    @Param({"32768", "67108864"})
    public int size;

    private Arena arena;
    Buffers buffers; // read by the test that holds the four variants to the same bits
    private MemorySegment gradsBf16;
    private Chunk whole;
    private Chunk scratch;
    private MemorySegment sp, sg, sm, sv;
    private AdamScalars step;

    @Setup(Level.Trial)
    public void setUp() {
        if (size % BLOCK != 0) {
            throw new IllegalArgumentException("size must be a multiple of " + BLOCK + ", got " + size);
        }
        buffers = Buffers.allocate("offheap", "staggered", size, 4)
                .fill(0, -0.05f, 0.05f, 1).fill(1, -0.01f, 0.01f, 2).fill(2, -0.001f, 0.001f, 3)
                .fill(3, 1e-6f, 1e-4f, 4);
        arena = Arena.ofShared();
        gradsBf16 = arena.allocate(2L * size, 64);
        for (long i = 0; i < size; i++) { // bf16 = the upper half of the fp32 bits (truncation is fine for test data)
            float g = buffers.segment(1).getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i);
            gradsBf16.setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT, i, (short) (Float.floatToRawIntBits(g) >>> 16));
        }
        whole = new Chunk(buffers.segment(0), buffers.segment(1),
                new MemorySegment[] {buffers.segment(2), buffers.segment(3)}, 0, size, 0, 0);
        sp = arena.allocate(4L * BLOCK, 64);
        sg = arena.allocate(4L * BLOCK, 64);
        sm = arena.allocate(4L * BLOCK, 64);
        sv = arena.allocate(4L * BLOCK, 64);
        scratch = new Chunk(sp, sg, new MemorySegment[] {sm, sv}, 0, BLOCK, 0, 0);
        step = AdamScalars.of("adamw", 1000);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        buffers.close();
        arena.close();
    }

    @Benchmark
    public void direct() {
        SIMD.adam(whole, step.engine, null);
    }

    @Benchmark
    public void stagedF32() {
        staged(false);
    }

    @Benchmark
    public void stagedBf16Grad() {
        staged(true);
    }

    /** Every stream through the scratch block: the gradients copied, or widened from bf16. */
    private void staged(boolean bf16) {
        MemorySegment p = buffers.segment(0), g = buffers.segment(1), m = buffers.segment(2), v = buffers.segment(3);
        final long bytes = 4L * BLOCK;
        for (long off = 0; off < 4L * size; off += bytes) {
            MemorySegment.copy(p, off, sp, 0, bytes);
            if (bf16) {
                widenBf16(gradsBf16, off / 2, sg);
            } else {
                MemorySegment.copy(g, off, sg, 0, bytes);
            }
            MemorySegment.copy(m, off, sm, 0, bytes);
            MemorySegment.copy(v, off, sv, 0, bytes);
            SIMD.adam(scratch, step.engine, null);
            MemorySegment.copy(sp, 0, p, off, bytes);
            MemorySegment.copy(sm, 0, m, off, bytes);
            MemorySegment.copy(sv, 0, v, off, bytes);
        }
    }

    /**
     * Only the converted stream staged: the bf16 gradients are widened into the scratch block, and the fp32 kernel
     * reads them there while it reads and writes p, m and v in place. The kernel addresses every stream at the
     * chunk's start, so the scratch block is seen through a segment whose address is shifted back by the block's
     * offset (the engine would carry a base offset per stream instead; this benchmark allocates that view per
     * block, which the JIT's escape analysis may or may not remove).
     */
    @Benchmark
    public void stagedBf16GradOnly() {
        MemorySegment p = buffers.segment(0), m = buffers.segment(2), v = buffers.segment(3);
        final long bytes = 4L * BLOCK;
        final long scratch = sg.address();
        for (long off = 0; off < 4L * size; off += bytes) {
            widenBf16(gradsBf16, off / 2, sg);
            MemorySegment g = MemorySegment.ofAddress(scratch - off).reinterpret(off + bytes);
            SIMD.adam(new Chunk(p, g, new MemorySegment[] {m, v}, off / 4, BLOCK, 0, 0), step.engine, null);
        }
    }

    /** The load stage of a bf16 stream: BLOCK bf16 values from byte offset {@code from} widened into {@code out}. */
    private static void widenBf16(MemorySegment in, long from, MemorySegment out) {
        for (int i = 0; i < BLOCK; i += F.length()) {
            bf16(in, from + 2L * i).intoMemorySegment(out, 4L * i, ORDER);
        }
    }

    /** bf16 is the upper half of an fp32: widen to int, shift into place, reinterpret (exact). */
    private static FloatVector bf16(MemorySegment in, long off) {
        ShortVector h = ShortVector.fromMemorySegment(H, in, off, ORDER);
        IntVector bits = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    @Benchmark
    public void fusedBf16Grad() {
        final AdamScalars k = step;
        final MemorySegment ps = buffers.segment(0), ms = buffers.segment(2), vs = buffers.segment(3);
        final MemorySegment gs = gradsBf16;
        final FloatVector b1 = FloatVector.broadcast(F, k.beta1), c1 = FloatVector.broadcast(F, k.oneMinusBeta1);
        final FloatVector b2 = FloatVector.broadcast(F, k.beta2), c2 = FloatVector.broadcast(F, k.oneMinusBeta2);
        final FloatVector eps = FloatVector.broadcast(F, k.eps), decay = FloatVector.broadcast(F, k.decay);
        final FloatVector negStep = FloatVector.broadcast(F, k.negStep), invBc2 = FloatVector.broadcast(F, k.invBc2);
        final FloatVector scale = FloatVector.broadcast(F, k.gradScale);
        final int n = size;
        for (int i = 0; i < n; i += F.length()) {
            final long off = 4L * i;
            FloatVector p = FloatVector.fromMemorySegment(F, ps, off, ORDER);
            FloatVector g = bf16(gs, 2L * i).mul(scale);
            FloatVector m = FloatVector.fromMemorySegment(F, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector v = FloatVector.fromMemorySegment(F, vs, off, ORDER).fma(b2, g.mul(c2).mul(g));
            m.intoMemorySegment(ms, off, ORDER);
            v.intoMemorySegment(vs, off, ORDER);
            FloatVector denom = v.lanewise(VectorOperators.SQRT).fma(invBc2, eps);
            m.div(denom).fma(negStep, p.mul(decay)).intoMemorySegment(ps, off, ORDER);
        }
    }
}
