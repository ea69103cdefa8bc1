package vecopt.examples.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import vecopt.exec.ChunkGrid;
import vecopt.monitor.Symptom;
import vecopt.param.Tensor;

/** Short real runs of the demo: deterministic across optimizer thread counts, and they learn. */
class TrainingRunTest {
    private static final TeacherTask TASK = TeacherTask.DEFAULT;
    private static final TrainingRun.Listener QUIET = TrainingRun.Listener.SILENT;

    private static TrainConfig config(int hidden, int steps, int batch, double lr, int threads) {
        return new TrainConfig(hidden, steps, batch, lr, 11, threads, OptimizerKind.ADAMW, 20, 4096, 512);
    }

    @Test
    void aShortRunIsBitwiseTheSameOnOneAndTwoThreads() {
        TeacherTask.Split data = TASK.generate(11, 4096, 512);
        // hidden 256: the decayed group spans two 2^16-element chunks, so two threads really split the step.
        Recipe clipped = Recipe.named("warmup+clip");
        TrainConfig one = config(256, 40, 16, 0.02, 1);
        TrainConfig two = config(256, 40, 16, 0.02, 2);
        try (Arena arena = Arena.ofConfined()) {
            long decayed = Mlp.create(arena, one.shape(TASK), 0).paramSet().tensors().stream()
                    .filter(t -> !OptimizerFactory.noDecay(t)).mapToLong(Tensor::length).sum();
            assertTrue(decayed > ChunkGrid.CHUNK, "decayed group must span several chunks, has " + decayed);
        }
        RunLog a = TrainingRun.run(one, clipped, TASK, data, QUIET);
        RunLog b = TrainingRun.run(two, clipped, TASK, data, QUIET);
        assertTrue(Arrays.stream(a.clipCoef).anyMatch(c -> c < 1), "clipping should act in this run");
        assertArrayEquals(bits(a.finalParams()), bits(b.finalParams()));
        assertArrayEquals(a.trainLoss(), b.trainLoss());
        assertArrayEquals(Arrays.copyOf(a.evalLoss, a.evals), Arrays.copyOf(b.evalLoss, b.evals));
    }

    @Test
    void trainingLossFallsWellBelowItsStart() {
        TeacherTask.Split data = TASK.generate(11, 4096, 512);
        RunLog log = TrainingRun.run(config(64, 300, 64, 0.01, 1), Recipe.named("warmup"), TASK, data, QUIET);
        double[] loss = log.trainLoss();
        double start = mean(loss, 0, 5);
        double end = mean(loss, loss.length - 20, loss.length);
        // Start: about ln 10 = 2.30 (uniform guess over 10 classes). A learning model ends far below; half is a
        // bar a broken gradient or a no-op optimizer cannot clear (they stay within noise of the start).
        assertTrue(end < 0.5 * start, "training loss went from " + start + " to " + end);
        assertTrue(log.finalHeldOutAccuracy() > 0.5, "held-out accuracy " + log.finalHeldOutAccuracy()
                + " (chance 0.1)");
    }

    /** The demo's point, read by the health monitor: at a high lr, no warmup spikes at once and 10% warmup does not. */
    @Test
    void theMonitorSeesTheSpikeWithoutWarmupAndNotWithIt() {
        TeacherTask.Split data = TASK.generate(11, 4096, 512);
        TrainConfig cfg = config(64, 60, 64, 1.0, 1);
        Set<Symptom> explosion = EnumSet.of(Symptom.GRAD_NORM_SPIKE, Symptom.LOSS_SPIKE, Symptom.LOSS_NAN,
                Symptom.NON_FINITE_SKIPS, Symptom.GRAD_NORM_GROWING);
        RunLog cold = TrainingRun.run(cfg, Recipe.named("no-warmup"), TASK, data, QUIET);
        assertTrue(cold.findings.stream().anyMatch(f -> explosion.contains(f.symptom()) && f.firstStep() <= 3),
                cold.findings.toString());
        RunLog warm = TrainingRun.run(cfg, Recipe.named("warmup"), TASK, data, QUIET);
        assertTrue(warm.findings.stream().noneMatch(f -> explosion.contains(f.symptom())), warm.findings.toString());
        assertTrue(Summary.findings(List.of(cold, warm)).contains(" spike (step 2): "),
                Summary.findings(List.of(cold, warm)));
    }

    private static double mean(double[] v, int from, int to) {
        return Arrays.stream(v, from, to).average().orElseThrow();
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }
}
