package vecopt.djl.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import vecopt.checkpoint.CheckpointFiles;

/**
 * {@code ./vecopt schedule-free}: the demo's transformer and task at one budget, trained with the demo's AdamW
 * recipe (10% linear warmup, cosine decay to 0, peak lr 6e-3) and with schedule-free AdamW ({@link ScheduleFree}:
 * its own 10% warmup, no schedule) at a few lrs, then schedule-free without warmup at the best of them. Held-out
 * losses of schedule-free are measured at x, the averaged iterate ({@code eval()} before each evaluation,
 * {@code train()} after). Each schedule-free run with warmup saves one checkpoint mid-run, in eval mode, inside the
 * evaluation window; the best run is then resumed from its checkpoint, and the command reports whether it ended
 * bitwise where the uninterrupted run ended and, if not, the first step where the two parted and what differed there
 * first (the batch, the parameters, or PyTorch's loss or gradients on equal inputs). Prints a table and writes it
 * ({@code summary.md}), every step
 * ({@code runs.csv}) and a chart ({@code schedule-free.svg}, {@code .png}: held-out loss against sequences seen).
 *
 * <pre>
 *   ./vecopt schedule-free --torch-threads 1 --out docs/schedule-free
 *   ./vecopt schedule-free --lrs 0.006,0.012 --steps 400
 * </pre>
 */
public final class ScheduleFreeMain {
    static final String USAGE = """
            usage: ./vecopt schedule-free [flags]
              --lrs x,y           schedule-free AdamW's lrs (default 0.0015,0.003,0.006,0.012: 0.25x to 2x AdamW's 6e-3)
              --no-resume-check   skip the resume from the mid-run checkpoint
              --steps N           (default 200)
              --seed N            (default 42)
              --width N, --layers N, --heads N, --context N   the model (default the main job's: 128, 4, 4, 32)
              --threads N         vecopt's threads (default 1)
              --torch-threads N   PyTorch's threads (default 1: repeatable numbers)
              --out DIR           (default out/schedule-free)
              --progress bar|lines|none
            """;

    private ScheduleFreeMain() {
    }

    /** One run of the comparison: which optimizer, its lr and warmup, and its log. */
    record Run(String optimizer, double lr, TrainConfig cfg, RunLog log) {
    }

    /**
     * The outcome of resuming a run from its mid-run checkpoint: how many final parameters differ from the
     * uninterrupted run's (bit for bit) and by how much at most, the first held-out evaluation that differs (-1:
     * none) with both losses, and the first step at which the two runs part (-1: none), with what differed there
     * first: the parameters entering the step (the optimizer or the resume), or, on bitwise-equal parameters and
     * batch, what PyTorch's forward and backward pass returned (the loss or the gradients' norm).
     */
    record ResumeCheck(String run, int from, int values, int differing, double maxDifference, int firstEvalStep,
                       double whole, double resumed, int partedAt, String parted) {
        String describe() {
            if (differing == 0 && firstEvalStep < 0 && partedAt < 0) {
                return String.format(Locale.ROOT, "Resumed `%s` from its checkpoint after step %d (saved in eval"
                        + " mode, parameters x): all of %,d final parameters bitwise equal to the uninterrupted"
                        + " run's; held-out losses identical; every step's parameters, batch, loss and gradient"
                        + " norm identical.%n", run, from, values);
            }
            return String.format(Locale.ROOT, "Resumed `%s` from its checkpoint after step %d (saved in eval mode,"
                    + " parameters x): %,d of %,d final parameters differ from the uninterrupted run's (at most by"
                    + " %.3g); the held-out losses first differ at step %d (%.7f uninterrupted, %.7f resumed). The"
                    + " runs first part at step %d: %s.%n",
                    run, from, differing, values, maxDifference, firstEvalStep, whole, resumed, partedAt, parted);
        }
    }

    /** Parses {@code --lrs}: numbers > 0 and finite, else an error naming the flag and the value. */
    static List<Double> lrs(ComparisonFlags flags) {
        if (!flags.has("--lrs")) {
            return ScheduleFree.LRS;
        }
        List<Double> out = new ArrayList<>();
        for (String s : flags.list("--lrs", "")) {
            double lr;
            try {
                lr = Double.parseDouble(s.strip());
            } catch (NumberFormatException e) {
                lr = Double.NaN;
            }
            if (!(lr > 0) || lr == Double.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("--lrs must be finite numbers > 0, got '" + s + "'");
            }
            out.add(lr);
        }
        return out;
    }

    public static void main(String[] args) throws IOException {
        ComparisonFlags flags;
        List<Double> lrs;
        try {
            flags = ComparisonFlags.parse(Set.of("--lrs", "--no-resume-check!"), args);
            lrs = lrs(flags);
            flags.intValue("--steps"); // the shared flags, checked before any run
            flags.progress();
        } catch (IllegalArgumentException e) {
            System.err.println("vecopt schedule-free: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        if (flags.help()) {
            System.out.println(USAGE);
            return;
        }
        flags.configureEngine();
        Path dir = flags.out("out/schedule-free");
        Files.createDirectories(dir);
        Path checkpoints = Files.createTempDirectory("vecopt-schedule-free");
        try {
            run(flags, lrs, dir, checkpoints, System.out);
        } finally {
            try (Stream<Path> files = Files.walk(checkpoints)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The comparison; checkpoints go under {@code checkpointDir}. Returns the runs, the reference first. */
    static List<Run> run(ComparisonFlags flags, List<Double> lrs, Path dir, Path checkpointDir, PrintStream out)
            throws IOException {
        int steps = flags.intValue("--steps");
        TrainConfig base = flags.config(steps, TrainFlags.DEFAULT_BATCH, TrainFlags.DEFAULT_LR);
        MarkovTask task = base.task();
        MarkovTask.Split data = task.generate(base.trainCount(), base.heldOutCount(), base.context(), base.seed());
        double floor = task.oracleLoss(data.heldOut());
        Progress progress = new Progress(flags.progress(), System.err);
        long t0 = System.nanoTime();
        List<Run> runs = new ArrayList<>();
        Recipe warmup = Recipe.named(ScheduleFree.ADAMW_RECIPE);
        Recipe adamw = new Recipe("adamw warmup+cosine", warmup.description(), warmup.norm(),
                warmup.warmupFraction(), warmup.decay(), warmup.clipNorm());
        runs.add(new Run("AdamW", base.peakLr(), base, TrainingRun.run(base, adamw, TrainingRun.ADAMW_SETUP, data,
                progress)));
        // one checkpoint in the middle, at an evaluation step, so that saving it adds no eval()/train() round trip
        int mid = steps / 2 / base.evalEvery() * base.evalEvery();
        RunCheckpoints saving = new RunCheckpoints(mid > 0 ? mid : 0, checkpointDir, null);
        Run best = null;
        for (double lr : lrs) {
            Run r = scheduleFree(flags, steps, lr, true, data, progress, saving);
            runs.add(r);
            if (best == null || r.log().finalHeldOutLoss() < best.log().finalHeldOutLoss()) {
                best = r;
            }
        }
        runs.add(scheduleFree(flags, steps, best.lr(), false, data, progress, RunCheckpoints.NONE));
        String table = table(runs, floor, base);
        if (!flags.has("--no-resume-check") && mid > 0) {
            Path file = new CheckpointFiles(checkpointDir.resolve(best.log().recipe.name()), RunCheckpoints.KEEP)
                    .pathFor(mid);
            ScheduleFree setup = new ScheduleFree(best.log().recipe.name(), best.log().warmupSteps);
            RunLog resumed = TrainingRun.run(best.cfg(), best.log().recipe, setup, data, progress,
                    new RunCheckpoints(0, checkpointDir, file));
            table += "\n" + compare(best, resumed, mid).describe();
        }
        out.print(table);
        Files.writeString(dir.resolve("summary.md"), table);
        Files.writeString(dir.resolve("runs.csv"), Summary.csv(runs.stream().map(Run::log).toList(), true));
        Path svg = dir.resolve("schedule-free.svg");
        try {
            out.println("wrote " + ComparisonFigure.scheduleFree(runs, base, floor).write(svg));
        } catch (Error | RuntimeException e) { // a JDK without fontconfig throws from java.awt's font set-up
            out.println("(no chart: java.awt cannot render here: " + e + ")");
        }
        out.printf(Locale.ROOT, "wrote %s (%.1fs in all)%n", dir, (System.nanoTime() - t0) / 1e9);
        return runs;
    }

    private static Run scheduleFree(ComparisonFlags flags, int steps, double lr, boolean warmup,
                                    MarkovTask.Split data, Progress progress, RunCheckpoints checkpoints) {
        String name = "schedule-free lr " + LargeBatchMain.number(lr) + (warmup ? "" : " no-warmup");
        Recipe recipe = ScheduleFree.recipe(name, warmup);
        TrainConfig cfg = flags.config(steps, TrainFlags.DEFAULT_BATCH, lr);
        ScheduleFree setup = new ScheduleFree(name, recipe.warmupSteps(steps));
        return new Run("schedule-free AdamW", lr, cfg, TrainingRun.run(cfg, recipe, setup, data, progress,
                checkpoints));
    }

    /**
     * How the resumed run's final parameters, held-out losses and steps compare with the uninterrupted run's, bit for
     * bit. Steps are compared from {@code from} on, in the order a step computes them: its batch and the parameters
     * its forward pass reads, then the loss and the gradients' norm that pass gives.
     */
    static ResumeCheck compare(Run whole, RunLog resumed, int from) {
        float[] a = whole.log().finalParams();
        float[] b = resumed.finalParams();
        int differing = Math.abs(a.length - b.length);
        double max = 0;
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                differing++;
                max = Math.max(max, Math.abs((double) a[i] - b[i]));
            }
        }
        RunLog w = whole.log();
        int partedAt = -1;
        String parted = "";
        for (int s = from; s < Math.min(w.steps, resumed.steps) && partedAt < 0; s++) {
            boolean loss = Double.doubleToRawLongBits(w.trainLoss[s])
                    != Double.doubleToRawLongBits(resumed.trainLoss[s]);
            boolean grad = Double.doubleToRawLongBits(w.gradNorm[s]) != Double.doubleToRawLongBits(resumed.gradNorm[s]);
            if (w.batchHash[s] != resumed.batchHash[s]) {
                parted = "its batch differs (the replayed batch order)";
            } else if (w.paramHash[s] != resumed.paramHash[s]) {
                parted = "the parameters entering it differ (the optimizer or the resume: vecopt's side)";
            } else if (loss || grad) {
                parted = String.format(Locale.ROOT, "on bitwise-equal parameters and batch, PyTorch's forward and"
                        + " backward pass gave a different %s (loss %.17g against %.17g, gradient norm %.17g"
                        + " against %.17g): outside vecopt", loss ? "loss" : "gradient", w.trainLoss[s],
                        resumed.trainLoss[s], w.gradNorm[s], resumed.gradNorm[s]);
            } else {
                continue;
            }
            partedAt = s;
        }
        if (partedAt < 0 && differing > 0) {
            partedAt = w.steps;
            parted = "every step agreed; the last step's update, the final eval() or the read-back differs";
        }
        double[] wa = w.heldOutLoss();
        double[] ra = resumed.heldOutLoss();
        for (int e = 0; e < Math.max(wa.length, ra.length); e++) {
            double x = e < wa.length ? wa[e] : Double.NaN;
            double r = e < ra.length ? ra[e] : Double.NaN;
            if (Double.doubleToRawLongBits(x) != Double.doubleToRawLongBits(r)) {
                int at = e < wa.length ? w.evalStep[e] : resumed.evalStep[e];
                return new ResumeCheck(w.recipe.name(), from, a.length, differing, max, at, x, r, partedAt, parted);
            }
        }
        return new ResumeCheck(w.recipe.name(), from, a.length, differing, max, -1, Double.NaN, Double.NaN, partedAt,
                parted);
    }

    /** The Markdown table of {@code runs}, its caption saying where schedule-free's held-out loss is measured. */
    static String table(List<Run> runs, double floor, TrainConfig base) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "schedule-free AdamW against AdamW with warmup + cosine decay: %d steps"
                        + " of batch %d (%,d sequences), GPT %dx%d, seed %d; held-out loss in nats (floor %.3f)."
                        + " Schedule-free's held-out loss is measured at x, its averaged iterate: eval mode"
                        + " (optimizer.eval() before every evaluation, train() after), as its authors evaluate it.%n%n",
                base.steps(), base.batch(), (long) base.steps() * base.batch(), base.layers(), base.width(),
                base.seed(), floor));
        sb.append("| run | optimizer | lr | schedule | warmup steps | steps | final loss | best loss (step) | skipped |"
                + " opt ms/step |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (Run r : runs) {
            RunLog l = r.log();
            int best = l.bestEval();
            String schedule = l.recipe.decay() == Recipe.Decay.CONSTANT ? "none (constant lr)"
                    : l.recipe.decay().name().toLowerCase(Locale.ROOT) + " to 0";
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %d | %d | %.4f | %.4f (%d) | %d | %.3f |%n",
                    l.recipe.name(), r.optimizer(), LargeBatchMain.number(r.lr()), schedule, l.warmupSteps, l.steps,
                    l.finalHeldOutLoss(), l.evalLoss[best], l.evalStep[best], l.skippedSteps(),
                    Summary.quantile(l.optimizerMillis, 0.5)));
        }
        return sb.toString();
    }
}
