package vecopt.djl.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import vecopt.charts.Figure;
import vecopt.charts.Panel;
import vecopt.charts.Series;

/**
 * The charts of the comparisons: the large-batch runs (held-out loss against sequences seen, one panel per
 * optimizer, so that runs of different batches and step counts share an axis) and the mixed-precision runs
 * (held-out loss against step, and each run's held-out loss minus the float32 run's).
 */
final class ComparisonFigure {
    private ComparisonFigure() {
    }

    /** One panel per optimizer, in the order the runs came; the same colour for the same batch and warmup. */
    static Figure largeBatch(List<LargeBatchMain.Run> runs, TrainConfig base, double floor) {
        List<String> optimizers = runs.stream().map(LargeBatchMain.Run::optimizer).distinct().toList();
        List<String> arms = runs.stream().map(r -> arm(r)).distinct().toList();
        double top = Math.log(base.vocab()) * 1.15;
        double bottom = floor * 0.9;
        List<Panel> panels = new ArrayList<>();
        for (String o : optimizers) {
            Panel p = new Panel(o + ": held-out loss against sequences seen")
                    .subtitle("same sequences for every batch; lr x k (linear scaling); above the top: drawn at the"
                            + " top edge; legend: final / best")
                    .axes("sequences seen", "held-out loss (log)").logY(2).yRange(bottom, top)
                    .legend(Panel.Legend.BELOW)
                    .level(floor, String.format(Locale.ROOT, "floor %.3f", floor));
            for (LargeBatchMain.Run r : runs) {
                if (!r.optimizer().equals(o)) {
                    continue;
                }
                RunLog l = r.log();
                double[] x = new double[l.evals];
                double[] y = new double[l.evals];
                for (int e = 0; e < l.evals; e++) {
                    x[e] = (double) l.evalStep[e] * r.cfg().batch();
                    y[e] = clamp(l.evalLoss[e], bottom, top);
                }
                p.add(Series.line(String.format(Locale.ROOT, "%s, lr %s: %.3f / %.3f", l.recipe.name(),
                        LargeBatchMain.number(r.cfg().peakLr()), l.finalHeldOutLoss(), l.evalLoss[l.bestEval()]),
                        x, y).colour(arms.indexOf(arm(r))));
            }
            panels.add(p);
        }
        return Figure.grid(panels, 2, 620, 470);
    }

    private static String arm(LargeBatchMain.Run r) {
        return r.multiplier() + (r.log().warmupSteps > 0 ? "w" : "");
    }

    /** Held-out loss against step (training loss faint), and each run's held-out loss minus the first run's. */
    static Figure mixed(List<RunLog> logs, TrainConfig cfg, double floor, String title) {
        double top = Math.log(cfg.vocab()) * 1.1;
        double bottom = floor * 0.9;
        Panel loss = new Panel(title)
                .subtitle("thick: held-out loss; thin: training mini-batch loss; legend: final / best held-out;"
                        + " below: held-out loss minus the first run's (nats)")
                .axes("step", "loss (log)").logY(2).yRange(bottom, top).legend(Panel.Legend.RIGHT)
                .level(floor, String.format(Locale.ROOT, "floor %.3f", floor));
        Panel diff = new Panel("held-out loss minus " + logs.get(0).recipe.name() + "'s (nats; below 0: better)")
                .axes("step", "difference").legend(Panel.Legend.NONE);
        RunLog ref = logs.get(0);
        for (int i = 0; i < logs.size(); i++) {
            RunLog l = logs.get(i);
            double[] steps = new double[l.steps];
            double[] train = new double[l.steps];
            for (int s = 0; s < l.steps; s++) {
                steps[s] = s;
                train[s] = clamp(l.trainLoss[s], bottom, top);
            }
            double[] at = new double[l.evals];
            double[] held = new double[l.evals];
            double[] minus = new double[l.evals];
            for (int e = 0; e < l.evals; e++) {
                at[e] = l.evalStep[e];
                held[e] = clamp(l.evalLoss[e], bottom, top);
                minus[e] = l.evalLoss[e] - ref.evalLoss[e];
            }
            loss.add(Series.line(l.recipe.name() + " (training)", steps, train).colour(i).faint().unlisted());
            loss.add(Series.line(String.format(Locale.ROOT, "%s: %.4f / %.4f", l.recipe.name(),
                    l.finalHeldOutLoss(), l.evalLoss[l.bestEval()]), at, held).colour(i));
            diff.add(Series.line(l.recipe.name(), at, minus).colour(i).unlisted());
        }
        return Figure.column(List.of(loss, diff), 1100, 760, 5, 3);
    }

    /**
     * Held-out loss against sequences seen, every run of {@code ./vecopt schedule-free} on one panel: the AdamW
     * reference thick, schedule-free's runs (measured at x) beside it.
     */
    static Figure scheduleFree(List<ScheduleFreeMain.Run> runs, TrainConfig cfg, double floor) {
        double top = Math.log(cfg.vocab()) * 1.1;
        double bottom = floor * 0.9;
        Panel p = new Panel(String.format(Locale.ROOT, "vecopt schedule-free: held-out loss, GPT %dx%d, batch %d,"
                        + " seed %d", cfg.layers(), cfg.width(), cfg.batch(), cfg.seed()))
                .subtitle("AdamW: 10% warmup + cosine to 0, lr 6e-3; schedule-free AdamW: its own 10% warmup, no"
                        + " schedule, loss measured at x (eval mode); legend: final / best")
                .axes("sequences seen", "held-out loss (log)").logY(2).yRange(bottom, top)
                .legend(Panel.Legend.RIGHT)
                .level(floor, String.format(Locale.ROOT, "floor %.3f", floor));
        for (int i = 0; i < runs.size(); i++) {
            RunLog l = runs.get(i).log();
            double[] x = new double[l.evals];
            double[] y = new double[l.evals];
            for (int e = 0; e < l.evals; e++) {
                x[e] = (double) l.evalStep[e] * runs.get(i).cfg().batch();
                y[e] = clamp(l.evalLoss[e], bottom, top);
            }
            p.add(Series.line(String.format(Locale.ROOT, "%s: %.4f / %.4f", l.recipe.name(), l.finalHeldOutLoss(),
                    l.evalLoss[l.bestEval()]), x, y).colour(i));
        }
        return Figure.column(List.of(p), 1100, 560, 1);
    }

    private static double clamp(double v, double lo, double hi) {
        return Double.isNaN(v) ? hi : Math.min(Math.max(v, lo), hi);
    }

}
