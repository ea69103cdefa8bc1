package vecopt.examples.train;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The dense loops of the model's forward and backward pass, all in "axpy" form: every output float is one chain of
 * {@code fma}s over the reduction index, in increasing order. SIMD only spreads independent output elements over
 * lanes (and the scalar tail does the same {@code Math.fma}), so every result is bitwise the same for any vector
 * width, with or without SIMD, and in any thread: the model is deterministic by construction, not by luck.
 *
 * <p>Matrices are row-major; weights live in a {@link MemorySegment} (the off-heap parameter and gradient shards),
 * activations in heap arrays. Offsets into segments are in floats.
 */
final class MatOps {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    private MatOps() {
    }

    /**
     * {@code y[r][0..n) = bias + sum_k x[r][k] * w[k][0..n)} for {@code rows} rows; {@code w} is {@code [in][n]} at
     * float offset {@code wOff} of {@code seg}, the bias {@code [n]} at {@code bOff}.
     */
    static void linear(float[] x, int rows, int in, MemorySegment seg, long wOff, long bOff, int n, float[] y) {
        int bound = S.loopBound(n);
        for (int r = 0; r < rows; r++) {
            int yRow = r * n;
            MemorySegment.copy(seg, JAVA_FLOAT, bOff * Float.BYTES, y, yRow, n);
            int xRow = r * in;
            for (int k = 0; k < in; k++) {
                float a = x[xRow + k];
                long wRow = (wOff + (long) k * n) * Float.BYTES;
                FloatVector av = FloatVector.broadcast(S, a);
                int j = 0;
                for (; j < bound; j += S.length()) {
                    FloatVector w = FloatVector.fromMemorySegment(S, seg, wRow + (long) j * Float.BYTES, NATIVE);
                    av.fma(w, FloatVector.fromArray(S, y, yRow + j)).intoArray(y, yRow + j);
                }
                for (; j < n; j++) {
                    y[yRow + j] = Math.fma(a, seg.getAtIndex(JAVA_FLOAT,
                            wOff + (long) k * n + j), y[yRow + j]);
                }
            }
        }
    }

    /**
     * Weight and bias gradients of {@link #linear}: {@code gw[k][j] = sum_r x[r][k] * dy[r][j]} and
     * {@code gb[j] = sum_r dy[r][j]}, written (not accumulated) at {@code wOff}/{@code bOff} of {@code grad};
     * {@code row} is scratch of at least {@code n} floats.
     */
    static void linearGrads(float[] x, float[] dy, int rows, int in, int n, MemorySegment grad, long wOff, long bOff,
                            float[] row) {
        for (int k = 0; k < in; k++) {
            Arrays.fill(row, 0, n, 0f);
            for (int r = 0; r < rows; r++) {
                axpy(x[r * in + k], dy, r * n, row, 0, n);
            }
            MemorySegment.copy(row, 0, grad, JAVA_FLOAT, (wOff + (long) k * n) * Float.BYTES, n);
        }
        Arrays.fill(row, 0, n, 0f);
        for (int r = 0; r < rows; r++) {
            axpy(1f, dy, r * n, row, 0, n);
        }
        MemorySegment.copy(row, 0, grad, JAVA_FLOAT, bOff * Float.BYTES, n);
    }

    /**
     * Input gradient of {@link #linear}: {@code dx[r][k] = sum_j dy[r][j] * w[k][j]}, computed as axpys over the
     * transposed weight {@code wt} ({@code [n][in]}, see {@link #transpose}) so that it too is a fixed fma chain.
     */
    static void linearInputGrad(float[] dy, int rows, int n, float[] wt, int in, float[] dx) {
        Arrays.fill(dx, 0, rows * in, 0f);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < n; j++) {
                axpy(dy[r * n + j], wt, j * in, dx, r * in, in);
            }
        }
    }

    /** {@code wt[j][k] = w[k][j]} for the {@code [in][n]} matrix at float offset {@code wOff} of {@code seg}. */
    static void transpose(MemorySegment seg, long wOff, int in, int n, float[] wt) {
        for (int k = 0; k < in; k++) {
            long row = wOff + (long) k * n;
            for (int j = 0; j < n; j++) {
                wt[j * in + k] = seg.getAtIndex(JAVA_FLOAT, row + j);
            }
        }
    }

    /** {@code y[yOff + i] = fma(a, x[xOff + i], y[yOff + i])} for {@code i < n}. */
    static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector av = FloatVector.broadcast(S, a);
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += S.length()) {
            av.fma(FloatVector.fromArray(S, x, xOff + i), FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] = Math.fma(a, x[xOff + i], y[yOff + i]);
        }
    }
}
