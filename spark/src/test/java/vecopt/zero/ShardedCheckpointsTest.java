package vecopt.zero;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.checkpoint.CheckpointException;
import vecopt.checkpoint.Extras;
import vecopt.checkpoint.Restored;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * Sharded checkpoints and elastic resume, ranks as threads over the in-process communicator: a run saved by N ranks
 * resumes on N' ranks with the saved state bit for bit, and continues as the uninterrupted run.
 */
class ShardedCheckpointsTest {
    static final int KEEP = 3;

    /** Gradients of rank {@code rank} of {@code ranks}: what a phase of a run feeds each rank. */
    interface PhaseGrads {
        float of(int ranks, int rank, int step, int i);
    }

    /**
     * Rank r of N gets {@code base + delta * (2r - (N - 1))}: the offsets cancel, so the ranks' mean is {@code base}
     * for every N, and exactly (multiples of 2^-10 below 4 in magnitude: every sum, the division by N of a sum that
     * is N times a float, and every square and sum of squares of the norm are exact). Then a sharded run of any N is
     * the single process on {@code base} bit for bit, and so is a run whose N changes between resumes.
     */
    static float balanced(int ranks, int rank, int step, int i) {
        float base = ZeroStepTest.dyadic(0, step, i);
        float delta = ZeroStepTest.dyadic(1, step, i);
        return base + delta * (2 * rank - (ranks - 1));
    }

    /** What one rank ended a phase with: flat parameters, and its slice's master parameters and state, by flat index. */
    record RankEnd(float[] params, long first, float[] master, float[][] state, long optimizerSteps, long[] groupSteps,
                   long skipped, long resumedAt) {
    }

    /**
     * One phase of a run on {@code ranks} threads: resume from {@code dir} (if it holds a save), train to step
     * {@code until}, saving after the steps in {@code saves}.
     */
    static List<RankEnd> phase(Path dir, int ranks, int until, Set<Integer> saves, PhaseGrads grads,
                               Function<ParamSet, Optimizer<?>> optimizer) throws Exception {
        List<InProcessCommunicator> group = InProcessCommunicator.group(ranks, Duration.ofSeconds(60));
        ShardedCheckpoints ckpt = new ShardedCheckpoints(dir, KEEP);
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        try {
            List<Future<RankEnd>> fs = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                int rank = r;
                fs.add(pool.submit(() -> {
                    Ranks.Model m = new Ranks.Model();
                    try (Communicator comm = group.get(rank); ZeroStep zero = ZeroStep.create(m.set, comm, optimizer)) {
                        long start = ckpt.resume(zero).map(Restored::globalStep).orElse(0L);
                        for (int s = (int) start; s < until; s++) {
                            m.setGrads((q, st, i) -> grads.of(ranks, q, st, i), rank, s);
                            zero.step(Ranks.lr(s));
                            if (saves.contains(s + 1)) {
                                ckpt.save(zero, s + 1, Extras.none().withString("note", "saved by " + ranks));
                            }
                        }
                        return end(m, zero, start);
                    }
                }));
            }
            List<RankEnd> out = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                try {
                    out.add(fs.get(r).get());
                } catch (ExecutionException e) {
                    throw new AssertionError("rank " + r + " failed", e.getCause());
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /** A rank's end state: its slice's master parameters and state variables, read through the public views. */
    static RankEnd end(Ranks.Model m, ZeroStep zero, long resumedAt) {
        RankSlices s = zero.slices();
        int rank = zero.comm().rank();
        long first = Math.min(s.total(), rank * s.sliceLength());
        int owned = (int) s.owned(rank);
        Optimizer<?> opt = zero.optimizer();
        List<String> names = opt.stateNames();
        float[] master = new float[owned];
        float[][] state = new float[names.size()][owned];
        for (RankSlices.Piece p : s.pieces(rank)) {
            Tensor t = zero.slice().tensor(p.tensor().name());
            int at = (int) (p.flatOffset() - first);
            for (long k = 0; k < p.length(); k++) {
                master[at + (int) k] = t.params().get(t.offset() + k);
            }
            for (int v = 0; v < names.size(); v++) {
                float[] a = opt.state(t.name(), names.get(v)).toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
                System.arraycopy(a, 0, state[v], at, a.length);
            }
        }
        long[] groupSteps = opt.groups().stream().mapToLong(g -> g.steps()).toArray();
        return new RankEnd(m.flatParams(), first, master, state, opt.steps(), groupSteps, zero.skippedSteps(),
                resumedAt);
    }

    /** The ranks' slices put together: master parameters and state over the whole flat space. */
    static float[][] whole(List<RankEnd> ends) {
        int n = Ranks.total();
        float[][] out = new float[1 + ends.get(0).state().length][n];
        for (RankEnd e : ends) {
            System.arraycopy(e.master(), 0, out[0], (int) e.first(), e.master().length);
            for (int v = 0; v < e.state().length; v++) {
                System.arraycopy(e.state()[v], 0, out[1 + v], (int) e.first(), e.state()[v].length);
            }
        }
        return out;
    }

    /**
     * 2 ranks for 4 steps, 1 rank to step 7 (a NaN skips step 5 everywhere), 3 ranks to step 10, each resuming from
     * the save of the one before: bitwise the single process trained on the ranks' mean for 10 steps without a stop.
     */
    @Test
    void twoThenOneThenThreeRanksAreTheUninterruptedRunBitForBit(@TempDir Path dir) throws Exception {
        PhaseGrads g = (n, r, s, i) -> s == 5 && i == 4_321 ? Float.NaN : balanced(n, r, s, i);
        Function<ParamSet, Optimizer<?>> opt = Ranks.adamw(2.0, 1);
        List<RankEnd> a = phase(dir, 2, 4, Set.of(2, 4), g, opt);
        List<RankEnd> b = phase(dir, 1, 7, Set.of(7), g, opt);
        assertEquals(4, b.get(0).resumedAt(), "the 1-rank phase resumes from the newest save");
        List<RankEnd> c = phase(dir, 3, 10, Set.of(), g, opt);
        for (RankEnd e : c) {
            assertEquals(7, e.resumedAt());
            assertEquals(1, e.skipped(), "the skipped step 5 is remembered across the resume");
            assertEquals(9, e.optimizerSteps(), "10 steps, one skipped");
        }
        assertEquals(2, a.size());

        Ranks.Model m = new Ranks.Model();
        int clipped = 0;
        try (Optimizer<?> single = opt.apply(m.set)) {
            for (int s = 0; s < 10; s++) {
                m.setGrads((q, st, i) -> g.of(1, 0, st, i), 0, s); // one rank: the mean itself
                var r = single.step(Ranks.lr(s));
                clipped += !r.skipped() && r.clipCoef() < 1 ? 1 : 0;
            }
            assertEquals(9, single.steps());
        }
        assertTrue(clipped > 0, "clipping must be active in some step");
        float[] expected = m.flatParams();
        for (int r = 0; r < 3; r++) {
            assertArrayEquals(expected, c.get(r).params(), "parameters of rank " + r + " of 3");
        }
    }

    /**
     * Gradients whose sums round: no N is the single process any more, but the state a run of N' resumes with is the
     * state the run of N saved, bit for bit (master parameters, every state variable, the counters, the model's
     * parameters on every rank), for 2 -> 1, 1 -> 3 and 3 -> 2; and resuming with the same N is the uninterrupted
     * run of that N.
     */
    @Test
    void theResumedStateIsTheSavedStateBitForBitWhateverTheTwoN(@TempDir Path dir) throws Exception {
        PhaseGrads g = (n, r, s, i) -> ZeroStepTest.rough(r, s, i);
        Function<ParamSet, Optimizer<?>> opt = Ranks.adamw(1.0, 1);
        int[] ns = {2, 1, 3, 2};
        List<RankEnd> saved = phase(dir, ns[0], 3, Set.of(3), g, opt);
        for (int k = 1; k < ns.length; k++) {
            int stop = 3 * k; // the next phase resumes here and saves at the step it stops at
            List<RankEnd> resumed = phase(dir, ns[k], stop, Set.of(), g, opt); // resume only: no step taken
            String what = ns[k - 1] + " -> " + ns[k] + " ranks";
            float[][] before = whole(saved), after = whole(resumed);
            for (int v = 0; v < before.length; v++) {
                assertArrayEquals(before[v], after[v], what + (v == 0 ? ": master parameters" : ": state " + v));
            }
            for (RankEnd e : resumed) {
                assertEquals(stop, e.resumedAt(), what);
                assertArrayEquals(saved.get(0).params(), e.params(), what + ": the model's parameters");
                assertEquals(saved.get(0).optimizerSteps(), e.optimizerSteps(), what);
                assertArrayEquals(saved.get(0).groupSteps(), e.groupSteps(), what);
            }
            saved = phase(dir, ns[k], stop + 3, Set.of(stop + 3), g, opt);
        }
        // The same N: 3 steps, save, resume, 3 more = 6 uninterrupted steps of 2 ranks.
        Path other = dir.resolve("sameN");
        phase(other, 2, 3, Set.of(3), g, opt);
        List<RankEnd> resumed = phase(other, 2, 6, Set.of(), g, opt);
        List<RankEnd> straight = phase(dir.resolve("straight"), 2, 6, Set.of(), g, opt);
        assertArrayEquals(straight.get(0).params(), resumed.get(0).params(), "2 ranks, resumed at 3");
        assertArrayEquals(straight.get(1).params(), resumed.get(1).params(), "2 ranks, resumed at 3");
    }

    /**
     * A save is complete only with its manifest: a newer save without one (a run killed mid-save) is ignored, and a
     * newer one with a damaged shard makes every rank fall back to the newest save all of them can use (rank 0, whose
     * own shard of it is sound, included). Older saves beyond {@code keep} are pruned.
     */
    @Test
    void incompleteOrDamagedSavesAreNotUsed(@TempDir Path dir) throws Exception {
        PhaseGrads g = (n, r, s, i) -> ZeroStepTest.rough(r, s, i);
        Function<ParamSet, Optimizer<?>> opt = Ranks.adamw(1.0, 1);
        List<RankEnd> atTwo = phase(dir.resolve("two"), 2, 2, Set.of(), g, opt);
        phase(dir, 2, 4, Set.of(1, 2, 3, 4), g, opt);
        assertEquals(List.of(dir.resolve("step-000000000004"), dir.resolve("step-000000000003"),
                dir.resolve("step-000000000002")), new ShardedCheckpoints(dir, KEEP).complete(),
                "keep = 3: the save at step 1 was pruned");
        // step 4: its manifest gone, as if the run died before rank 0 wrote it
        Files.delete(dir.resolve("step-000000000004").resolve(ShardedCheckpoints.MANIFEST));
        // step 3: rank 1's file damaged, one byte of its data flipped
        Path shard = dir.resolve("step-000000000003").resolve(ShardedCheckpoints.shardName(1, 2));
        byte[] bytes = Files.readAllBytes(shard);
        bytes[bytes.length - 5] ^= 1;
        Files.write(shard, bytes);
        List<RankEnd> resumed = phase(dir, 2, 2, Set.of(), g, opt); // resume only
        for (int r = 0; r < 2; r++) {
            assertEquals(2, resumed.get(r).resumedAt(), "rank " + r);
            assertArrayEquals(atTwo.get(r).params(), resumed.get(r).params(), "rank " + r);
            assertArrayEquals(atTwo.get(r).state()[1], resumed.get(r).state()[1], "rank " + r);
        }
    }

    /** Pieces that leave part of a tensor uncovered are refused naming the tensor and the range, changing nothing. */
    @Test
    void loadPiecesRefusesAGapBeforeChangingAnything(@TempDir Path dir) throws Exception {
        phase(dir, 2, 1, Set.of(1), (n, r, s, i) -> ZeroStepTest.rough(r, s, i), Ranks.adamw(1.0, 1));
        Path save = dir.resolve("step-000000000001");
        ShardedCheckpoints.Manifest m = ShardedCheckpoints.readManifest(save);
        Ranks.Model model = new Ranks.Model();
        try (Communicator comm = InProcessCommunicator.group(1, Duration.ofSeconds(5)).get(0);
             ZeroStep zero = ZeroStep.create(model.set, comm, Ranks.adamw(1.0, 1))) {
            java.util.Map<String, Long> starts = new java.util.HashMap<>();
            for (Tensor t : zero.slice().tensors()) {
                starts.put(t.name(), 0L);
            }
            float[] before = model.flatParams();
            CheckpointException e = assertThrows(CheckpointException.class, () -> vecopt.checkpoint.Checkpoint
                    .loadPieces(List.of(new vecopt.checkpoint.PieceFile(save.resolve(m.files[0]),
                            m.starts(zero.slices(), 0))), zero.optimizer(), starts));
            // rank 0 of 2 held the flat elements [0, 70512): fc1.weight starts at 70001
            assertEquals("tensor 'fc1.weight': elements [511, 30000) are in none of the files", e.getMessage());
            assertEquals(0, zero.optimizer().steps());
            assertArrayEquals(before, end(model, zero, 0).master(), "the shard's parameters are unchanged");
        }
    }

    @Test
    void aSaveOfAnotherModelIsRefusedByName(@TempDir Path dir) throws Exception {
        PhaseGrads g = (n, r, s, i) -> ZeroStepTest.rough(r, s, i);
        phase(dir, 1, 1, Set.of(1), g, Ranks.adamw(1.0, 1));
        Path manifest = dir.resolve("step-000000000001").resolve(ShardedCheckpoints.MANIFEST);
        Files.writeString(manifest, Files.readString(manifest).replace("tensor.2.name=fc1.bias",
                "tensor.2.name=fc9.bias"));
        AssertionError e = assertThrows(AssertionError.class, () -> phase(dir, 1, 1, Set.of(), g, Ranks.adamw(1.0, 1)));
        Throwable cause = e.getCause();
        assertTrue(cause instanceof CheckpointException, String.valueOf(cause));
        assertEquals("step-000000000001/manifest.properties: tensor 2 is 'fc9.bias' of 37 elements in the save,"
                + " 'fc1.bias' of 37 here", cause.getMessage());
        assertFalse(((CheckpointException) cause).damaged());
    }

}
