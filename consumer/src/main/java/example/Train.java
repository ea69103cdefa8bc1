package example;

import java.nio.file.Files;
import java.nio.file.Path;
import vecopt.checkpoint.Checkpoint;
import vecopt.memory.Storage;
import vecopt.optim.AdamW;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.schedule.Schedule;
import vecopt.schedule.Schedules;

/**
 * AdamW with a warmup + cosine learning rate and gradient clipping, 100 steps on {@code 0.5 |w - 1|^2}. Exits non-zero
 * unless the loss fell, clipping acted and the schedule reached its floor, so a run that goes wrong fails the check.
 * Then a checkpoint of the run is saved and loaded into a new optimizer (the checkpoint package, reached as an
 * exported package, reaches the optimizer's internals inside the engine module).
 */
public final class Train {
    public static void main(String[] args) throws java.io.IOException {
        float[] w = new float[4096], g = new float[4096];
        ParamSet params = ParamSet.builder().add("w", Storage.of(w), Storage.of(g), 0, w.length).build();
        Schedule schedule = Schedules.warmupCosine(0.1, 0.01, 10, 100);
        double first = loss(w);
        double firstNorm = Double.NaN;
        Path checkpoint = Files.createTempFile("consumer", ".safetensors");
        try (AdamW adamw = AdamW.builder(params).clipGradNorm(1.0).build()) {
            for (long step = 0; step < 100; step++) {
                for (int i = 0; i < w.length; i++) {
                    g[i] = w[i] - 1; // the gradient of 0.5 (w - 1)^2
                }
                StepReport report = adamw.step(schedule.lr(step));
                if (step == 0) {
                    firstNorm = report.gradNorm();
                }
            }
            Checkpoint.save(checkpoint, adamw, 100);
        }
        long resumedAt;
        long updates;
        try (AdamW resumed = AdamW.builder(params).clipGradNorm(1.0).build()) {
            resumedAt = Checkpoint.load(checkpoint, resumed).globalStep();
            updates = resumed.steps();
        } finally {
            Files.delete(checkpoint);
        }
        double last = loss(w);
        System.out.printf("%s: loss %.1f -> %.2g in 100 steps; grad norm at step 1: %.1f (clipped to 1); lr at the end %.3g%n",
                Train.class.getModule().isNamed() ? "module path" : "class path", first, last, firstNorm,
                schedule.lr(99));
        System.out.printf("checkpoint: saved and loaded at step %d (%d updates)%n", resumedAt, updates);
        if (!(last < first / 100 && firstNorm > 1 && schedule.lr(100) == 0.01 && resumedAt == 100 && updates == 100)) {
            System.err.println("example.Train: unexpected result");
            System.exit(1);
        }
    }

    private static double loss(float[] w) {
        double sum = 0;
        for (float x : w) {
            sum += 0.5 * (x - 1) * (x - 1);
        }
        return sum;
    }
}
