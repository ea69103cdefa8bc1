package vecopt.djl.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import vecopt.checkpoint.BackgroundSave;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.CheckpointFiles;
import vecopt.checkpoint.Extras;
import vecopt.checkpoint.Restored;
import vecopt.optim.Optimizer;

/**
 * The main job's use of checkpoints: every {@code every} steps a background save of the optimizer bound by the DJL
 * bridge (the model's parameters, which are DJL's own tensors, AdamW's moments, the step counters) and of what the
 * trainer needs to continue exactly, the run's history so far (so the summary of a resumed run is the uninterrupted
 * run's), the recipe and the settings that must not change; and the resume from such a file, which writes the
 * parameters back into DJL's tensors. The batch order needs no saving: it is replayed from the seed; nothing else in
 * the run is random after initialisation (no dropout).
 *
 * @param every  steps between checkpoints, 0 for none
 * @param dir    where checkpoints go (one directory per recipe under it)
 * @param resume a checkpoint to resume from, or null
 */
record RunCheckpoints(int every, Path dir, Path resume) {
    static final RunCheckpoints NONE = new RunCheckpoints(0, null, null);
    static final int KEEP = 3;

    /** What must be the same for a resume to continue the run the checkpoint came from. */
    static String settings(TrainConfig cfg) {
        return String.format(Locale.ROOT, "vocab=%d context=%d width=%d heads=%d layers=%d steps=%d batch=%d lr=%s"
                        + " seed=%d train=%d heldOut=%d evalEvery=%d", cfg.vocab(), cfg.context(), cfg.width(),
                cfg.heads(), cfg.layers(), cfg.steps(), cfg.batch(), Double.toString(cfg.peakLr()), cfg.seed(),
                cfg.trainCount(), cfg.heldOutCount(), cfg.evalEvery());
    }

    BackgroundSave saver(Optimizer<?> opt, Recipe recipe) {
        return every > 0 ? new BackgroundSave(opt, new CheckpointFiles(dir.resolve(recipe.name()), KEEP)) : null;
    }

    /** Whether a checkpoint is due after {@code done} steps (never at 0 and never at the run's end: see the caller). */
    boolean due(int done) {
        return every > 0 && done > 0 && done % every == 0;
    }

    /**
     * Starts a background save of the state after {@code done} steps and of the history in {@code log}. The caller
     * has put the optimizer in evaluation mode ({@link OptimizerSetup#beforeEvaluation}): schedule-free AdamW is
     * saved as x, the parameters one evaluates, and refuses to be saved in train mode.
     */
    void save(BackgroundSave saver, int done, TrainConfig cfg, RunLog log) {
        Extras e = Extras.none().withString("recipe", log.recipe.name()).withString("settings", settings(cfg))
                .withString("evals", Integer.toString(log.evals));
        for (Map.Entry<String, double[]> a : arrays(log).entrySet()) {
            e = e.withString("log." + a.getKey(), join(a.getValue(), a.getKey().startsWith("eval") ? log.evals : done));
        }
        try {
            saver.start(done, e);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** Waits for the last save and reports its failure, if any. */
    static void finish(BackgroundSave saver) {
        if (saver != null) {
            try {
                saver.close();
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        }
    }

    /**
     * Loads {@link #resume} into {@code opt} and the run's history into {@code log}; returns the step to continue
     * from. Throws naming what differs when the file is of another recipe or other settings.
     */
    int resumeInto(Optimizer<?> opt, TrainConfig cfg, RunLog log) throws IOException {
        Restored r = Checkpoint.load(resume, opt);
        String recipe = r.strings().get("recipe");
        if (!log.recipe.name().equals(recipe)) {
            throw new IllegalArgumentException(resume + " is a checkpoint of recipe '" + recipe + "', not '"
                    + log.recipe.name() + "'");
        }
        if (!settings(cfg).equals(r.strings().get("settings"))) {
            throw new IllegalArgumentException(resume + " was saved with " + r.strings().get("settings")
                    + "; this run has " + settings(cfg));
        }
        log.evals = Integer.parseInt(r.strings().get("evals"));
        for (Map.Entry<String, double[]> a : arrays(log).entrySet()) {
            double[] saved = split(r.strings().get("log." + a.getKey()));
            System.arraycopy(saved, 0, a.getValue(), 0, saved.length);
        }
        for (int i = 0; i < r.globalStep(); i++) {
            log.skipped[i] = log.skippedAsDouble[i] != 0;
        }
        for (int i = 0; i < log.evals; i++) {
            log.evalStep[i] = (int) log.evalStepAsDouble[i];
        }
        return Math.toIntExact(r.globalStep());
    }

    /** The history's arrays, by name (skipped steps and eval steps through their double mirrors). */
    private static Map<String, double[]> arrays(RunLog log) {
        for (int i = 0; i < log.steps; i++) {
            log.skippedAsDouble[i] = log.skipped[i] ? 1 : 0;
        }
        for (int i = 0; i < log.evals; i++) {
            log.evalStepAsDouble[i] = log.evalStep[i];
        }
        Map<String, double[]> m = new java.util.LinkedHashMap<>();
        m.put("trainLoss", log.trainLoss);
        m.put("lr", log.lr);
        m.put("gradNorm", log.gradNorm);
        m.put("clipCoef", log.clipCoef);
        m.put("updateRatio", log.updateRatio);
        m.put("modelMillis", log.modelMillis);
        m.put("optimizerMillis", log.optimizerMillis);
        m.put("skipped", log.skippedAsDouble);
        m.put("evalStep", log.evalStepAsDouble);
        m.put("evalLoss", log.evalLoss);
        return m;
    }

    /** Doubles as Java prints them (each parses back to the same double). */
    private static String join(double[] a, int n) {
        StringJoiner j = new StringJoiner(",");
        for (int i = 0; i < n; i++) {
            j.add(Double.toString(a[i]));
        }
        return j.toString();
    }

    private static double[] split(String s) {
        return s.isEmpty() ? new double[0] : Arrays.stream(s.split(",")).mapToDouble(Double::parseDouble).toArray();
    }
}
