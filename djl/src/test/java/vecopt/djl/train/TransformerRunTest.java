package vecopt.djl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
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
     * vecopt's step is bitwise the same on one and two threads, so the whole run is: PyTorch computes the same
     * gradients from the same parameters (one PyTorch thread), and the model's weight matrices (the decayed group:
     * 2 layers of 12 * 64^2 alone are 98,304 floats, more than one 2^16-element work item) are split between two
     * workers.
     */
    @Test
    void aShortRunIsBitwiseTheSameOnOneAndTwoOptimizerThreads() {
        GptConfig model = config(1, 1, 1).model(GptConfig.Norm.PRE);
        long matrices = (long) model.layers() * 12 * model.width() * model.width();
        assertTrue(matrices > ChunkGrid.CHUNK, "the decayed group must span several work items: " + matrices);
        TrainConfig one = config(20, 1e-2, 1);
        MarkovTask.Split data = one.task().generate(one.trainCount(), one.heldOutCount(), one.context(), one.seed());
        Recipe clipped = Recipe.named("warmup+clip");
        RunLog a = TrainingRun.run(one, clipped, data, TrainingRun.Listener.SILENT);
        RunLog b = TrainingRun.run(config(20, 1e-2, 2), clipped, data, TrainingRun.Listener.SILENT);
        assertTrue(Arrays.stream(a.clipCoef).anyMatch(c -> c < 1), "clipping should act in this run");
        assertArrayEquals(bits(a.finalParams()), bits(b.finalParams()));
        assertArrayEquals(a.trainLoss(), b.trainLoss());
        assertArrayEquals(a.heldOutLoss(), b.heldOutLoss());
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }
}
