package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The layouts are what the benchmark says: the same number of parameters each, GPT-2 small's tensor count. */
class LayoutBenchTest {
    @Test
    void gpt2SmallHas148TensorsAnd124MParameters() {
        long[] g = LayoutBench.gpt2Sizes();
        assertEquals(148, g.length);
        assertEquals(124_439_808L, Arrays.stream(g).sum());
    }

    @Test
    void everyLayoutHasExactlySizeParametersInItsNumberOfBuffers() {
        int size = 1 << 24;
        int[][] expected = {{1}, {148}, {10_000}, {100_000}};
        String[] layouts = {"flat", "gpt2", "10k", "100k"};
        for (int i = 0; i < layouts.length; i++) {
            long[] s = LayoutBench.sizes(layouts[i], size);
            assertEquals(expected[i][0], s.length, layouts[i]);
            assertEquals(size, Arrays.stream(s).sum(), layouts[i]);
            assertTrue(Arrays.stream(s).allMatch(x -> x >= 1), layouts[i]);
        }
    }
}
