package vecopt.djl.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code ./vecopt large-batch}: the demo's transformer and task at one budget of sequences, trained with the base
 * batch (8) and with batches k times larger under the linear scaling rule, with and without warmup, by AdamW, LAMB,
 * SGD with momentum and LARS ({@link LargeBatch}); prints a table and writes it ({@code summary.md}), every step
 * ({@code runs.csv}) and a chart ({@code large-batch.svg}, {@code .png}: held-out loss against sequences seen, one
 * panel per optimizer). {@code --sweep} runs the base-batch lr sweep instead ({@code sweep.md}, {@code sweep.csv}).
 *
 * <pre>
 *   ./vecopt large-batch --steps 800 --multipliers 8,16 --torch-threads 1 --out docs/large-batch
 *   ./vecopt large-batch --sweep --torch-threads 1 --out docs/large-batch
 * </pre>
 */
public final class LargeBatchMain {
    static final String USAGE = """
            usage: ./vecopt large-batch [flags]
              --multipliers k,k   batch multipliers against the base batch 8 (default 8)
              --optimizers a,b    of adamw,lamb,sgd,lars (default all)
              --sweep             the lr sweep at the base batch instead of the comparison
              --lrs x,y           the sweep's lrs (default: LargeBatch.sweep's per optimizer)
              --from a.csv,b.csv  no training: the table and chart of runs.csv files written before (runs made
                                  in separate processes, e.g. one per optimizer), into --out; a run in several
                                  files (the base run of each pass) is taken from the first
              --steps N           steps of the base batch; a batch k times larger takes N / k (default 200)
              --seed N            (default 42)
              --width N, --layers N, --heads N, --context N   the model (default the main job's: 128, 4, 4, 32)
              --threads N         vecopt's threads (default 1)
              --torch-threads N   PyTorch's threads (default 1: repeatable numbers)
              --out DIR           (default out/large-batch)
              --progress bar|lines|none
            """;

    private LargeBatchMain() {
    }

    public static void main(String[] args) throws IOException {
        ComparisonFlags flags;
        try {
            flags = ComparisonFlags.parse(Set.of("--multipliers", "--optimizers", "--sweep!", "--lrs", "--from"), args);
            for (String o : flags.list("--optimizers", String.join(",", LargeBatch.OPTIMIZERS))) {
                LargeBatch.setup(o);
            }
            for (String k : flags.list("--multipliers", "8")) { // checked here, before any run, naming the flag
                if (!k.strip().matches("[1-9][0-9]*")) {
                    throw new IllegalArgumentException("--multipliers must be integers > 0, got '" + k + "'");
                }
            }
            for (String lr : flags.has("--lrs") ? flags.list("--lrs", "") : List.<String>of()) {
                try {
                    if (!(Double.parseDouble(lr) > 0)) {
                        throw new NumberFormatException();
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--lrs must be numbers > 0, got '" + lr + "'");
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println("vecopt large-batch: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        if (flags.help()) {
            System.out.println(USAGE);
            return;
        }
        flags.configureEngine();
        PrintStream out = System.out;
        List<String> optimizers = flags.list("--optimizers", String.join(",", LargeBatch.OPTIMIZERS));
        int baseSteps = flags.intValue("--steps");
        TrainConfig base = flags.config(baseSteps, LargeBatch.BASE_BATCH, 1);
        MarkovTask task = base.task();
        MarkovTask.Split data = task.generate(base.trainCount(), base.heldOutCount(), base.context(), base.seed());
        double floor = task.oracleLoss(data.heldOut());
        Progress progress = new Progress(flags.progress(), System.err);
        Path dir = flags.out("out/large-batch");
        Files.createDirectories(dir);
        long t0 = System.nanoTime();
        List<Run> runs = new ArrayList<>();
        if (flags.has("--from")) {
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (String csv : flags.list("--from", "")) {
                for (Run r : read(Path.of(csv), flags)) {
                    // the base run comes with every pass (--multipliers 8, then 16): the first file's is kept
                    if (seen.add(r.log().recipe.name())) {
                        runs.add(r);
                    }
                }
            }
            write(runs, dir, base, floor, out);
        } else if (flags.has("--sweep")) {
            for (String o : optimizers) {
                List<Double> lrs = flags.has("--lrs")
                        ? flags.list("--lrs", "").stream().map(Double::parseDouble).toList() : LargeBatch.sweep(o);
                for (double lr : lrs) {
                    Recipe r = LargeBatch.recipe(o, 1, true);
                    r = new Recipe(o + " lr " + number(lr), r.description(), r.norm(), r.warmupFraction(),
                            r.decay(), 0);
                    TrainConfig cfg = flags.config(baseSteps, LargeBatch.BASE_BATCH, lr);
                    runs.add(new Run(o, 1, cfg, TrainingRun.run(cfg, r, LargeBatch.setup(o), data, progress)));
                }
            }
            String table = table(runs, floor, "lr sweep at batch " + LargeBatch.BASE_BATCH);
            out.print(table);
            Files.writeString(dir.resolve("sweep.md"), table);
            Files.writeString(dir.resolve("sweep.csv"), Summary.csv(logs(runs), true));
        } else {
            List<Integer> multipliers = new ArrayList<>();
            for (String m : flags.list("--multipliers", "8")) {
                multipliers.add(Integer.parseInt(m.strip())); // checked above
            }
            for (String o : optimizers) {
                double lr = LargeBatch.baseLr(o);
                TrainConfig cfg = flags.config(baseSteps, LargeBatch.BASE_BATCH, lr);
                runs.add(new Run(o, 1, cfg, TrainingRun.run(cfg, LargeBatch.recipe(o, 1, true), LargeBatch.setup(o),
                        data, progress)));
                for (int k : multipliers) {
                    for (boolean warmup : new boolean[] {true, false}) {
                        TrainConfig big = flags.config(Math.max(1, baseSteps / k), LargeBatch.BASE_BATCH * k, lr * k);
                        runs.add(new Run(o, k, big, TrainingRun.run(big, LargeBatch.recipe(o, k, warmup),
                                LargeBatch.setup(o), data, progress)));
                    }
                }
            }
            write(runs, dir, base, floor, out);
        }
        out.printf(Locale.ROOT, "wrote %s (%.1fs in all)%n", dir, (System.nanoTime() - t0) / 1e9);
    }

    private static void write(List<Run> runs, Path dir, TrainConfig base, double floor, PrintStream out)
            throws IOException {
        String table = table(runs, floor, "large batches, linear scaling rule");
        out.print(table);
        Files.writeString(dir.resolve("summary.md"), table);
        Files.writeString(dir.resolve("runs.csv"), Summary.csv(logs(runs), true));
        Path svg = dir.resolve("large-batch.svg");
        try {
            out.println("wrote " + ComparisonFigure.largeBatch(runs, base, floor).write(svg));
        } catch (Error | RuntimeException e) { // a JDK without fontconfig throws from java.awt's font set-up
            out.println("(no chart: java.awt cannot render here: " + e + ")");
        }
    }

    /**
     * The runs of a {@code runs.csv} this command wrote ({@link Summary#csv}): names "opt xk warmup|no-warmup",
     * the batch and peak lr recovered from them (the lr is the largest of the schedule's), the per-step columns and
     * held-out losses read back, and each step's optimizer time from the {@code optimizer_ms} column (NaN for a file
     * written before the column existed, whose table then reads NaN in that column).
     */
    static List<Run> read(Path csv, ComparisonFlags flags) throws IOException {
        java.util.Map<String, List<String[]>> rows = new java.util.LinkedHashMap<>();
        for (String line : Files.readAllLines(csv).subList(1, Files.readAllLines(csv).size())) {
            String[] c = line.split(",", -1);
            rows.computeIfAbsent(c[0], k -> new ArrayList<>()).add(c);
        }
        List<Run> runs = new ArrayList<>();
        rows.forEach((name, lines) -> {
            String[] parts = name.split(" ");
            String optimizer = parts[0];
            int k = Integer.parseInt(parts[1].substring(1));
            boolean warmup = parts[2].equals("warmup");
            int steps = lines.size() - 1;
            double peak = 0;
            for (int s = 0; s < steps; s++) {
                peak = Math.max(peak, Double.parseDouble(lines.get(s)[2]));
            }
            Recipe r = LargeBatch.recipe(optimizer, k, warmup);
            TrainConfig cfg = flags.config(steps, LargeBatch.BASE_BATCH * k, peak);
            RunLog log = new RunLog(r, steps, r.warmupSteps(steps), steps + 1);
            for (int s = 0; s <= steps; s++) {
                String[] c = lines.get(s);
                if (s < steps) {
                    log.lr[s] = Double.parseDouble(c[2]);
                    log.trainLoss[s] = Double.parseDouble(c[3]);
                    log.gradNorm[s] = Double.parseDouble(c[4]);
                    log.clipCoef[s] = Double.parseDouble(c[5]);
                    log.skipped[s] = Boolean.parseBoolean(c[6]);
                    log.updateRatio[s] = Double.parseDouble(c[7]);
                    log.optimizerMillis[s] = c.length > 9 && !c[9].isEmpty() ? Double.parseDouble(c[9]) : Double.NaN;
                }
                if (!c[8].isEmpty()) {
                    log.addEval(s, Double.parseDouble(c[8]));
                }
            }
            runs.add(new Run(optimizer, k, cfg, log));
        });
        return runs;
    }

    /** One run of the comparison: its optimizer, batch multiplier, settings and log. */
    record Run(String optimizer, int multiplier, TrainConfig cfg, RunLog log) {
    }

    private static List<RunLog> logs(List<Run> runs) {
        return runs.stream().map(Run::log).toList();
    }

    /** The Markdown table of {@code runs}. */
    static String table(List<Run> runs, double floor, String title) {
        StringBuilder sb = new StringBuilder();
        sb.append(f("%s; held-out loss in nats (floor %.3f), GPT 4x128, seed %d%n%n", title, floor,
                runs.get(0).cfg().seed()));
        sb.append("| run | batch | steps | peak lr | warmup steps | sequences | final loss | best loss (sequences) |"
                + " skipped | grad norm med/max | opt ms/step |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Run r : runs) {
            RunLog l = r.log();
            int best = l.bestEval();
            double[] norms = java.util.stream.IntStream.range(0, l.steps).filter(s -> !l.skipped[s])
                    .mapToDouble(s -> l.gradNorm[s]).toArray();
            sb.append(f("| %s | %d | %d | %s | %d | %d | %.4f | %.4f (%d) | %d | %.3g / %.3g | %.3f |%n",
                    l.recipe.name(), r.cfg().batch(), l.steps, number(r.cfg().peakLr()), l.warmupSteps,
                    (long) l.steps * r.cfg().batch(), l.finalHeldOutLoss(), l.evalLoss[best],
                    (long) l.evalStep[best] * r.cfg().batch(), l.skippedSteps(), Summary.quantile(norms, 0.5),
                    Summary.quantile(norms, 1), Summary.quantile(l.optimizerMillis, 0.5)));
        }
        return sb.toString();
    }

    static String number(double v) {
        return String.format(Locale.ROOT, "%.3g", v);
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
