package vecopt.zero;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;

/** The sharded step against itself and against the single-process optimizer, ranks as threads. */
class ZeroStepTest {
    static final int STEPS = 5;

    /** A well-mixed 64-bit hash of the rank, step and element (SplitMix64's finalizer). */
    static long hash(int rank, int step, int i) {
        long z = rank * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + i * 0x94D049BB133111EBL + 18;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Multiples of 2^-10 in [-1, 1]: sums of up to 2^13 of them, and their means over 2 or 4 ranks, are exact floats. */
    static float dyadic(int rank, int step, int i) {
        return (float) ((Math.floorMod(hash(rank, step, i), 2049L) - 1024) * 0x1p-10);
    }

    /** Full-precision floats of magnitudes 2^-8 to 2^3, both signs: their sums round. */
    static float rough(int rank, int step, int i) {
        long h = hash(rank, step, i);
        double u = ((h >>> 11) * 0x1p-53) * 2 - 1;
        return (float) (u * Math.scalb(1.0, (int) Math.floorMod(h, 12L) - 8));
    }

    /** With a NaN planted on rank {@code rank} at step {@code step}, element {@code i}. */
    static Ranks.Grads withNaN(Ranks.Grads g, int rank, int step, int i) {
        return (r, s, k) -> r == rank && s == step && k == i ? Float.NaN : g.of(r, s, k);
    }

    @Test
    void oneRankIsTheSingleProcessOptimizerBitForBit() throws Exception {
        // Clipping active (the norms here are ~600), and a NaN at step 2: skipped by both. Twelve steps, because
        // a norm summed over chunks cut elsewhere differs in its last bit in about 40% of the steps (measured).
        int steps = 12;
        Ranks.Grads g = withNaN(ZeroStepTest::rough, 0, 2, 12_345);
        var zero = Ranks.zero(1, steps, g, Ranks.adamw(0.5, 2));
        List<double[]> single = new ArrayList<>();
        float[] expected = Ranks.single(1, steps, g, Ranks.adamw(0.5, 2), single);
        assertArrayEquals(expected, zero.params()[0]);
        for (int s = 0; s < steps; s++) {
            ZeroReport r = zero.reports().get(0).get(s);
            assertEquals(single.get(s)[0] == 1, r.skipped(), "skipped at step " + s);
            assertEquals(Double.doubleToRawLongBits(single.get(s)[1]), Double.doubleToRawLongBits(r.gradNorm()),
                    "norm at step " + s);
            if (!r.skipped()) {
                assertEquals(single.get(s)[2], r.clipCoef(), "clipping coefficient at step " + s);
                assertTrue(r.clipCoef() < 1, "clipping must be active for this test, coefficient " + r.clipCoef());
            }
        }
        assertTrue(zero.reports().get(0).get(2).skipped());
    }

    /**
     * Gradients whose sums over the ranks, and whose squares and their sums, are exact: then the reduction's order
     * cannot matter and the sharded run must be the single process on the mean bit for bit, clipping, groups and a
     * NaN on one rank (in a slice another rank owns) included.
     */
    @Test
    void exactGradientsGiveTheSingleProcessBitForBit() throws Exception {
        for (int ranks : new int[] {2, 4}) {
            Ranks.Grads g = withNaN(ZeroStepTest::dyadic, ranks - 1, 3, 7); // element 7: in rank 0's slice
            var zero = Ranks.zero(ranks, STEPS, g, Ranks.adamw(2.0, 1));
            zero.assertRanksAgree();
            List<double[]> single = new ArrayList<>();
            float[] expected = Ranks.single(ranks, STEPS, g, Ranks.adamw(2.0, 1), single);
            assertArrayEquals(expected, zero.params()[0], ranks + " ranks");
            boolean clipped = false;
            for (int s = 0; s < STEPS; s++) {
                ZeroReport r = zero.reports().get(0).get(s);
                assertEquals(single.get(s)[0] == 1, r.skipped(), "skipped at step " + s);
                assertEquals(s == 3, r.skipped(), "step " + s);
                if (!r.skipped()) {
                    assertEquals(single.get(s)[1], r.gradNorm(), "norm at step " + s);
                    clipped |= r.clipCoef() < 1;
                }
            }
            assertTrue(clipped, "clipping must be active in some step");
        }
    }

    @Test
    void aFixedNumberOfRanksIsBitwiseReproducible() throws Exception {
        var a = Ranks.zero(3, STEPS, ZeroStepTest::rough, Ranks.adamw(1.0, 1));
        var b = Ranks.zero(3, STEPS, ZeroStepTest::rough, Ranks.adamw(1.0, 2)); // other pool sizes, other timing
        a.assertRanksAgree();
        b.assertRanksAgree();
        assertArrayEquals(a.params()[0], b.params()[0]);
        for (int s = 0; s < STEPS; s++) {
            assertEquals(a.reports().get(0).get(s).gradNorm(), b.reports().get(0).get(s).gradNorm());
        }
    }

    /**
     * Partial sums of wildly different sizes (rank 1's slice ~2^50 times the others'): the order they are added in
     * then decides the last bits of the norm, and every rank must still see the same bits, hence the same clipping
     * coefficient and the same parameters.
     */
    @Test
    void everyRankSeesTheSameNormBitsWhateverThePartialSums() throws Exception {
        long slice = RankSlices.of(new Ranks.Model().set, 3).sliceLength();
        Ranks.Grads g = (r, s, i) -> rough(r, s, i) * (i >= slice && i < 2 * slice ? 1f : 0x1p-25f);
        var run = Ranks.zero(3, 8, g, Ranks.adamw(1e-3, 1));
        run.assertRanksAgree();
        for (ZeroReport r : run.reports().get(0)) {
            assertTrue(r.clipCoef() < 1, "clipping must be active: " + r);
        }
    }

    /** A rank that dies mid-training fails its peers' next step at once, with the reason, instead of hanging it. */
    @Test
    void aDeadRankFailsThePeersStepInsteadOfHangingIt() throws Exception {
        var group = InProcessCommunicator.group(2, java.time.Duration.ofSeconds(60));
        long[] failedAfterMs = new long[1];
        List<Throwable> errors = InProcessCommunicatorTest.onRanks(group, comm -> {
            Ranks.Model m = new Ranks.Model();
            try (ZeroStep zero = ZeroStep.create(m.set, comm, Ranks.adamw(1.0, 1))) {
                for (int s = 0; s < 3; s++) {
                    m.setGrads(ZeroStepTest::rough, comm.rank(), s);
                    if (comm.rank() == 1 && s == 2) {
                        comm.close(); // dies before its third step
                        return;
                    }
                    long t0 = System.nanoTime();
                    try {
                        zero.step(Ranks.lr(s));
                    } finally {
                        failedAfterMs[0] = (System.nanoTime() - t0) / 1_000_000;
                    }
                }
            }
        });
        assertEquals(null, errors.get(1));
        assertTrue(errors.get(0) instanceof CommunicatorException, String.valueOf(errors.get(0)));
        // Rank 1 may leave before or while rank 0 waits: "the group is broken (...)" or "the group broke while
        // waiting (...)", both with the reason.
        String message = errors.get(0).getMessage();
        assertTrue(message.startsWith("reduceScatter on rank 0: the group broke")
                || message.startsWith("reduceScatter on rank 0: the group is broken"), message);
        assertTrue(message.endsWith("(rank 1 closed its communicator)"), message);
        assertTrue(failedAfterMs[0] < 30_000, "the step failed only after " + failedAfterMs[0] + " ms");
    }

    @Test
    void stateIsHeldForTheSliceOnly() throws Exception {
        var run = Ranks.zero(4, 1, ZeroStepTest::rough, Ranks.adamw(0, 1));
        long single;
        try (Optimizer<?> opt = Ranks.adamw(0, 1).apply(new Ranks.Model().set)) {
            single = 0;
            for (var b : opt.params().paramBuffers()) {
                single += opt.stateNames().size() * b.length() * Float.BYTES;
            }
        }
        RankSlices slices = RankSlices.of(new Ranks.Model().set, 4);
        long sum = 0;
        for (int r = 0; r < 4; r++) {
            long bytes = run.stateBytes()[r];
            // Two moments of the slice, exactly, whatever the model's layout (here fc1.bias lies after fc2.weight in
            // memory, and rank 2's slice holds both).
            assertEquals(2L * Float.BYTES * slices.sliceLength(), bytes, "rank " + r);
            sum += bytes;
            System.out.printf("rank %d of 4: state %,d bytes (single process %,d)%n", r, bytes, single);
        }
        assertTrue(sum <= single, "4 ranks hold " + sum + " bytes of state, one process " + single);
    }

    @Test
    void aBadLearningRateIsRefusedBeforeAnythingIsSent() throws Exception {
        var group = InProcessCommunicator.group(1, java.time.Duration.ofSeconds(5));
        Ranks.Model m = new Ranks.Model();
        float[] before = m.flatParams();
        try (ZeroStep zero = ZeroStep.create(m.set, group.get(0), Ranks.adamw(0, 1))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> zero.step(Double.NaN));
            assertEquals("lr must be finite and >= 0, got NaN", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> zero.step(-1));
            assertEquals("lr must be finite and >= 0, got -1.0", e.getMessage());
            assertEquals(0, zero.optimizer().steps());
        }
        assertArrayEquals(before, m.flatParams());
    }

    /** LAMB and LARS need whole tensors' norms, which a rank's slices are not: refused by name, not run wrongly. */
    @Test
    void layerwiseOptimizersAreRefused() {
        var group = InProcessCommunicator.group(1, java.time.Duration.ofSeconds(5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ZeroStep.create(new Ranks.Model().set, group.get(0), slice -> vecopt.optim.Lamb.builder(slice)
                        .threads(1).build()));
        assertTrue(e.getMessage().startsWith("Lamb scales each tensor by its norms"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ZeroStep.create(new Ranks.Model().set, group.get(0), slice -> vecopt.optim.Lars.builder(slice)
                        .threads(1).build()));
        assertTrue(e.getMessage().contains("ZeRO sharding does not support it"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, // Adafactor: per-tensor RMS and row and column means
                () -> ZeroStep.create(new Ranks.Model().set, group.get(0), slice -> vecopt.optim.Adafactor
                        .builder(slice).threads(1).build()));
        assertTrue(e.getMessage().startsWith("Adafactor") && e.getMessage().contains("ZeRO sharding does not support"),
                e.getMessage());
    }

    @Test
    void anOptimizerOverAnotherSetIsRefused() {
        var group = InProcessCommunicator.group(1, java.time.Duration.ofSeconds(5));
        ParamSet other = new Ranks.Model().set;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ZeroStep.create(new Ranks.Model().set, group.get(0), slice -> Ranks.adamw(0, 1).apply(other)));
        assertTrue(e.getMessage().startsWith("optimizer must build an optimizer over the ParamSet it is given"),
                e.getMessage());
    }

    @Test
    void tooManyRanksForTheModelAreRefusedNamingTheRank() {
        var group = InProcessCommunicator.group(3, java.time.Duration.ofSeconds(5));
        ParamSet tiny = ParamSet.builder().add("w", vecopt.memory.Storage.of(new float[20]),
                vecopt.memory.Storage.of(new float[20]), 0, 20).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ZeroStep.create(tiny, group.get(2), Ranks.adamw(0, 1)));
        assertEquals("rank 2 of 3 would own no element of 20 (slices of 16): use at most 2 ranks for this model,"
                + " fewer in practice", e.getMessage());
    }
}
