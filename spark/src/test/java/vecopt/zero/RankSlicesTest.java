package vecopt.zero;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

class RankSlicesTest {

    /** Every element of every tensor lies in exactly one piece of one rank, at its flat offset; slices are aligned. */
    @Test
    void slicesCoverEveryElementExactlyOnce() {
        Random rnd = new Random(18);
        for (int trial = 0; trial < 40; trial++) {
            List<Tensor> tensors = new ArrayList<>();
            int count = 1 + rnd.nextInt(12);
            for (int t = 0; t < count; t++) { // empty, tiny and longer tensors, each at an offset of its own buffer
                int len = rnd.nextInt(4) == 0 ? rnd.nextInt(3) : 1 + rnd.nextInt(rnd.nextBoolean() ? 40 : 5000);
                int off = rnd.nextInt(20);
                tensors.add(new Tensor("t" + t, Storage.of(new float[off + len]), Storage.of(new float[off + len]),
                        off, len));
            }
            ParamSet set = ParamSet.of(tensors);
            if (set.size() == 0) {
                continue;
            }
            for (int ranks = 1; ranks <= 9; ranks++) {
                check(set, ranks);
            }
        }
        check(new Ranks.Model().set, 3);
        check(new Ranks.Model().set, 1);
    }

    private static void check(ParamSet set, int ranks) {
        RankSlices s = RankSlices.of(set, ranks);
        long n = set.size();
        assertEquals(n, s.total());
        assertEquals(0, s.sliceLength() % RankSlices.ALIGN, "slice length " + s.sliceLength());
        assertTrue(s.paddedTotal() >= n, "padded " + s.paddedTotal() + " < " + n);
        assertTrue(s.paddedTotal() - n < (long) ranks * RankSlices.ALIGN + ranks,
                "padding " + (s.paddedTotal() - n) + " for " + ranks + " ranks");
        int[] hits = new int[(int) n];
        long owned = 0;
        for (int r = 0; r < ranks; r++) {
            long expect = r * s.sliceLength(); // contiguous: each rank's pieces follow one another from its start
            List<RankSlices.Piece> pieces = s.pieces(r);
            long sum = 0;
            for (RankSlices.Piece p : pieces) {
                assertTrue(p.length() > 0);
                assertEquals(expect, p.flatOffset(), "rank " + r + " piece of " + p.tensor().name());
                assertTrue(p.from() >= 0 && p.from() + p.length() <= p.tensor().length());
                int index = set.tensors().indexOf(p.tensor());
                assertEquals(s.flatOffset(index) + p.from(), p.flatOffset());
                for (long k = 0; k < p.length(); k++) {
                    hits[(int) (p.flatOffset() + k)]++;
                }
                expect += p.length();
                sum += p.length();
            }
            assertTrue(sum <= s.sliceLength());
            assertEquals(s.owned(r), sum);
            owned += sum;
        }
        assertEquals(n, owned);
        for (int i = 0; i < n; i++) {
            assertEquals(1, hits[i], "element " + i + " of the flat space, " + ranks + " ranks");
        }
    }

    @Test
    void badArgumentsAreNamed() {
        ParamSet set = new Ranks.Model().set;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RankSlices.of(set, 0));
        assertEquals("ranks must be >= 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RankSlices.of(set, 2).pieces(2));
        assertEquals("rank must be in [0, 2), got 2", e.getMessage());
        ParamSet empty = ParamSet.builder().add("e", Storage.of(new float[4]), Storage.of(new float[4]), 0, 0).build();
        e = assertThrows(IllegalArgumentException.class, () -> RankSlices.of(empty, 2));
        assertTrue(e.getMessage().startsWith("params must hold at least one element"), e.getMessage());
    }
}
