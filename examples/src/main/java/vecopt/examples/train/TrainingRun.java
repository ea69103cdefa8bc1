package vecopt.examples.train;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import vecopt.monitor.Monitor;
import vecopt.optim.Optimizer;
import vecopt.optim.StepReport;
import vecopt.schedule.Schedule;

/**
 * Trains one freshly initialised model under one recipe and records what happened. Every recipe of a comparison
 * starts from the same parameters (seeded by {@code seed}) and sees the same batches in the same order, so the
 * runs differ only in what the recipe changes.
 *
 * <pre>{@code
 * RunLog log = TrainingRun.run(config, Recipe.named("warmup+clip"), TeacherTask.DEFAULT, data,
 *         TrainingRun.Listener.SILENT);
 * }</pre>
 */
public final class TrainingRun {
    private TrainingRun() {
    }

    /** A logger that takes nothing: the demo prints the monitor's findings itself. */
    private static final System.Logger SILENT_LOGGER = new System.Logger() {
        @Override
        public String getName() {
            return "vecopt.monitor.demo";
        }

        @Override
        public boolean isLoggable(Level level) {
            return false;
        }

        @Override
        public void log(Level level, java.util.ResourceBundle bundle, String msg, Throwable thrown) {
        }

        @Override
        public void log(Level level, java.util.ResourceBundle bundle, String format, Object... params) {
        }
    };

    /** Observes a run's progress: called after every step with the step's training loss. */
    public interface Listener {
        /** Shows nothing. */
        Listener SILENT = new Listener() {
            @Override
            public void started(Recipe recipe, int steps) {
            }

            @Override
            public void stepped(int step, double trainLoss) {
            }

            @Override
            public void finished(RunLog log) {
            }
        };

        void started(Recipe recipe, int steps);

        void stepped(int step, double trainLoss);

        void finished(RunLog log);
    }

    public static RunLog run(TrainConfig cfg, Recipe recipe, TeacherTask task, TeacherTask.Split data,
                             Listener listener) {
        return run(cfg, recipe, task, data, listener, RunCheckpoints.NONE);
    }

    /** As above, saving checkpoints and/or resuming from one as {@code checkpoints} says. */
    static RunLog run(TrainConfig cfg, Recipe recipe, TeacherTask task, TeacherTask.Split data, Listener listener,
                      RunCheckpoints checkpoints) {
        int steps = cfg.steps();
        Schedule schedule = recipe.schedule(cfg.peakLr(), steps);
        RunLog log = new RunLog(recipe, steps, recipe.warmupSteps(steps), steps / cfg.evalEvery() + 2);
        Samples train = data.train();
        int batch = cfg.batch();
        float[] x = new float[batch * task.features()];
        int[] y = new int[batch];
        int[] order = new int[train.count()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SplittableRandom shuffler = new SplittableRandom(cfg.seed() ^ 0x5DEECE66DL);
        int cursor = order.length; // forces a shuffle before the first batch
        listener.started(recipe, steps);
        try (Arena arena = Arena.ofShared()) {
            Mlp model = Mlp.create(arena, cfg.shape(task), cfg.seed());
            Mlp.Workspace ws = model.workspace(batch);
            try (Optimizer<?> opt = OptimizerFactory.build(cfg.optimizer(), recipe, model.paramSet(),
                    cfg.threads())) {
                // The findings are printed beside the summary table, so the monitor does not also log them. A resumed
                // run's monitor starts with the resumed step: it has not seen the steps before.
                Monitor monitor = Monitor.builder(opt).totalSteps(steps).warmupSteps(recipe.warmupSteps(steps))
                        .logger(SILENT_LOGGER).build();
                int start = checkpoints.resume() == null ? 0 : checkpoints.resumeInto(opt, cfg, log);
                for (int step = 0; step < start; step++) { // the batch order of the steps already run, replayed
                    cursor = nextBatch(order, cursor, batch, shuffler);
                    cursor += batch;
                }
                var saver = checkpoints.saver(opt, recipe);
                for (int step = start; step < steps; step++) {
                    if (step % cfg.evalEvery() == 0) {
                        evaluate(model, ws, data.heldOut(), step, log, x, y);
                    }
                    cursor = nextBatch(order, cursor, batch, shuffler);
                    train.gather(order, cursor, batch, x, y);
                    cursor += batch;
                    long t0 = System.nanoTime();
                    double loss = model.forward(ws, x, y, batch);
                    model.backward(ws);
                    long t1 = System.nanoTime();
                    double lr = schedule.lr(step);
                    StepReport out = opt.step(lr);
                    long t2 = System.nanoTime();
                    log.modelMillis[step] = (t1 - t0) / 1e6;
                    log.optimizerMillis[step] = (t2 - t1) / 1e6;
                    log.trainLoss[step] = loss;
                    log.lr[step] = lr;
                    log.gradNorm[step] = out.gradNorm();
                    log.clipCoef[step] = out.clipCoef();
                    log.skipped[step] = out.skipped();
                    log.updateRatio[step] = out.skipped() ? Double.NaN : out.updateRatio();
                    monitor.observe(out, loss);
                    listener.stepped(step + 1, loss);
                    checkpoints.maybeSave(saver, step + 1, cfg, log);
                }
                RunCheckpoints.finish(saver);
                evaluate(model, ws, data.heldOut(), steps, log, x, y);
                log.findings = monitor.findings();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            log.finalParams = model.params().toArray(0, Math.toIntExact(model.params().length()));
        }
        listener.finished(log);
        return log;
    }

    /** Where the next batch starts: {@code cursor}, or 0 after a reshuffle (Fisher-Yates) when an epoch ended. */
    private static int nextBatch(int[] order, int cursor, int batch, SplittableRandom shuffler) {
        if (cursor + batch > order.length) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = shuffler.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            return 0;
        }
        return cursor;
    }

    /**
     * Mean loss and accuracy over the whole held-out split, in batch-sized slices in order, through the training
     * batch's buffers {@code x}/{@code y} (refilled before the next step anyway).
     */
    private static void evaluate(Mlp model, Mlp.Workspace ws, Samples heldOut, int step, RunLog log, float[] x,
                                 int[] y) {
        int rows = ws.maxRows;
        double lossSum = 0;
        long correct = 0;
        for (int from = 0; from < heldOut.count(); from += rows) {
            int n = Math.min(rows, heldOut.count() - from);
            heldOut.slice(from, n, x, y);
            lossSum += model.forward(ws, x, y, n) * n;
            correct += ws.correct();
        }
        log.addEval(step, lossSum / heldOut.count(), (double) correct / heldOut.count());
    }
}
