package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The layer-wise ceilings ({@code CeilingBench.larsTraffic} and the others) are only ceilings if each pass really reads
 * and writes the streams it claims: {@code vo_pass_traffic} is held to that here, on 1 and 2 threads, over a length
 * that crosses the C side's chunk of 65536. The values are small integers, so every product and sum is exact in float
 * whatever the order of addition, and the read-only passes' sums are compared exactly.
 */
class PassTrafficTest {
    private static final int N = 2 * 65536 + 37;

    @ParameterizedTest
    @CsvSource({"1, 0", "2, 0", "3, 0", "2, 1", "3, 1", "3, 2", "4, 2"})
    void eachPassReadsAndWritesWhatItClaims(int reads, int writes) {
        if (!NativeKernels.available()) {
            assertNotNull(NativeKernels.unavailableReason());
            return;
        }
        for (int threads : new int[] {1, 2}) {
            float[][] a = new float[4][N];
            for (int i = 0; i < N; i++) {
                a[0][i] = i % 7;
                a[1][i] = i % 5;
                a[2][i] = i % 3;
                a[3][i] = i % 2;
            }
            float[][] want = new float[4][];
            for (int s = 0; s < 4; s++) {
                want[s] = a[s].clone();
            }
            double sum = 0;
            for (int i = 0; i < N; i++) {
                if (writes == 0) { // as pass_range: a0, a0*a1, a0*a1 + a2
                    sum += reads == 1 ? a[0][i] : reads == 2 ? a[0][i] * a[1][i] : a[0][i] * a[1][i] + a[2][i];
                } else {
                    float r = a[reads - 1][i];
                    if (writes == 1) {
                        want[0][i] += reads == 2 ? r : a[1][i] * r;
                    } else {
                        float x = reads == 3 ? r : a[2][i] * r;
                        want[0][i] += x;
                        want[1][i] += x;
                    }
                }
            }
            float[][] got = new float[4][];
            float returned;
            NativeKernels.setThreads(threads);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment[] seg = new MemorySegment[4];
                for (int s = 0; s < 4; s++) {
                    seg[s] = arena.allocate(4L * N, 64);
                    MemorySegment.copy(a[s], 0, seg[s], ValueLayout.JAVA_FLOAT, 0, N);
                }
                returned = NativeKernels.passTraffic(seg[0], seg[1], reads > 2 ? seg[2] : MemorySegment.NULL,
                        reads > 3 ? seg[3] : MemorySegment.NULL, N, reads, writes);
                for (int s = 0; s < 4; s++) {
                    got[s] = seg[s].toArray(ValueLayout.JAVA_FLOAT);
                }
            } finally {
                NativeKernels.setThreads(1);
            }
            for (int s = 0; s < 4; s++) {
                assertArrayEquals(want[s], got[s], "stream a" + s + ", reads " + reads + ", writes " + writes + ", "
                        + threads + " threads");
            }
            assertEquals(writes == 0 ? (float) sum : 0f, returned, "the pass's sum, " + threads + " threads");
        }
    }

    /**
     * {@code vo_update_traffic}, an elementwise optimizer's own ceiling in {@code StepBench.traffic}: p and each of
     * the first {@code states} state arrays take g in (read and written), g is read, the other arrays are untouched.
     */
    @ParameterizedTest
    @CsvSource({"0", "1", "2", "3"})
    void theUpdateTrafficReadsAndWritesPGAndItsStates(int states) {
        if (!NativeKernels.available()) {
            assertNotNull(NativeKernels.unavailableReason());
            return;
        }
        for (int threads : new int[] {1, 2}) {
            float[][] a = new float[5][N];
            for (int i = 0; i < N; i++) {
                for (int s = 0; s < 5; s++) {
                    a[s][i] = (i + s) % (3 + s);
                }
            }
            float[][] want = new float[5][];
            for (int s = 0; s < 5; s++) {
                want[s] = a[s].clone();
            }
            for (int i = 0; i < N; i++) {
                want[0][i] += a[1][i];
                for (int s = 0; s < states; s++) {
                    want[2 + s][i] += a[1][i];
                }
            }
            float[][] got = new float[5][];
            NativeKernels.setThreads(threads);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment[] seg = new MemorySegment[5];
                for (int s = 0; s < 5; s++) {
                    seg[s] = arena.allocate(4L * N, 64);
                    MemorySegment.copy(a[s], 0, seg[s], ValueLayout.JAVA_FLOAT, 0, N);
                }
                NativeKernels.updateTraffic(seg[0], seg[1], seg[2], seg[3], seg[4], N, states);
                for (int s = 0; s < 5; s++) {
                    got[s] = seg[s].toArray(ValueLayout.JAVA_FLOAT);
                }
            } finally {
                NativeKernels.setThreads(1);
            }
            for (int s = 0; s < 5; s++) {
                assertArrayEquals(want[s], got[s], "stream " + s + ", states " + states + ", " + threads + " threads");
            }
        }
    }
}
