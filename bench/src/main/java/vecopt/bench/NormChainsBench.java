package vecopt.bench;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A diagnostic, not a peer: the engine's sum-of-squares loop (float to double, fma into double accumulators) with 2
 * accumulators, as the engine has it, against 4 and 8. With 2, the loop runs at the fma latency rather than at the
 * load rate, in cache and, on one core, at DRAM sizes too (fewer loads in flight). Over the same 64 Ki chunks as the
 * engine's grid.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 3, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx8g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class NormChainsBench {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final int CHUNK = 1 << 16;

    @Param({"32768", "67108864"})
    public int size;

    private Buffers buffers;

    @Setup(Level.Trial)
    public void setUp() {
        buffers = Buffers.allocate("offheap", "staggered", size, 1).fill(0, -0.01f, 0.01f, 2);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        buffers.close();
    }

    @Benchmark
    public double chains2() {
        MemorySegment x = buffers.segment(0);
        double s = 0;
        for (long c = 0; c < size; c += CHUNK) {
            int len = (int) Math.min(CHUNK, size - c);
            DoubleVector a0 = DoubleVector.zero(D), a1 = a0;
            for (int i = 0; i + F.length() <= len; i += F.length()) {
                FloatVector f = FloatVector.fromMemorySegment(F, x, (c + i) * Float.BYTES, ORDER);
                DoubleVector d0 = (DoubleVector) f.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector d1 = (DoubleVector) f.convertShape(VectorOperators.F2D, D, 1);
                a0 = d0.fma(d0, a0);
                a1 = d1.fma(d1, a1);
            }
            s += a0.add(a1).reduceLanes(VectorOperators.ADD);
        }
        return s;
    }

    @Benchmark
    public double chains4() {
        MemorySegment x = buffers.segment(0);
        double s = 0;
        final int step = 2 * F.length();
        for (long c = 0; c < size; c += CHUNK) {
            int len = (int) Math.min(CHUNK, size - c);
            DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i + step <= len; i += step) {
                FloatVector f = FloatVector.fromMemorySegment(F, x, (c + i) * Float.BYTES, ORDER);
                FloatVector h = FloatVector.fromMemorySegment(F, x, (c + i + F.length()) * Float.BYTES, ORDER);
                DoubleVector d0 = (DoubleVector) f.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector d1 = (DoubleVector) f.convertShape(VectorOperators.F2D, D, 1);
                DoubleVector d2 = (DoubleVector) h.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector d3 = (DoubleVector) h.convertShape(VectorOperators.F2D, D, 1);
                a0 = d0.fma(d0, a0);
                a1 = d1.fma(d1, a1);
                a2 = d2.fma(d2, a2);
                a3 = d3.fma(d3, a3);
            }
            s += a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        }
        return s;
    }

    @Benchmark
    public double chains8() {
        MemorySegment x = buffers.segment(0);
        double s = 0;
        final int step = 4 * F.length();
        for (long c = 0; c < size; c += CHUNK) {
            int len = (int) Math.min(CHUNK, size - c);
            DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int i = 0; i + step <= len; i += step) {
                long off = (c + i) * Float.BYTES;
                FloatVector f0 = FloatVector.fromMemorySegment(F, x, off, ORDER);
                FloatVector f1 = FloatVector.fromMemorySegment(F, x, off + F.vectorByteSize(), ORDER);
                FloatVector f2 = FloatVector.fromMemorySegment(F, x, off + 2L * F.vectorByteSize(), ORDER);
                FloatVector f3 = FloatVector.fromMemorySegment(F, x, off + 3L * F.vectorByteSize(), ORDER);
                DoubleVector d0 = (DoubleVector) f0.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector d1 = (DoubleVector) f0.convertShape(VectorOperators.F2D, D, 1);
                DoubleVector d2 = (DoubleVector) f1.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector d3 = (DoubleVector) f1.convertShape(VectorOperators.F2D, D, 1);
                DoubleVector d4 = (DoubleVector) f2.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector d5 = (DoubleVector) f2.convertShape(VectorOperators.F2D, D, 1);
                DoubleVector d6 = (DoubleVector) f3.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector d7 = (DoubleVector) f3.convertShape(VectorOperators.F2D, D, 1);
                a0 = d0.fma(d0, a0);
                a1 = d1.fma(d1, a1);
                a2 = d2.fma(d2, a2);
                a3 = d3.fma(d3, a3);
                a4 = d4.fma(d4, a4);
                a5 = d5.fma(d5, a5);
                a6 = d6.fma(d6, a6);
                a7 = d7.fma(d7, a7);
            }
            s += a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).reduceLanes(VectorOperators.ADD);
        }
        return s;
    }
}
