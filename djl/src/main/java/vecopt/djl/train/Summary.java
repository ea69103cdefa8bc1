package vecopt.djl.train;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import vecopt.monitor.Finding;

/** The comparison table (terminal and Markdown) and the per-step CSV of a set of runs. */
final class Summary {
    /** A step is a loss spike when its training loss exceeds this multiple of the median of the window before it. */
    static final double SPIKE_FACTOR = 2.0;
    static final int SPIKE_WINDOW = 25;

    private Summary() {
    }

    /** One row of the table. */
    record Row(String recipe, double finalLoss, double bestLoss, int bestStep, int spikes,
               int skipped, double gradNormMedian, double gradNormMax, double clippedShare, double ratioMedian,
               double ratioMax, double optimizerMillis, double optimizerShare) {
    }

    static Row row(RunLog log) {
        int best = log.bestEval();
        double[] norms = finite(log.gradNorm, log.skipped);
        double[] ratios = finite(log.updateRatio, log.skipped);
        int clipped = 0;
        for (int s = 0; s < log.steps; s++) {
            clipped += !log.skipped[s] && log.clipCoef[s] < 1 ? 1 : 0;
        }
        return new Row(log.recipe.name(), log.finalHeldOutLoss(), log.evalLoss[best], log.evalStep[best],
                spikes(log.trainLoss), log.skippedSteps(), quantile(norms, 0.5),
                quantile(norms, 1), (double) clipped / log.steps, quantile(ratios, 0.5), quantile(ratios, 1),
                quantile(log.optimizerMillis, 0.5), quantile(log.optimizerMillis, 0.5)
                        / (quantile(log.optimizerMillis, 0.5) + quantile(log.modelMillis, 0.5)));
    }

    /**
     * Steps whose training loss is not finite or more than {@link #SPIKE_FACTOR} times the lowest level reached so
     * far, a level being the (lower) median of the up to {@link #SPIKE_WINDOW} losses before a step. Measuring from
     * the best level rather than the recent one counts every step of a blow-up that lasts (a recent median would
     * climb with it and stop counting after a few steps); the median keeps a single lucky batch from setting the
     * level. Mini-batch noise late in training is about +-0.2 on a level near 1.2 here, far inside the factor 2.
     */
    static int spikes(double[] loss) {
        int n = 0;
        double best = Double.POSITIVE_INFINITY;
        for (int s = 0; s < loss.length; s++) {
            if (!Double.isFinite(loss[s])) {
                n++;
            } else if (s > 0) {
                double[] window = Arrays.copyOfRange(loss, Math.max(0, s - SPIKE_WINDOW), s);
                Arrays.sort(window); // NaN sorts last
                best = Math.min(best, window[(window.length - 1) / 2]);
                if (loss[s] > SPIKE_FACTOR * best) {
                    n++;
                }
            }
        }
        return n;
    }

    private static double[] finite(double[] values, boolean[] skipped) {
        return java.util.stream.IntStream.range(0, values.length)
                .filter(i -> !skipped[i] && Double.isFinite(values[i])).mapToDouble(i -> values[i]).toArray();
    }

    /** The {@code q}-quantile (nearest rank) of the finite values; NaN when there are none. */
    static double quantile(double[] values, double q) {
        double[] v = Arrays.stream(values).filter(Double::isFinite).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v[(int) Math.min(v.length - 1, Math.round(q * (v.length - 1)))];
    }

    private static final String[] HEAD = {"recipe", "final loss", "best loss (step)", "spikes", "skipped",
        "grad norm med/max", "clipped", "upd/weight med/max", "opt ms/step", "opt share"};

    private static String[] cells(Row r) {
        return new String[] {r.recipe(), f("%.4f", r.finalLoss()), f("%.4f (%d)", r.bestLoss(), r.bestStep()),
            Integer.toString(r.spikes()), Integer.toString(r.skipped()),
            f("%.3g / %.3g", r.gradNormMedian(), r.gradNormMax()), f("%.0f%%", 100 * r.clippedShare()),
            f("%.2e / %.2e", r.ratioMedian(), r.ratioMax()), f("%.3f", r.optimizerMillis()),
            f("%.1f%%", 100 * r.optimizerShare())};
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }

    static void print(PrintStream out, List<RunLog> logs, TrainConfig cfg, double floor) {
        String[][] rows = logs.stream().map(l -> cells(row(l))).toArray(String[][]::new);
        int[] width = new int[HEAD.length];
        for (int c = 0; c < HEAD.length; c++) {
            width[c] = HEAD[c].length();
            for (String[] r : rows) {
                width[c] = Math.max(width[c], r[c].length());
            }
        }
        out.println(line(HEAD, width));
        out.println(line(Arrays.stream(width).mapToObj("-"::repeat).toArray(String[]::new), width));
        for (String[] r : rows) {
            out.println(line(r, width));
        }
        out.println();
        out.print(legend(logs, cfg, floor));
        out.println();
        out.print(findings(logs));
    }

    /**
     * What vecopt's health monitor found in each run: one line per episode (symptom, steps, the numbers) and the
     * remedies that apply to the recipe.
     */
    static String findings(List<RunLog> logs) {
        StringBuilder sb = new StringBuilder("health monitor (vecopt.monitor), per recipe:\n");
        for (RunLog l : logs) {
            if (l.findings.isEmpty()) {
                sb.append(f("  %-15s nothing found%n", l.recipe.name()));
            }
            for (int i = 0; i < l.findings.size(); i++) {
                Finding x = l.findings.get(i);
                String steps = x.firstStep() == x.lastStep() ? "step " + x.firstStep()
                        : "steps " + x.firstStep() + "-" + x.lastStep();
                sb.append(f("  %-15s %s (%s): %s%n", i == 0 ? l.recipe.name() : "", x.symptom().title(), steps,
                        x.detail()));
                sb.append(f("  %-15s   try: %s%n", "", String.join("; ", x.remedies())));
            }
        }
        return sb.toString();
    }

    private static String line(String[] cells, int[] width) {
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            String cell = cells[c];
            sb.append(c == 0 ? String.format("%-" + width[c] + "s", cell) : String.format("  %" + width[c] + "s", cell));
        }
        return sb.toString();
    }

    static String legend(List<RunLog> logs, TrainConfig cfg, double floor) {
        StringBuilder sb = new StringBuilder();
        for (RunLog l : logs) {
            sb.append(f("  %-15s %s%n", l.recipe.name(), l.recipe.description()));
        }
        sb.append(f("loss: held-out next-token cross-entropy in nats (uniform guess ln %d = %.3f; the source's own"
                + " probabilities, the floor no model beats: %.3f); spikes: steps whose training loss is > %.0fx the"
                + " lowest %d-step median so far; skipped: non-finite gradient, no update;%n"
                + "upd/weight: |p_new - p_old| / |p_new| per step; opt ms/step: median time of VecoptStep.step()"
                + " (binding check, norm pass, clipping, update, report, zeroing the gradients); opt share: of median"
                + " forward + backward + optimizer time%n", cfg.vocab(), Math.log(cfg.vocab()), floor, SPIKE_FACTOR,
                SPIKE_WINDOW));
        return sb.toString();
    }

    static String markdown(List<RunLog> logs, TrainConfig cfg, double floor) {
        StringBuilder sb = new StringBuilder();
        sb.append("| ").append(String.join(" | ", HEAD)).append(" |\n");
        sb.append("|---".repeat(HEAD.length)).append("|\n");
        for (RunLog l : logs) {
            sb.append("| ").append(String.join(" | ", cells(row(l)))).append(" |\n");
        }
        sb.append('\n').append(legend(logs, cfg, floor));
        sb.append('\n').append(findings(logs));
        return sb.toString();
    }

    /** Every step of every run, without timings: the same run writes the same file (the main job's training.csv). */
    static String csv(List<RunLog> logs) {
        return csv(logs, false);
    }

    /**
     * As {@link #csv(List)}, with {@code timed} a last column {@code optimizer_ms} (each step's
     * {@code VecoptStep.step()} time), so that a table made later from the file ({@code ./vecopt large-batch --from})
     * can still show the optimizer's time; the file then differs from run to run in that column only.
     */
    static String csv(List<RunLog> logs, boolean timed) {
        StringBuilder sb = new StringBuilder("recipe,step,lr,train_loss,grad_norm,clip_coef,skipped,update_ratio,"
                + "heldout_loss" + (timed ? ",optimizer_ms" : "") + "\n");
        for (RunLog l : logs) {
            int e = 0;
            for (int s = 0; s <= l.steps; s++) {
                String eval = "";
                if (e < l.evals && l.evalStep[e] == s) {
                    eval = Double.toString(l.evalLoss[e]);
                    e++;
                }
                if (s < l.steps) {
                    sb.append(l.recipe.name()).append(',').append(s).append(',').append(l.lr[s]).append(',')
                            .append(l.trainLoss[s]).append(',').append(l.gradNorm[s]).append(',')
                            .append(l.clipCoef[s]).append(',').append(l.skipped[s]).append(',')
                            .append(l.updateRatio[s]).append(',').append(eval);
                    if (timed) {
                        sb.append(',').append(l.optimizerMillis[s]);
                    }
                } else {
                    sb.append(l.recipe.name()).append(',').append(s).append(",,,,,,,").append(eval)
                            .append(timed ? "," : "");
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }
}
