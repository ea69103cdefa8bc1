package vecopt.djl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.optim.Optimizer;
import vecopt.optim.ScheduleFreeAdamW;
import vecopt.param.ParamSet;

/**
 * Schedule-free AdamW in the training run, on small transformers: the train/eval calls around every evaluation, a
 * mid-run checkpoint saved in eval mode and resumed bitwise (at an evaluation step and between two), the
 * command's flags and its output end to end.
 */
class ScheduleFreeRunTest {
    @TempDir
    Path dir;

    /** ResumeTest's model: 128 sequences in batches of 8, evaluations every 10 of 30 steps. */
    private static TrainConfig config(double lr) {
        return new TrainConfig(32, 32, 64, 4, 2, 30, 8, lr, 11, 1, 10, 128, 64);
    }

    private static MarkovTask.Split data(TrainConfig cfg) {
        return cfg.task().generate(cfg.trainCount(), cfg.heldOutCount(), cfg.context(), cfg.seed());
    }

    /** A {@link ScheduleFree} that records its calls and the optimizer's mode after each. */
    private static final class Recording implements OptimizerSetup {
        final ScheduleFree inner;
        final List<String> events = new ArrayList<>();
        ScheduleFreeAdamW built;

        Recording(long warmupSteps) {
            inner = new ScheduleFree("recording", warmupSteps);
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public Optimizer<?> build(ParamSet params, double clipNorm, int threads) {
            built = (ScheduleFreeAdamW) inner.build(params, clipNorm, threads);
            events.add("build:" + mode());
            return built;
        }

        @Override
        public void beforeEvaluation(Optimizer<?> o) {
            inner.beforeEvaluation(o);
            events.add("eval:" + mode());
        }

        @Override
        public void afterEvaluation(Optimizer<?> o) {
            inner.afterEvaluation(o);
            events.add("train:" + mode());
        }

        private String mode() {
            return built.trainMode() ? "y" : "x";
        }
    }

    /**
     * 30 steps, evaluations at 0, 10, 20 and 30. At 0 no optimizer is bound (the first step builds it, in train
     * mode, as the original's examples call optimizer.train() before training); at 10 and 20 eval() then train();
     * the final one eval() alone, so the run ends at x, the evaluated parameters. A step in eval mode would have
     * thrown (ScheduleFreeAdamW refuses it), so every step ran at y.
     */
    @Test
    void everyEvaluationIsAtXAndEveryStepAtY() {
        TrainConfig cfg = config(1e-2);
        Recording setup = new Recording(3);
        RunLog log = TrainingRun.run(cfg, ScheduleFree.recipe("sf", true), setup, data(cfg),
                TrainingRun.Listener.SILENT);
        assertEquals(List.of("build:y", "eval:x", "train:y", "eval:x", "train:y", "eval:x"), setup.events);
        assertFalse(setup.built.trainMode(), "the run ends in eval mode");
        assertEquals(4, log.heldOutLoss().length);
        assertTrue(Double.isFinite(log.finalHeldOutLoss()) && log.finalHeldOutLoss() < Math.log(cfg.vocab()),
                "it learns something: " + log);
        // the lr handed to every step is the peak: the warmup is the optimizer's own (warmup_steps), not the schedule's
        for (double lr : log.lr) {
            assertEquals(cfg.peakLr(), lr);
        }
        assertEquals(3, setup.built.groups().get(0).options().warmupSteps());
    }

    /**
     * A run saving at its evaluation steps (every 10) makes the same calls as one that saves nothing, so it is
     * bitwise that run; resumed from its checkpoint at 20 (saved in eval mode: x, z, v), it ends bitwise where it
     * ended, with the same history. The held-out loss at step 20 of the resumed run is measured on the parameters
     * loaded from the file, x: equal to the uninterrupted run's only if that one measured x too.
     */
    @Test
    void aCheckpointSavedInEvalModeResumesBitwise() throws Exception {
        TrainConfig cfg = config(1e-2);
        MarkovTask.Split data = data(cfg);
        Recipe recipe = ScheduleFree.recipe("sf", true);
        ScheduleFree setup = new ScheduleFree("sf", recipe.warmupSteps(cfg.steps()));
        RunLog whole = TrainingRun.run(cfg, recipe, setup, data, TrainingRun.Listener.SILENT);
        RunLog saving = TrainingRun.run(cfg, recipe, setup, data, TrainingRun.Listener.SILENT,
                new RunCheckpoints(10, dir, null));
        assertArrayEquals(bits(whole.finalParams()), bits(saving.finalParams()),
                "saving inside the evaluation window changes nothing");
        Path at20 = dir.resolve(recipe.name()).resolve("checkpoint-000000000020.safetensors");
        assertTrue(Files.exists(at20), "checkpoint at step 20 was written");
        RunLog resumed = TrainingRun.run(cfg, recipe, setup, data, TrainingRun.Listener.SILENT,
                new RunCheckpoints(0, dir, at20));
        assertArrayEquals(bits(whole.finalParams()), bits(resumed.finalParams()));
        assertArrayEquals(whole.trainLoss(), resumed.trainLoss());
        assertArrayEquals(whole.heldOutLoss(), resumed.heldOutLoss());
    }

    /**
     * A checkpoint between two evaluations (every 15, evaluations every 10): the saving run leaves train mode for
     * the save and comes back; the resumed run (loaded in eval mode) must return to train mode before its first step
     * and then continue bitwise the saving run.
     */
    @Test
    void aCheckpointBetweenEvaluationsResumesBitwise() throws Exception {
        TrainConfig cfg = config(1e-2);
        MarkovTask.Split data = data(cfg);
        Recipe recipe = ScheduleFree.recipe("sf", false);
        ScheduleFree setup = new ScheduleFree("sf", 0);
        RunLog saving = TrainingRun.run(cfg, recipe, setup, data, TrainingRun.Listener.SILENT,
                new RunCheckpoints(15, dir, null));
        Path at15 = dir.resolve(recipe.name()).resolve("checkpoint-000000000015.safetensors");
        assertTrue(Files.exists(at15), "checkpoint at step 15 was written");
        RunLog resumed = TrainingRun.run(cfg, recipe, setup, data, TrainingRun.Listener.SILENT,
                new RunCheckpoints(0, dir, at15));
        assertArrayEquals(bits(saving.finalParams()), bits(resumed.finalParams()));
        assertArrayEquals(saving.trainLoss(), resumed.trainLoss());
        assertArrayEquals(saving.heldOutLoss(), resumed.heldOutLoss());
    }

    @Test
    void lrsAreCheckedNamingTheFlagAndTheValue() {
        assertEquals(ScheduleFree.LRS, ScheduleFreeMain.lrs(ComparisonFlags.parse(Set.of("--lrs"))));
        assertEquals(List.of(0.01, 0.02), ScheduleFreeMain.lrs(ComparisonFlags.parse(Set.of("--lrs"),
                "--lrs", "0.01, 0.02")));
        for (String bad : new String[] {"abc", "0", "-0.01", "Infinity", "NaN", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ScheduleFreeMain.lrs(ComparisonFlags.parse(Set.of("--lrs"), "--lrs", bad + ",0.01")));
            assertTrue(e.getMessage().startsWith("--lrs ") && e.getMessage().contains("'" + bad + "'"),
                    e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ScheduleFree("sf", -1));
        assertTrue(e.getMessage().contains("warmupSteps") && e.getMessage().contains("-1"), e.getMessage());
    }

    /**
     * The command on a tiny model (4 steps, evaluations every 1 step: steps / 20 rounded up to 1): AdamW's run,
     * two schedule-free lrs, schedule-free without warmup at the better of them, the resume from step 2 bitwise,
     * and the caption saying where schedule-free is measured.
     */
    @Test
    void theCommandComparesResumesAndSaysWhereItMeasures() throws Exception {
        ComparisonFlags flags = ComparisonFlags.parse(Set.of("--lrs", "--no-resume-check!"), "--steps", "4",
                "--progress", "none", "--width", "16", "--layers", "1", "--heads", "2", "--context", "8");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        List<ScheduleFreeMain.Run> runs = ScheduleFreeMain.run(flags, List.of(0.01, 0.02), dir, dir.resolve("ckpt"),
                new PrintStream(printed, true, StandardCharsets.UTF_8));
        String table = Files.readString(dir.resolve("summary.md"));
        assertEquals(table, printed.toString(StandardCharsets.UTF_8).substring(0, table.length()));
        assertTrue(table.contains("measured at x, its averaged iterate: eval mode"), table);
        assertEquals(List.of("adamw warmup+cosine", "schedule-free lr 0.0100", "schedule-free lr 0.0200",
                "schedule-free lr " + LargeBatchMain.number(runs.get(3).lr()) + " no-warmup"),
                runs.stream().map(r -> r.log().recipe.name()).toList());
        double better = runs.get(1).log().finalHeldOutLoss() <= runs.get(2).log().finalHeldOutLoss() ? 0.01 : 0.02;
        assertEquals(better, runs.get(3).lr(), "no warmup at the sweep's best lr");
        assertTrue(table.contains("| adamw warmup+cosine | AdamW | 0.00600 | cosine to 0 | 0 | 4 |"), table);
        assertTrue(table.contains("| schedule-free lr 0.0100 | schedule-free AdamW | 0.0100 | none (constant lr) |"),
                table);
        assertTrue(table.contains("from its checkpoint after step 2 (saved in eval mode, parameters x): all of"),
                table);
        assertTrue(table.contains("held-out losses identical"), table);
        assertTrue(Files.size(dir.resolve("schedule-free.png")) > 0);
        assertTrue(Files.readString(dir.resolve("runs.csv")).startsWith(
                "recipe,step,lr,train_loss,grad_norm,clip_coef,skipped,update_ratio,heldout_loss,optimizer_ms\n"));
    }

    /**
     * The resume check names the first step from the resume on at which two runs part, and what differed there first:
     * the batch, then the parameters the forward pass reads (vecopt's side), then, on equal batch and parameters, the
     * loss or the gradient norm (PyTorch's forward and backward pass); differences before the resume do not count.
     */
    @Test
    void theResumeCheckSaysWhereTwoRunsFirstPart() {
        Recipe recipe = ScheduleFree.recipe("sf", true);
        RunLog a = filled(recipe), b = filled(recipe);
        ScheduleFreeMain.Run whole = new ScheduleFreeMain.Run("schedule-free AdamW", 1e-2, config(1e-2), a);
        ScheduleFreeMain.ResumeCheck same = ScheduleFreeMain.compare(whole, b, 10);
        assertEquals(-1, same.partedAt());
        assertTrue(same.describe().contains("every step's parameters, batch, loss and gradient norm identical"),
                same.describe());
        b.paramHash[4] ^= 1; // before the resume: not compared
        b.gradNorm[20] = Math.nextUp(b.gradNorm[20]);
        ScheduleFreeMain.ResumeCheck c = ScheduleFreeMain.compare(whole, b, 10);
        assertEquals(20, c.partedAt());
        assertTrue(c.parted().contains("bitwise-equal parameters and batch") && c.parted().contains("gradient")
                && c.parted().contains("outside vecopt"), c.parted());
        b.trainLoss[17] = Math.nextUp(b.trainLoss[17]);
        assertEquals(17, ScheduleFreeMain.compare(whole, b, 10).partedAt());
        assertTrue(ScheduleFreeMain.compare(whole, b, 10).parted().contains("different loss"));
        b.paramHash[15] ^= 1; // different parameters give a different loss too: the parameters are named, not PyTorch
        b.trainLoss[15] = Math.nextUp(b.trainLoss[15]);
        c = ScheduleFreeMain.compare(whole, b, 10);
        assertEquals(15, c.partedAt());
        assertTrue(c.parted().contains("parameters entering it differ"), c.parted());
        b.batchHash[12] ^= 1;
        assertEquals(12, ScheduleFreeMain.compare(whole, b, 10).partedAt());
        assertTrue(ScheduleFreeMain.compare(whole, b, 10).parted().contains("batch"));
        assertTrue(ScheduleFreeMain.compare(whole, b, 10).describe().contains("first part at step 12"));
    }

    /** A log of 30 steps whose per-step records are functions of the step, and two final parameters. */
    private static RunLog filled(Recipe recipe) {
        RunLog log = new RunLog(recipe, 30, 3, 5);
        for (int s = 0; s < 30; s++) {
            log.trainLoss[s] = 3.0 - s * 0.01;
            log.gradNorm[s] = 1.0 + s;
            log.paramHash[s] = 31L * s + 7;
            log.batchHash[s] = 17L * s + 3;
        }
        log.finalParams = new float[] {1f, -2f};
        return log;
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }
}
