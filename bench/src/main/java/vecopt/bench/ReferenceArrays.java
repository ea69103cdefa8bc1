package vecopt.bench;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * Plain {@code float[]}s for the scalar reference ({@code vecopt.reference}), which indexes every array with one
 * index and so cannot use the staggered buffers; filled like AdamBench's p, g, m, v, vmax (SGD uses p, g and m). Only the
 * {@code reference} benchmarks take this state, so the others do not pay for the extra memory.
 */
@State(Scope.Thread)
public class ReferenceArrays {
    float[] p, g, s1, s2, s3;
    int n;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        n = Integer.parseInt(params.getParam("size"));
        try (Buffers b = Buffers.allocate("heap", "aliased", n, 5)) {
            b.fill(0, -0.05f, 0.05f, 1).fill(1, -0.01f, 0.01f, 2).fill(2, -0.001f, 0.001f, 3)
                    .fill(3, 1e-6f, 1e-4f, 4).fill(4, 1e-6f, 1e-4f, 5);
            p = b.array(0);
            g = b.array(1);
            s1 = b.array(2);
            s2 = b.array(3);
            s3 = b.array(4);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        p = g = s1 = s2 = s3 = null;
    }
}
