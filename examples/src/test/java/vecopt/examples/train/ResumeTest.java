package vecopt.examples.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --checkpoint-every} and {@code --resume}: a run resumed from a checkpoint it saved ends bitwise where the
 * uninterrupted run ends, with the same history (losses, evaluations), even across an epoch boundary of the batch
 * order and on another thread count; a checkpoint of other settings is refused.
 */
class ResumeTest {
    private static final TeacherTask TASK = TeacherTask.DEFAULT;

    @TempDir
    Path dir;

    private static TrainConfig config(int threads) {
        // 4096 examples in batches of 64: an epoch is 64 steps, so resuming at 80 replays a reshuffle
        return new TrainConfig(64, 120, 64, 0.02, 11, threads, OptimizerKind.ADAMW, 20, 4096, 512);
    }

    @Test
    void aResumedRunEndsBitwiseWhereTheUninterruptedOneEnds() throws Exception {
        TeacherTask.Split data = TASK.generate(11, 4096, 512);
        Recipe recipe = Recipe.named("warmup+clip");
        RunLog whole = TrainingRun.run(config(1), recipe, TASK, data, TrainingRun.Listener.SILENT);
        RunLog saving = TrainingRun.run(config(1), recipe, TASK, data, TrainingRun.Listener.SILENT,
                new RunCheckpoints(40, dir, null));
        assertArrayEquals(whole.trainLoss(), saving.trainLoss(), "saving in the background changes nothing");
        Path at80 = dir.resolve(recipe.name()).resolve("checkpoint-000000000080.safetensors");
        assertTrue(Files.exists(at80), "checkpoint at step 80 was written");
        RunLog resumed = TrainingRun.run(config(2), recipe, TASK, data, TrainingRun.Listener.SILENT,
                new RunCheckpoints(0, dir, at80));
        assertArrayEquals(bits(whole.finalParams()), bits(resumed.finalParams()));
        assertArrayEquals(whole.trainLoss(), resumed.trainLoss());
        assertArrayEquals(whole.lr, resumed.lr);
        assertArrayEquals(whole.skipped, resumed.skipped);
        assertEquals(whole.evals, resumed.evals);
        assertArrayEquals(Arrays.copyOf(whole.evalLoss, whole.evals), Arrays.copyOf(resumed.evalLoss, resumed.evals));
        assertArrayEquals(Arrays.copyOf(whole.evalStep, whole.evals), Arrays.copyOf(resumed.evalStep, resumed.evals));

        TrainConfig other = new TrainConfig(64, 120, 64, 0.03, 11, 1, OptimizerKind.ADAMW, 20, 4096, 512);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingRun.run(other,
                recipe, TASK, data, TrainingRun.Listener.SILENT, new RunCheckpoints(0, dir, at80)));
        assertTrue(e.getMessage().contains("lr=0.02") && e.getMessage().contains("lr=0.03"), e.getMessage());
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }
}
