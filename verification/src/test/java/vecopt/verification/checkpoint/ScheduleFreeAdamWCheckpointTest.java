package vecopt.verification.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.checkpoint.BackgroundSave;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.CheckpointException;
import vecopt.checkpoint.CheckpointFiles;
import vecopt.memory.Dtype;
import vecopt.optim.Optimizer;
import vecopt.optim.ScheduleFreeAdamW;
import vecopt.optim.ScheduleFreeAdamWOptions;

/**
 * Checkpoints of schedule-free AdamW: saved in eval mode only (the parameters are then x, as the original advises),
 * with z, exp_avg_sq and the group scalars k, lr_max, weight_sum and train_mode; a resumed run is bitwise the
 * uninterrupted run that made the same eval() and train() calls, heap or off-heap, on one thread or two; a file that
 * claims train mode, or whose k is not its group's steps, is refused. The same resume on 16-bit parameters: bfloat16
 * and float16 with a float32 master copy (saved holding x), and bfloat16 with stochastic rounding.
 */
class ScheduleFreeAdamWCheckpointTest {
    static final ScheduleFreeAdamWOptions OPTIONS = ScheduleFreeAdamWOptions.DEFAULTS.withWarmupSteps(4)
            .withWeightDecay(0.01).withR(0.5);

    @TempDir
    Path dir;

    static ScheduleFreeAdamW build(Model m, int threads) {
        return ScheduleFreeAdamW.builder(m.set).options(OPTIONS)
                .group("no_decay", OPTIONS.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                .clipGradNorm(1.0).threads(threads).build();
    }

    /** Steps {@code [from, to)} in train mode, then eval(). Step 2's gradient has a NaN: a skipped step. */
    static void run(ScheduleFreeAdamW opt, Model m, long from, long to) {
        opt.train();
        for (long step = from; step < to; step++) {
            m.gradients(step);
            opt.step(ScheduleFreeAdamWOptions.DEFAULT_LR);
        }
        opt.eval();
    }

    @Test
    void savingInTrainModeIsRefused() throws IOException {
        try (Model m = new Model(false, 1); ScheduleFreeAdamW opt = build(m, 1)) {
            opt.train();
            m.gradients(0);
            opt.step(1e-3);
            Path file = dir.resolve("train-mode.safetensors");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Checkpoint.save(file, opt, 1));
            assertTrue(e.getMessage().contains("train mode") && e.getMessage().contains("eval()"), e.getMessage());
            assertFalse(Files.exists(file), "nothing written");
            try (BackgroundSave saves = new BackgroundSave(opt, new CheckpointFiles(dir, 2))) {
                assertThrows(IllegalStateException.class, () -> saves.start(1));
            }
            opt.eval();
            Checkpoint.save(file, opt, 1); // in eval mode it saves
            assertTrue(Files.exists(file));
        }
    }

    @Test
    void resumesBitForBit() throws IOException {
        for (boolean offHeap : new boolean[] {false, true}) {
            Path file = dir.resolve("sf-" + offHeap + ".safetensors");
            Model.Image uninterrupted;
            double lrMax, weightSum;
            try (Model m = new Model(offHeap, 3, 2); ScheduleFreeAdamW opt = build(m, 1)) {
                run(opt, m, 0, 6);
                Checkpoint.save(file, opt, 6);
                run(opt, m, 6, 12);
                uninterrupted = Model.image(opt);
                lrMax = opt.lrMax("no_decay");
                weightSum = opt.weightSum("default");
            }
            String d = Checkpoint.describe(file);
            assertTrue(d.contains("ScheduleFreeAdamW") && d.contains("state/fc.bias/z")
                    && d.contains("train_mode=0.0") && d.contains("k=5.0"), d); // 6 steps, one skipped
            try (Model m = new Model(!offHeap, 99, 2); ScheduleFreeAdamW opt = build(m, 2)) {
                opt.train(); // a resumed optimizer is put in eval mode by the load, whatever it was in
                Checkpoint.load(file, opt);
                assertFalse(opt.trainMode(), "loaded in eval mode");
                run(opt, m, 6, 12);
                Model.image(opt).assertSameAs(uninterrupted, "resumed (offHeap " + offHeap + ")");
                assertEquals(lrMax, opt.lrMax("no_decay"));
                assertEquals(weightSum, opt.weightSum("default"));
            }
        }
    }

    /**
     * A resumed run on 16-bit parameters and gradients is bitwise the uninterrupted one: parameters, master copy (x
     * when saved), z, exp_avg_sq, counters and group scalars; the load and train() recompute y from the loaded
     * master (or, without one, from the bfloat16 parameters, rounded with the switch's own key) as the uninterrupted
     * run's train() did.
     */
    @Test
    void resumesBitForBitOnSixteenBitParameters() throws IOException {
        for (Dtype dtype : new Dtype[] {Dtype.BFLOAT16, Dtype.FLOAT16}) {
            for (boolean stochastic : dtype == Dtype.BFLOAT16 ? new boolean[] {false, true} : new boolean[] {false}) {
                for (boolean offHeap : new boolean[] {false, true}) {
                    String name = dtype.torchName() + (stochastic ? " stochastic rounding" : " + master") + ", offHeap "
                            + offHeap;
                    Path file = dir.resolve("sf16-" + name.hashCode() + ".safetensors");
                    Model.Image uninterrupted;
                    try (Model m = new Model(offHeap, 3, dtype, 2); ScheduleFreeAdamW opt = build16(m, 1, stochastic)) {
                        run(opt, m, 0, 6);
                        assertEquals(!stochastic, opt.stateNames().contains(Optimizer.MASTER), name);
                        Checkpoint.save(file, opt, 6);
                        run(opt, m, 6, 12);
                        uninterrupted = Model.image(opt);
                    }
                    try (Model m = new Model(!offHeap, 99, dtype, 2); ScheduleFreeAdamW opt = build16(m, 2, stochastic)) {
                        Checkpoint.load(file, opt);
                        run(opt, m, 6, 12);
                        Model.image(opt).assertSameAs(uninterrupted, "resumed, " + name);
                    }
                }
            }
        }
    }

    static ScheduleFreeAdamW build16(Model m, int threads, boolean stochastic) {
        ScheduleFreeAdamW.Builder b = ScheduleFreeAdamW.builder(m.set).options(OPTIONS)
                .group("no_decay", OPTIONS.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                .clipGradNorm(1.0).threads(threads);
        return (stochastic ? b.stochasticRounding(17) : b).build();
    }

    @Test
    void aFileInTrainModeOrWithAnotherKIsRefused() throws IOException {
        Path file = dir.resolve("sf.safetensors");
        try (Model m = new Model(false, 1); ScheduleFreeAdamW opt = build(m, 1)) {
            run(opt, m, 0, 3);
            Checkpoint.save(file, opt, 3);
        }
        // the header is JSON text outside the tensors' checksums: edit a value in place, same length (the groups
        // are a JSON string in it, so their quotes are escaped)
        Path trainMode = edit(file, "\\\"train_mode\\\":0.0", "\\\"train_mode\\\":1.0");
        Path otherK = edit(file, "\\\"k\\\":3.0", "\\\"k\\\":2.0");
        try (Model m = new Model(false, 1); ScheduleFreeAdamW opt = build(m, 1)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(trainMode, opt));
            assertTrue(e.getMessage().contains("train_mode is 1.0"), e.getMessage());
            e = assertThrows(CheckpointException.class, () -> Checkpoint.load(otherK, opt));
            assertTrue(e.getMessage().contains("scalar state 'k' is 2.0 but the group's steps are 3"), e.getMessage());
            assertEquals(0, opt.steps(), "nothing restored");
        }
    }

    private Path edit(Path file, String from, String to) throws IOException {
        byte[] b = Files.readAllBytes(file);
        String text = new String(b, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains(from), "the header holds " + from);
        Path out = dir.resolve("edited-" + to.hashCode() + ".safetensors");
        Files.write(out, text.replace(from, to).getBytes(StandardCharsets.ISO_8859_1));
        return out;
    }
}
