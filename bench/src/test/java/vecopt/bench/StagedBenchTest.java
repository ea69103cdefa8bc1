package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The staged paths compute what the direct kernel computes: staging with the identity conversion gives the direct
 * kernel's bits, and the staged and fused bf16-gradient variants give each other's bits (they widen the same bf16
 * values exactly and then run the same float operations), so the benchmark compares equal work.
 */
class StagedBenchTest {
    private static float[][] after(Consumer<StagedBench> variant) {
        StagedBench b = new StagedBench();
        b.size = 4 * StagedBench.BLOCK;
        b.setUp();
        try {
            variant.accept(b);
            variant.accept(b); // twice: the second step reads state the first one wrote
            float[][] out = new float[4][];
            for (int k = 0; k < 4; k++) {
                out[k] = b.buffers.segment(k).asSlice(0, 4L * b.size).toArray(ValueLayout.JAVA_FLOAT);
            }
            return out;
        } finally {
            b.tearDown();
        }
    }

    private static void assertBits(float[][] a, float[][] b, String what) {
        for (int k : new int[] {0, 2, 3}) { // p, m, v (the fp32 gradient buffer is not read by the bf16 variants)
            for (int i = 0; i < a[k].length; i++) {
                assertEquals(Float.floatToRawIntBits(a[k][i]), Float.floatToRawIntBits(b[k][i]),
                        what + ": stream " + k + " element " + i);
            }
        }
    }

    @Test
    void stagingWithTheIdentityConversionIsTheDirectKernel() {
        assertBits(after(StagedBench::direct), after(StagedBench::stagedF32), "direct vs stagedF32");
    }

    @Test
    void stagedAndFusedBf16GradientsAgreeBitwise() {
        assertBits(after(StagedBench::stagedBf16Grad), after(StagedBench::fusedBf16Grad), "staged vs fused bf16");
    }
}
