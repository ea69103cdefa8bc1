package vecopt.djl.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import vecopt.charts.Figure;
import vecopt.charts.Marker;
import vecopt.charts.Panel;
import vecopt.charts.Series;

/**
 * The comparison chart of a set of runs: held-out loss (thick) and training loss (thin, faint) against step on a log
 * scale, and the learning rate against step below it, one colour per recipe, with the end of each recipe's warmup
 * dashed in both, and two levels: the uniform guess (ln vocab) and the task's floor (the source's own probabilities).
 * Losses above the top of the scale (a divergence) are drawn at the top edge. The legend gives each recipe's final
 * and best held-out loss and its peak training loss.
 */
final class TrainingFigure {
    static final int WIDTH = 1100;
    static final int HEIGHT = 780;

    private TrainingFigure() {
    }

    static Figure of(List<RunLog> logs, TrainConfig cfg, double floor) {
        return Figure.column(panels(logs, cfg, floor), WIDTH, HEIGHT, 7, 3);
    }

    /** The loss panel and the lr panel. */
    static List<Panel> panels(List<RunLog> logs, TrainConfig cfg, double floor) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (RunLog l : logs) {
            for (double v : Arrays.copyOf(l.trainLoss, l.steps)) {
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
            for (double v : Arrays.copyOf(l.evalLoss, l.evals)) {
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        double uniform = Math.log(cfg.vocab());
        // a blow-up can reach far above the start: capped at 2x the uniform guess, the scale still shows the learning
        double bottom = Math.max(1e-3, Math.min(lo, floor) * 0.9);
        double top = Math.max(Math.min(hi * 1.1, 2 * uniform), bottom * 2);

        Panel loss = new Panel(String.format(Locale.ROOT, "vecopt train: GPT %d layers, width %d, %d heads, context %d,"
                + " %,d parameters; AdamW through DJL, batch %d, peak lr %s, seed %d", cfg.layers(), cfg.width(),
                cfg.heads(), cfg.context(), cfg.model(vecopt.djl.gpt.GptConfig.Norm.PRE).parameterCount(),
                cfg.batch(), number(cfg.peakLr()), cfg.seed()))
                .subtitle("next-token loss (log scale): thick = held-out, thin = training mini-batch; losses above the"
                        + " top are drawn at the top edge; legend: final / best held-out loss (peak training loss)")
                .axes("step", "loss").logY(2).yRange(bottom, top).legend(Panel.Legend.RIGHT)
                .level(uniform, String.format(Locale.ROOT, "uniform ln %d", cfg.vocab()))
                .level(floor, String.format(Locale.ROOT, "floor %.3f (the source's own probabilities)", floor));
        Panel lr = new Panel("").axes("step", "lr").legend(Panel.Legend.NONE);
        for (int i = 0; i < logs.size(); i++) {
            RunLog l = logs.get(i);
            double[] steps = new double[l.steps];
            double[] train = new double[l.steps];
            for (int s = 0; s < l.steps; s++) {
                steps[s] = s;
                train[s] = clamp(l.trainLoss[s], bottom, top);
            }
            double[] evalSteps = new double[l.evals];
            double[] held = new double[l.evals];
            for (int e = 0; e < l.evals; e++) {
                evalSteps[e] = l.evalStep[e];
                held[e] = clamp(l.evalLoss[e], bottom, top);
            }
            loss.add(Series.line(l.recipe.name() + " (training)", steps, train).colour(i).faint().unlisted());
            loss.add(Series.line(legendEntry(l), evalSteps, held).colour(i));
            lr.add(Series.line(l.recipe.name() + " lr", steps, Arrays.copyOf(l.lr, l.steps)).colour(i).unlisted());
        }
        // one dashed line per distinct warmup length, named (in the lr panel) by the recipes that share it
        Map<Long, List<Integer>> warmups = new LinkedHashMap<>();
        for (int i = 0; i < logs.size(); i++) {
            if (logs.get(i).warmupSteps > 0) {
                warmups.computeIfAbsent(logs.get(i).warmupSteps, k -> new ArrayList<>()).add(i);
            }
        }
        warmups.forEach((w, recipes) -> {
            int slot = recipes.get(0);
            String names = String.join(", ", recipes.stream().map(i -> logs.get(i).recipe.name()).toList());
            loss.mark(Marker.at(w, "").colour(slot));
            lr.mark(Marker.at(w, "warmup ends @" + w + " (" + names + ")").colour(slot));
        });
        return List.of(loss, lr);
    }

    /** "warmup: 1.2345 / 1.2301 (peak 4.17)", with skipped steps where there were any. */
    static String legendEntry(RunLog l) {
        double peak = Arrays.stream(l.trainLoss).filter(Double::isFinite).max().orElse(Double.NaN);
        return String.format(Locale.ROOT, "%s: %.4f / %.4f (peak %.3g%s)", l.recipe.name(), l.finalHeldOutLoss(),
                l.evalLoss[l.bestEval()], peak, l.skippedSteps() > 0 ? ", " + l.skippedSteps() + " skipped" : "");
    }

    /** NaN stays a gap; everything else is held inside the scale. */
    private static double clamp(double v, double lo, double hi) {
        return Double.isNaN(v) ? v : Math.min(Math.max(v, lo), hi);
    }

    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e6 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.3g", v);
    }
}
