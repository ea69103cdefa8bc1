package vecopt.djl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --checkpoint-every} and {@code --resume} on the transformer: a run resumed from a checkpoint it saved ends
 * bitwise where the uninterrupted run ends (DJL's tensors hold the checkpoint's parameters, AdamW the moments and
 * counters), with the same history, across an epoch boundary of the batch order and on another optimizer thread
 * count; a checkpoint of other settings is refused, naming both.
 */
class ResumeTest {
    @TempDir
    Path dir;

    private static TrainConfig config(double lr, int threads) {
        // 128 sequences in batches of 8: an epoch is 16 steps, so resuming at 20 replays a reshuffle
        return new TrainConfig(32, 32, 64, 4, 2, 30, 8, lr, 11, threads, 10, 128, 64);
    }

    @Test
    void aResumedRunEndsBitwiseWhereTheUninterruptedOneEnds() throws Exception {
        TrainConfig cfg = config(1e-2, 1);
        MarkovTask.Split data = cfg.task().generate(cfg.trainCount(), cfg.heldOutCount(), cfg.context(), cfg.seed());
        Recipe recipe = Recipe.named("warmup+clip");
        RunLog whole = TrainingRun.run(cfg, recipe, data, TrainingRun.Listener.SILENT);
        RunLog saving = TrainingRun.run(cfg, recipe, data, TrainingRun.Listener.SILENT,
                new RunCheckpoints(10, dir, null));
        // the inputs and the parameters before each step first, then the losses: a difference then says whether it
        // entered through the batches, the parameters (the optimizer and the bridge) or the model's forward pass
        assertArrayEquals(whole.batchHash, saving.batchHash, "saving in the background changes no batch");
        assertArrayEquals(whole.paramHash, saving.paramHash, "saving in the background changes no parameter");
        assertArrayEquals(whole.trainLoss(), saving.trainLoss(), "saving in the background changes nothing");
        Path at20 = dir.resolve(recipe.name()).resolve("checkpoint-000000000020.safetensors");
        assertTrue(Files.exists(at20), "checkpoint at step 20 was written");
        RunLog resumed = TrainingRun.run(config(1e-2, 2), recipe, data, TrainingRun.Listener.SILENT,
                new RunCheckpoints(0, dir, at20));
        assertArrayEquals(bits(whole.finalParams()), bits(resumed.finalParams()));
        assertArrayEquals(whole.trainLoss(), resumed.trainLoss());
        assertArrayEquals(whole.lr, resumed.lr);
        assertArrayEquals(whole.skipped, resumed.skipped);
        assertEquals(whole.evals, resumed.evals);
        assertArrayEquals(whole.heldOutLoss(), resumed.heldOutLoss());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingRun.run(
                config(3e-2, 1), recipe, data, TrainingRun.Listener.SILENT, new RunCheckpoints(0, dir, at20)));
        assertTrue(e.getMessage().contains("lr=0.01") && e.getMessage().contains("lr=0.03"), e.getMessage());
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }
}
