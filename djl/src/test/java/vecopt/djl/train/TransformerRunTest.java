package vecopt.djl.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.djl.gpt.GptConfig;
import vecopt.exec.ChunkGrid;

/**
 * The main job's short mode: a small transformer (2 layers, width 64) for a few dozen steps, through DJL's PyTorch
 * engine (one PyTorch thread, see the module's surefire settings) with vecopt's AdamW through the bridge.
 */
class TransformerRunTest {
    private static final int VOCAB = 32, SUCCESSORS = TrainConfig.SUCCESSORS;

    private static TrainConfig config(int steps, double lr, int threads) {
        return new TrainConfig(VOCAB, 32, 64, 4, 2, steps, 8, lr, 11, threads, 10, 1024, 64);
    }

    /**
     * The loss falls, by a margin only learning explains. The model starts at the uniform guess, ln 32 = 3.47 (its
     * logits start near 0: weights of N(0, 0.02)). A model that knows, for each token, the 4 tokens that can follow
     * it, and nothing more, has a loss of at most ln 4 = 1.39 (uniform over them); to get below the midpoint of ln 32
     * and ln 4 on held-out sequences it must have learned that for most tokens. A broken gradient, a no-op optimizer
     * or an optimizer that never reaches the tensors stays at the start (a loss a few hundredths off ln 32).
     */
    @Test
    void aShortRunLearnsWhichTokensFollowEachToken() {
        TrainConfig cfg = config(60, 1e-2, 1);
        MarkovTask.Split data = cfg.task().generate(cfg.trainCount(), cfg.heldOutCount(), cfg.context(), cfg.seed());
        RunLog log = TrainingRun.run(cfg, Recipe.named("warmup"), data, TrainingRun.Listener.SILENT);
        double[] held = log.heldOutLoss();
        double start = held[0];
        double bar = (Math.log(VOCAB) + Math.log(SUCCESSORS)) / 2;
        assertTrue(Math.abs(start - Math.log(VOCAB)) < 0.1, "starts at the uniform guess: " + start);
        assertTrue(log.finalHeldOutLoss() < bar, "held-out loss " + Arrays.toString(held) + " must end below " + bar);
        assertTrue(log.skippedSteps() == 0, "no step skipped");
    }

    /**
     * vecopt's step is bitwise the same on one and two threads, so the whole run is: in a fresh JVM each, the main
     * job with one PyTorch thread writes the same training.csv (every step's lr, losses, gradient norm, clipping
     * coefficient, update ratio and held-out loss, as exact decimal doubles) with vecopt on one thread and on two.
     * The model's weight matrices (2 layers of 12 * 64^2 floats, the decayed group) span more than one 2^16-element
     * work item, so two workers share them. A JVM each, as a user reruns the main job (ResumeTest compares runs
     * inside one JVM).
     */
    @Test
    void aShortRunIsBitwiseTheSameOnOneAndTwoOptimizerThreads(@TempDir Path dir) throws Exception {
        GptConfig model = config(1, 1, 1).model(GptConfig.Norm.PRE);
        long matrices = (long) model.layers() * 12 * model.width() * model.width();
        assertTrue(matrices > ChunkGrid.CHUNK, "the decayed group must span several work items: " + matrices);
        String one = mainJob(dir.resolve("one"), 1), two = mainJob(dir.resolve("two"), 2);
        assertTrue(one.lines().anyMatch(l -> l.matches("warmup\\+clip,\\d+,[^,]*,[^,]*,[^,]*,0\\.\\d.*")),
                "clipping should act in this run:\n" + one);
        assertEquals(one, two, "training.csv with 1 and 2 optimizer threads");
    }

    /** The main job's training.csv after 20 steps of warmup+clip in a JVM of its own with {@code threads}. */
    private static String mainJob(Path out, int threads) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments()); // this JVM's flags: modules, natives
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TrainMain.class.getName(),
                "--recipes", "warmup+clip", "--steps", "20", "--lr", "1e-2", "--vocab", "32", "--context", "32",
                "--width", "64", "--heads", "4", "--layers", "2", "--batch", "8", "--seed", "11",
                "--torch-threads", "1", "--threads", Integer.toString(threads), "--progress", "none",
                "--out", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.resolveSibling(
                out.getFileName() + ".log").toFile()).start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) { // a bound, not a pace: a short run takes seconds
            p.destroyForcibly();
            throw new AssertionError("the main job did not end in 180 s");
        }
        assertEquals(0, p.exitValue(), () -> "main job exit; its output: "
                + readOrEmpty(out.resolveSibling(out.getFileName() + ".log")));
        return Files.readString(out.resolve("training.csv"));
    }

    private static String readOrEmpty(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "(" + e + ")";
        }
    }
}
