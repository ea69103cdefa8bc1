package vecopt.djl.train;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.Pair;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;
import vecopt.checkpoint.BackgroundSave;
import vecopt.clip.NonFinite;
import vecopt.djl.VecoptStep;
import vecopt.djl.gpt.Gpt;
import vecopt.monitor.Monitor;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;
import vecopt.schedule.Schedule;

/**
 * Trains one freshly initialised transformer under one recipe, with DJL's PyTorch engine doing the forward and
 * backward passes and vecopt's AdamW doing the step through {@link VecoptStep}, and records what happened. Every
 * recipe of a comparison starts from the same weights (DJL's engine is seeded with the run's seed before the model is
 * initialised; pre-LN and post-LN models have the same parameters but for the final LayerNorm) and sees the same
 * batches in the same order, so the runs differ only in what the recipe changes.
 *
 * <pre>{@code
 * RunLog log = TrainingRun.run(config, Recipe.named("warmup"), config.task().generate(...),
 *         TrainingRun.Listener.SILENT);
 * }</pre>
 */
public final class TrainingRun {
    /**
     * The AdamW of every recipe: PyTorch's defaults, betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on the weight
     * matrices and embeddings, none on biases and LayerNorm parameters (as nanoGPT and Hugging Face group them).
     */
    static final AdamOptions ADAMW = AdamOptions.ADAMW_DEFAULTS;

    /** Held-out sequences per forward pass of an evaluation (no gradients are kept, so a larger batch is cheap). */
    static final int EVAL_BATCH = 64;

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

    /** Biases, LayerNorm scales and shifts (DJL's {@code _bias}, {@code _gamma}, {@code _beta}): no weight decay. */
    static boolean noDecay(Tensor t) {
        return t.name().endsWith("_bias") || t.name().endsWith("_gamma") || t.name().endsWith("_beta");
    }

    static AdamW optimizer(ParamSet params, Recipe recipe, int threads) {
        return adamW(params, recipe.clipNorm(), threads);
    }

    /** The demo's AdamW, clipped at {@code clipNorm} (0: not clipped), update norms tracked. */
    static AdamW adamW(ParamSet params, double clipNorm, int threads) {
        AdamW.Builder b = AdamW.builder(params).options(ADAMW)
                .group("no_decay", ADAMW.withWeightDecay(0), TrainingRun::noDecay)
                .threads(threads).onNonFinite(NonFinite.SKIP).trackNorms(true);
        if (clipNorm > 0) {
            b.clipGradNorm(clipNorm);
        }
        return b.build();
    }

    /** The main job's optimizer: {@link #adamW}. */
    static final OptimizerSetup ADAMW_SETUP = OptimizerSetup.of("adamw", TrainingRun::adamW);

    public static RunLog run(TrainConfig cfg, Recipe recipe, MarkovTask.Split data, Listener listener) {
        return run(cfg, recipe, ADAMW_SETUP, data, listener, RunCheckpoints.NONE);
    }

    /** One run stepped by {@code setup}'s optimizer instead of the demo's AdamW. */
    public static RunLog run(TrainConfig cfg, Recipe recipe, OptimizerSetup setup, MarkovTask.Split data,
                             Listener listener) {
        return run(cfg, recipe, setup, data, listener, RunCheckpoints.NONE);
    }

    /** As above, saving checkpoints and/or resuming from one as {@code checkpoints} says. */
    static RunLog run(TrainConfig cfg, Recipe recipe, MarkovTask.Split data, Listener listener,
                      RunCheckpoints checkpoints) {
        return run(cfg, recipe, ADAMW_SETUP, data, listener, checkpoints);
    }

    static RunLog run(TrainConfig cfg, Recipe recipe, OptimizerSetup setup, MarkovTask.Split data,
                      Listener listener, RunCheckpoints checkpoints) {
        int steps = cfg.steps();
        Schedule schedule = recipe.schedule(cfg.peakLr(), steps);
        RunLog log = new RunLog(recipe, steps, recipe.warmupSteps(steps), steps / cfg.evalEvery() + 2);
        MarkovTask.Sequences train = data.train();
        int batch = cfg.batch(), t = cfg.context();
        long[] inputs = new long[batch * t];
        long[] targets = new long[batch * t];
        long[] evalInputs = new long[EVAL_BATCH * t];
        long[] evalTargets = new long[EVAL_BATCH * t];
        int[] order = new int[train.count()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SplittableRandom shuffler = new SplittableRandom(cfg.seed() ^ 0x5DEECE66DL);
        int cursor = order.length; // forces a shuffle before the first batch
        listener.started(recipe, steps);
        Engine.getEngine("PyTorch").setRandomSeed((int) cfg.seed()); // the same initial weights for every recipe
        try (Model model = Model.newInstance("gpt-" + recipe.name(), "PyTorch")) {
            model.setBlock(new Gpt(cfg.model(recipe.norm())));
            DefaultTrainingConfig config = new DefaultTrainingConfig(new NextTokenLoss())
                    .optInitializer(new NormalInitializer(Gpt.INIT_STD), Parameter.Type.WEIGHT);
            try (Trainer trainer = model.newTrainer(config);
                 VecoptStep step = VecoptStep.builder(trainer)
                         .optimizer(p -> setup.build(p, recipe.clipNorm(), cfg.threads()))
                         .precision(setup.precision())
                         .schedule(schedule)
                         .build()) {
                trainer.initialize(new Shape(batch, t));
                // The findings are printed beside the summary table, so the monitor does not also log them.
                Monitor.Builder mb = Monitor.builder().totalSteps(steps).warmupSteps(recipe.warmupSteps(steps))
                        .logger(SILENT_LOGGER);
                if (recipe.clips()) {
                    mb.clipGradNorm(recipe.clipNorm());
                }
                Monitor monitor = mb.build(); // a resumed run's monitor has not seen the steps before it
                int start = 0;
                if (checkpoints.resume() != null) {
                    // Binding needs gradients: one forward and backward pass (on the first batch; bind() zeroes
                    // the gradients again), then the checkpoint writes parameters and moments into the bound memory.
                    train.slice(0, batch, inputs, targets);
                    forwardBackward(trainer, inputs, targets, batch, t);
                    start = checkpoints.resumeInto(step.bind(), cfg, log);
                    for (int s = 0; s < start; s++) { // the batch order of the steps already run, replayed
                        cursor = nextBatch(order, cursor, batch, shuffler);
                        cursor += batch;
                    }
                }
                BackgroundSave saver = null;
                for (int s = start; s < steps; s++) {
                    boolean evaluates = s % cfg.evalEvery() == 0;
                    boolean saves = saver != null && checkpoints.due(s);
                    if (evaluates || saves || (s == start && start > 0)) {
                        // One window in evaluation mode (the setup's hooks: schedule-free AdamW's eval(), then
                        // train()) for the held-out loss and the checkpoint, so that the checkpoint holds the
                        // parameters evaluated and a run that saves at its evaluation steps makes the same
                        // eval()/train() calls as one that does not. A resumed run's optimizer was loaded in
                        // evaluation mode: it leaves that mode here, as the saving run did after its save.
                        Optimizer<?> opt = step.optimizer();
                        if (opt != null) {
                            setup.beforeEvaluation(opt);
                        }
                        double heldOut = evaluates ? evaluate(trainer, data.heldOut(), evalInputs, evalTargets) : 0;
                        if (saves) { // the history of the s steps done: this evaluation is the resumed run's to make
                            checkpoints.save(saver, s, cfg, log);
                        }
                        if (evaluates) {
                            log.addEval(s, heldOut);
                        }
                        if (opt != null) {
                            setup.afterEvaluation(opt);
                        }
                    }
                    cursor = nextBatch(order, cursor, batch, shuffler);
                    train.gather(order, cursor, batch, inputs, targets);
                    cursor += batch;
                    log.paramHash[s] = fingerprint(model);
                    log.batchHash[s] = fingerprint(inputs) * 31 + fingerprint(targets);
                    long t0 = System.nanoTime();
                    double loss = forwardBackward(trainer, inputs, targets, batch, t);
                    long t1 = System.nanoTime();
                    double lr = schedule.lr(s);
                    StepReport out = step.step(lr); // the lr of step s, also after a resume
                    long t2 = System.nanoTime();
                    log.modelMillis[s] = (t1 - t0) / 1e6;
                    log.optimizerMillis[s] = (t2 - t1) / 1e6;
                    log.conversionMillis[s] = step.conversionNanos() / 1e6;
                    log.trainLoss[s] = loss;
                    log.lr[s] = lr;
                    log.gradNorm[s] = out.gradNorm();
                    log.clipCoef[s] = out.clipCoef();
                    log.skipped[s] = out.skipped();
                    log.updateRatio[s] = out.skipped() || !out.normsTracked() ? Double.NaN : out.updateRatio();
                    if (s == start) {
                        log.stateBytesPerParameter = stateBytesPerParameter(step.optimizer());
                    }
                    monitor.observe(out, loss);
                    listener.stepped(s + 1, loss);
                    if (saver == null) {
                        saver = checkpoints.saver(step.optimizer(), recipe);
                    } else if (step.rebinds() > 0) { // nothing in this model moves; a saver holds one optimizer
                        throw new IllegalStateException("the model's memory moved at step " + s
                                + ": the checkpoints' optimizer is gone");
                    }
                }
                RunCheckpoints.finish(saver);
                // the final evaluation leaves the optimizer in evaluation mode: the final parameters are those evaluated
                setup.beforeEvaluation(step.optimizer());
                log.addEval(steps, evaluate(trainer, data.heldOut(), evalInputs, evalTargets));
                log.findings = monitor.findings();
                log.finalParams = parameters(model);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        listener.finished(log);
        return log;
    }

    /**
     * Bytes of optimizer state per parameter, master copy included: {@code Optimizer.stateBytes()} over the
     * parameters (8-bit state: codes, block scales and the float32 moments of tensors below its size threshold).
     */
    static double stateBytesPerParameter(vecopt.optim.Optimizer<?> opt) {
        long n = 0;
        for (vecopt.param.Tensor t : opt.params().tensors()) {
            n += t.length();
        }
        return n == 0 ? 0 : (double) opt.stateBytes() / n;
    }

    /** Forward and backward on {@code n} sequences through DJL's trainer; returns the batch's loss. */
    private static double forwardBackward(Trainer trainer, long[] inputs, long[] targets, int n, int t) {
        try (NDManager scratch = trainer.getManager().newSubManager()) {
            NDArray in = scratch.create(inputs, new Shape(n, t));
            NDArray target = scratch.create(targets, new Shape(n, t));
            try (GradientCollector gc = trainer.newGradientCollector()) {
                NDList logits = trainer.forward(new NDList(in));
                NDArray l = trainer.getLoss().evaluate(new NDList(target), logits);
                gc.backward(l);
                return l.getFloat();
            }
        }
    }

    /** A 64-bit fingerprint of every parameter's bits, in DJL's order (see {@link RunLog#paramHash}). */
    private static long fingerprint(Model model) {
        long h = 0;
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            for (float v : p.getValue().getArray().toFloatArray()) {
                h = (h ^ Float.floatToRawIntBits(v)) * 0x100000001B3L; // FNV-1a's multiplier, per float
            }
        }
        return h;
    }

    private static long fingerprint(long[] values) {
        long h = 0;
        for (long v : values) {
            h = (h ^ v) * 0x100000001B3L;
        }
        return h;
    }

    /** Every parameter's values, concatenated in DJL's order. */
    private static float[] parameters(Model model) {
        int n = 0;
        java.util.List<float[]> parts = new java.util.ArrayList<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            float[] v = p.getValue().getArray().toFloatArray();
            parts.add(v);
            n += v.length;
        }
        float[] all = new float[n];
        int at = 0;
        for (float[] v : parts) {
            System.arraycopy(v, 0, all, at, v.length);
            at += v.length;
        }
        return all;
    }

    /** Where the next batch starts: {@code cursor}, or 0 after a reshuffle (Fisher-Yates) when an epoch ended. */
    private static int nextBatch(int[] order, int cursor, int batch, SplittableRandom shuffler) {
        if (cursor + batch > order.length) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = shuffler.nextInt(i + 1);
                int tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
            return 0;
        }
        return cursor;
    }

    /**
     * Mean next-token loss over every target of the held-out sequences, in slices of {@link #EVAL_BATCH} in order
     * (the last one may be shorter), without gradients, through the buffers {@code inputs} and {@code targets}.
     */
    private static double evaluate(Trainer trainer, MarkovTask.Sequences heldOut, long[] inputs, long[] targets) {
        int batch = EVAL_BATCH;
        int t = heldOut.length();
        double sum = 0;
        for (int from = 0; from < heldOut.count(); from += batch) {
            int n = Math.min(batch, heldOut.count() - from);
            heldOut.slice(from, n, inputs, targets);
            try (NDManager scratch = trainer.getManager().newSubManager()) {
                NDArray in = scratch.create(java.util.Arrays.copyOf(inputs, n * t), new Shape(n, t));
                NDArray target = scratch.create(java.util.Arrays.copyOf(targets, n * t), new Shape(n, t));
                NDList logits = trainer.evaluate(new NDList(in));
                sum += trainer.getLoss().evaluate(new NDList(target), logits).getFloat() * n;
            }
        }
        return sum / heldOut.count();
    }
}
