package vecopt.examples.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The SIMD loops against the plain scalar fma chain in the same order, bit for bit: the reason the model's numbers do
 * not depend on the vector width. Widths 1..37 cover every tail length of 4-, 8- and 16-lane vectors.
 */
class MatOpsTest {
    @Test
    void linearAndItsGradientsEqualTheScalarFmaChainBitForBit() {
        SplittableRandom rnd = new SplittableRandom(5);
        try (Arena arena = Arena.ofConfined()) {
            for (int n = 1; n <= 37; n++) {
                int rows = 3, in = 5;
                MemorySegment seg = arena.allocate((long) (in * n + n) * Float.BYTES, 64);
                for (long i = 0; i < in * n + n; i++) {
                    seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian());
                }
                float[] x = random(rnd, rows * in);
                float[] y = new float[rows * n];
                MatOps.linear(x, rows, in, seg, 0, (long) in * n, n, y);
                float[] want = new float[rows * n];
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < n; j++) {
                        float acc = seg.getAtIndex(ValueLayout.JAVA_FLOAT, (long) in * n + j);
                        for (int k = 0; k < in; k++) {
                            acc = Math.fma(x[r * in + k], seg.getAtIndex(ValueLayout.JAVA_FLOAT, (long) k * n + j), acc);
                        }
                        want[r * n + j] = acc;
                    }
                }
                assertArrayEquals(want, y, "linear, n = " + n);

                float[] dy = random(rnd, rows * n);
                float[] wt = new float[n * in];
                MatOps.transpose(seg, 0, in, n, wt);
                float[] dx = new float[rows * in];
                MatOps.linearInputGrad(dy, rows, n, wt, in, dx);
                float[] wantDx = new float[rows * in];
                for (int r = 0; r < rows; r++) {
                    for (int k = 0; k < in; k++) {
                        float acc = 0;
                        for (int j = 0; j < n; j++) {
                            acc = Math.fma(dy[r * n + j], seg.getAtIndex(ValueLayout.JAVA_FLOAT, (long) k * n + j), acc);
                        }
                        wantDx[r * in + k] = acc;
                    }
                }
                assertArrayEquals(wantDx, dx, "input gradient, n = " + n);
            }
        }
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }
}
