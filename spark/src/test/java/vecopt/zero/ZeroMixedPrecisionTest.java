package vecopt.zero;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;

/**
 * bfloat16 parameters with float32 master weights in the shard: each rank keeps the master of its slice only, the
 * all-gather moves 2-byte parameters, and the gradients (float32 or bfloat16) are reduced in float32.
 */
class ZeroMixedPrecisionTest {
    static final int STEPS = 5;

    /**
     * Multiples of 2^-7 in [-1, 1]: every one is a bfloat16 (at most 8 significant bits), sums of up to 2^16 of them
     * are exact floats, and so are their means over 1, 2 or 4 ranks; their squares (multiples of 2^-14) and the sums
     * of those over the model's 141,003 elements are exact doubles. So no rounding of the reduction can show, and the
     * sharded run must be the single process bit for bit.
     */
    static float bf16Dyadic(int rank, int step, int i) {
        return (float) ((Math.floorMod(ZeroStepTest.hash(rank, step, i), 257L) - 128) * 0x1p-7);
    }

    /** What one sharded run ends with: every rank's model parameters, the gathered masters, the reports. */
    record Run(float[][] params, float[] master, List<ZeroReport> reports, long[] stateBytes, long sliceLength,
               long[] allGatherFloats) {
    }

    /**
     * Against the single-process mixed-precision step (bfloat16 parameters, its float32 master_param, fed the float32
     * mean of the ranks' gradients): the masters and the parameters bit for bit, for 1, 2 and 4 ranks, float32 and
     * bfloat16 gradients, clipping active and a NaN on one rank skipping a step on all.
     */
    @Test
    void bf16ParametersWithMasterAreTheSingleProcessMixedStepBitForBit() throws Exception {
        for (Dtype grads : new Dtype[] {Dtype.FLOAT32, Dtype.BFLOAT16}) {
            for (int ranks : new int[] {1, 2, 4}) {
                Ranks.Grads g = ZeroStepTest.withNaN(ZeroMixedPrecisionTest::bf16Dyadic, ranks - 1, 3, 7);
                Run zero = zero(ranks, grads, g);
                String what = ranks + " ranks, " + grads.torchName() + " gradients";

                Ranks.Model m = new Ranks.Model(Dtype.BFLOAT16, Dtype.FLOAT32);
                float[] master = new float[(int) m.set.size()];
                List<double[]> single = new ArrayList<>();
                try (Optimizer<?> opt = Ranks.adamw(2.0, 1).apply(m.set)) {
                    for (int s = 0; s < STEPS; s++) {
                        int step = s;
                        m.setGrads((r, st, i) -> Ranks.mean(g, ranks, step, i), 0, s);
                        var r = opt.step(Ranks.lr(s));
                        single.add(new double[] {r.skipped() ? 1 : 0, r.gradNorm(), r.clipCoef()});
                    }
                    int at = 0;
                    for (var t : m.set.tensors()) {
                        MemorySegment v = opt.state(t.name(), Optimizer.MASTER);
                        for (long k = 0; k < t.length(); k++) {
                            master[at++] = v.getAtIndex(ValueLayout.JAVA_FLOAT, k);
                        }
                    }
                }
                assertArrayEquals(master, zero.master(), what + ": master weights");
                for (int r = 0; r < ranks; r++) {
                    assertArrayEquals(m.flatParams(), zero.params()[r], what + ": bfloat16 parameters of rank " + r);
                }
                boolean clipped = false;
                for (int s = 0; s < STEPS; s++) {
                    ZeroReport r = zero.reports().get(s);
                    assertEquals(s == 3, r.skipped(), what + ": skipped at step " + s);
                    assertEquals(single.get(s)[0] == 1, r.skipped(), what + ": the single process's skip at " + s);
                    if (!r.skipped()) {
                        assertEquals(single.get(s)[1], r.gradNorm(), what + ": norm at step " + s);
                        assertEquals(single.get(s)[2], r.clipCoef(), what + ": clipping coefficient at step " + s);
                        clipped |= r.clipCoef() < 1;
                    }
                }
                assertTrue(clipped, what + ": clipping must be active in some step");
            }
        }
    }

    /**
     * Per-rank state and what moves. AdamW over bfloat16 parameters keeps exp_avg, exp_avg_sq and master_param,
     * 3 x 4 = 12 bytes per element of the slice (float32 parameters: 8); for 2 and 4 ranks a slice is
     * ceil(141,003 / N) rounded up to a multiple of 16 elements: 70,512 and 35,264, so 846,144 and 423,168 bytes per
     * rank, against 12 x 141,003 = 1,692,036 for the parameters themselves in one process. The parameters' all-gather
     * moves N x slice bfloat16 values: N x slice / 2 32-bit words (2 bytes per parameter).
     */
    @Test
    void eachRankKeepsTheMasterOfItsSliceOnlyAndTheAllGatherMovesTwoBytesPerParameter() throws Exception {
        long[] expectedSlice = {70_512, 35_264};
        int[] rankCounts = {2, 4};
        for (int c = 0; c < rankCounts.length; c++) {
            int ranks = rankCounts[c];
            Run run = zero(ranks, Dtype.BFLOAT16, ZeroMixedPrecisionTest::bf16Dyadic);
            assertEquals(expectedSlice[c], run.sliceLength(), ranks + " ranks: slice length");
            for (int r = 0; r < ranks; r++) {
                assertEquals(12 * expectedSlice[c], run.stateBytes()[r], ranks + " ranks: state bytes of rank " + r);
                assertEquals(ranks * expectedSlice[c] / 2, run.allGatherFloats()[r],
                        ranks + " ranks: 32-bit words all-gathered into rank " + r + " per step");
            }
            System.out.printf("bf16 parameters + float32 master, %d ranks: %,d bytes of state per rank (12 bytes x"
                    + " %,d parameters: %,d), all-gather %,d bytes per rank per step%n", ranks, run.stateBytes()[0],
                    Ranks.total(), 12L * Ranks.total(), run.allGatherFloats()[0] * 4);
        }
    }

    @Test
    void parametersOfMixedTypesAndStochasticRoundingAreRefusedByName() {
        List<InProcessCommunicator> group = InProcessCommunicator.group(1, Duration.ofSeconds(5));
        Storage p32 = Storage.of(new float[64]), g32 = Storage.of(new float[64]);
        Storage p16 = Storage.of(new short[64], Dtype.BFLOAT16), g16 = Storage.of(new float[64]);
        ParamSet mixed = ParamSet.builder().add("a", p32, g32, 0, 64).add("b", p16, g16, 0, 64).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ZeroStep.create(mixed, group.get(0), s -> AdamW.builder(s).build()));
        assertEquals("every tensor's parameters must be of one type for sharding: a is float32, b is bfloat16",
                e.getMessage());
        ParamSet bf16 = ParamSet.builder().add("b", p16, g16, 0, 64).build();
        e = assertThrows(IllegalArgumentException.class,
                () -> ZeroStep.create(bf16, group.get(0), s -> AdamW.builder(s).stochasticRounding(7).build()));
        assertTrue(e.getMessage().startsWith("optimizer must keep a float32 master copy (master_param) of the"
                + " bfloat16 parameters: stochasticRounding is not supported"), e.getMessage());
    }

    /** Trains {@code STEPS} sharded steps with bfloat16 parameters and gradients of type {@code grads}. */
    static Run zero(int ranks, Dtype grads, Ranks.Grads g) throws Exception {
        List<InProcessCommunicator> group = InProcessCommunicator.group(ranks, Duration.ofSeconds(60));
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        try {
            List<Future<Object[]>> futures = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    Ranks.Model m = new Ranks.Model(Dtype.BFLOAT16, grads);
                    List<ZeroReport> reports = new ArrayList<>();
                    long[] gathered = new long[1];
                    try (Communicator comm = new Counting(group.get(rank), gathered);
                         ZeroStep zero = ZeroStep.create(m.set, comm, Ranks.adamw(2.0, 1))) {
                        for (int s = 0; s < STEPS; s++) {
                            m.setGrads(g, rank, s);
                            gathered[0] = 0;
                            reports.add(zero.step(Ranks.lr(s)).copy());
                        }
                        float[] master = new float[(int) m.set.size()];
                        for (RankSlices.Piece p : zero.slices().pieces(rank)) {
                            MemorySegment v = zero.optimizer().state(p.tensor().name(), Optimizer.MASTER);
                            for (long k = 0; k < p.length(); k++) {
                                master[(int) (p.flatOffset() + k)] = v.getAtIndex(ValueLayout.JAVA_FLOAT, k);
                            }
                        }
                        return new Object[] {m.flatParams(), master, reports, zero.stateBytes(),
                                zero.slices().sliceLength(), gathered[0]};
                    }
                }));
            }
            float[][] params = new float[ranks][];
            float[] master = null;
            List<ZeroReport> reports = null;
            long[] bytes = new long[ranks], gathered = new long[ranks];
            long slice = 0;
            for (int r = 0; r < ranks; r++) {
                Object[] o = futures.get(r).get();
                params[r] = (float[]) o[0];
                float[] mine = (float[]) o[1];
                if (master == null) {
                    master = mine;
                } else {
                    for (RankSlices.Piece p : RankSlices.of(new Ranks.Model().set, ranks).pieces(r)) {
                        System.arraycopy(mine, (int) p.flatOffset(), master, (int) p.flatOffset(), (int) p.length());
                    }
                }
                @SuppressWarnings("unchecked")
                List<ZeroReport> rep = (List<ZeroReport>) o[2];
                reports = r == 0 ? rep : reports;
                bytes[r] = (long) o[3];
                slice = (long) o[4];
                gathered[r] = (long) o[5];
            }
            return new Run(params, master, reports, bytes, slice, gathered);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Counts the 32-bit words the float all-gather writes into this rank per step (the parameters' exchange). */
    private record Counting(Communicator inner, long[] gathered) implements Communicator {
        public int rank() { return inner.rank(); }
        public int size() { return inner.size(); }
        public Duration timeout() { return inner.timeout(); }
        public void reduceScatter(MemorySegment s, MemorySegment r, long c) { inner.reduceScatter(s, r, c); }
        public void allGather(MemorySegment s, MemorySegment r, long c) {
            gathered[0] += size() * c;
            inner.allGather(s, r, c);
        }
        public void allGather(double[] s, double[] r) { inner.allGather(s, r); }
        public void barrier() { inner.barrier(); }
        public void close() { inner.close(); }
    }
}
