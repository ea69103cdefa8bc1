package vecopt.examples.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * The comparison chart: held-out loss (thick) and training loss (thin, faint) against step on a log scale, and the
 * learning rate against step below it, one colour per recipe, with the end of each recipe's warmup marked by a
 * dashed line. Losses above the top of the scale (a divergence) are drawn at the top edge.
 */
final class Chart {
    private static final int W = 1100, H = 780;
    private static final double X0 = 80, X1 = 860, LOSS_TOP = 70, LOSS_BOTTOM = 480, LR_TOP = 545, LR_BOTTOM = 720;
    private static final String[] COLORS = {"#d62728", "#ff7f0e", "#2ca02c", "#1f77b4", "#9467bd", "#8c564b",
        "#e377c2", "#17becf"};
    private static final String AXIS = "#444444", GRID = "#e4e4e4", TEXT = "#222222";

    private final List<RunLog> logs;
    private final TrainConfig cfg;

    Chart(List<RunLog> logs, TrainConfig cfg) {
        this.logs = logs;
        this.cfg = cfg;
    }

    String svg() {
        SvgCanvas c = new SvgCanvas(W, H);
        draw(c);
        return c.finish();
    }

    /** Writes the PNG; returns false (and writes nothing) where java.awt cannot render, e.g. no fonts installed. */
    boolean writePng(Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        try {
            AwtCanvas c = new AwtCanvas(W, H);
            draw(c);
            return ImageIO.write(c.finish(), "png", file.toFile());
        } catch (Error | RuntimeException e) { // a JDK without fontconfig throws from font set-up
            return false;
        }
    }

    private void draw(Canvas c) {
        int steps = cfg.steps();
        double lo = Double.POSITIVE_INFINITY, hi = 0, maxLr = 0;
        for (RunLog l : logs) {
            for (int s = 0; s < l.steps; s++) {
                if (Double.isFinite(l.trainLoss[s])) {
                    lo = Math.min(lo, l.trainLoss[s]);
                    hi = Math.max(hi, l.trainLoss[s]);
                }
                maxLr = Math.max(maxLr, l.lr[s]);
            }
            for (int e = 0; e < l.evals; e++) {
                if (Double.isFinite(l.evalLoss[e])) {
                    lo = Math.min(lo, l.evalLoss[e]);
                    hi = Math.max(hi, l.evalLoss[e]);
                }
            }
        }
        double chance = Math.log(TeacherTask.DEFAULT.classes());
        lo = Math.max(1e-3, lo * 0.9);
        hi = Math.max(Math.min(hi * 1.1, 5 * chance), lo * 10);
        double logLo = Math.log10(lo), logHi = Math.log10(hi);
        double top = hi;

        c.text(X0, 30, String.format(Locale.ROOT, "vecopt train: %s, MLP hidden %d, batch %d, peak lr %s, seed %d",
                cfg.optimizer() == OptimizerKind.ADAMW ? "AdamW" : "SGD-momentum", cfg.hidden(), cfg.batch(),
                label(cfg.peakLr()), cfg.seed()), 17, TEXT, Canvas.Anchor.START, true);
        c.text(X0, 52, "loss (log scale): thick = held-out, thin = training mini-batch; losses above the top are"
                + " drawn at the top edge", 12, TEXT, Canvas.Anchor.START, false);

        // loss panel grid: 1-2-5 ticks on the log axis
        for (int k = (int) Math.floor(logLo); k <= (int) Math.ceil(logHi); k++) {
            for (int m : new int[] {1, 2, 5}) {
                double v = m * Math.pow(10, k);
                if (v >= lo && v <= hi) {
                    double y = yLog(v, logLo, logHi);
                    c.line(X0, y, X1, y, GRID, 1, false);
                    c.text(X0 - 6, y + 4, label(v), 11, AXIS, Canvas.Anchor.END, false);
                }
            }
        }
        double yChance = yLog(chance, logLo, logHi);
        if (chance >= lo && chance <= hi) {
            c.line(X0, yChance, X1, yChance, "#999999", 1, true);
            c.text(X1 - 4, yChance - 4, String.format(Locale.ROOT, "chance ln %d", TeacherTask.DEFAULT.classes()), 11,
                    "#777777", Canvas.Anchor.END, false);
        }
        // lr panel grid
        for (int i = 0; i <= 4; i++) {
            double v = maxLr * i / 4;
            double y = LR_BOTTOM - (LR_BOTTOM - LR_TOP) * i / 4;
            c.line(X0, y, X1, y, GRID, 1, false);
            c.text(X0 - 6, y + 4, String.format(Locale.ROOT, "%.3g", v), 11, AXIS, Canvas.Anchor.END, false);
        }
        double stepTick = niceStep(steps / 6.0);
        for (double s = 0; s <= steps + 1e-9; s += stepTick) {
            double x = x(s, steps);
            c.line(x, LOSS_TOP, x, LOSS_BOTTOM, GRID, 1, false);
            c.line(x, LR_TOP, x, LR_BOTTOM, GRID, 1, false);
            c.text(x, LOSS_BOTTOM + 16, label(s), 11, AXIS, Canvas.Anchor.MIDDLE, false);
            c.text(x, LR_BOTTOM + 16, label(s), 11, AXIS, Canvas.Anchor.MIDDLE, false);
        }
        c.text(X0 - 55, (LOSS_TOP + LOSS_BOTTOM) / 2, "loss", 13, TEXT, Canvas.Anchor.MIDDLE, true);
        c.text(X0 - 55, (LR_TOP + LR_BOTTOM) / 2, "lr", 13, TEXT, Canvas.Anchor.MIDDLE, true);
        c.text((X0 + X1) / 2, LR_BOTTOM + 40, "step", 13, TEXT, Canvas.Anchor.MIDDLE, true);

        // warmup ends: one dashed line per distinct warmup length, named by the recipes that share it
        Map<Long, List<Integer>> warmups = new LinkedHashMap<>();
        for (int i = 0; i < logs.size(); i++) {
            if (logs.get(i).warmupSteps > 0) {
                warmups.computeIfAbsent(logs.get(i).warmupSteps, k -> new ArrayList<>()).add(i);
            }
        }
        int row = 0;
        for (Map.Entry<Long, List<Integer>> w : warmups.entrySet()) {
            double x = x(w.getKey(), steps);
            String color = COLORS[w.getValue().get(0) % COLORS.length];
            c.line(x, LOSS_TOP, x, LOSS_BOTTOM, color, 1.2, true);
            c.line(x, LR_TOP, x, LR_BOTTOM, color, 1.2, true);
            String names = String.join(", ", w.getValue().stream().map(i -> logs.get(i).recipe.name()).toList());
            c.text(x + 4, LR_TOP + 12 + 13 * row, "warmup ends @" + w.getKey() + " (" + names + ")", 10.5, color,
                    Canvas.Anchor.START, false);
            row++;
        }

        double[] xs = new double[steps + 1];
        double[] ys = new double[steps + 1];
        for (int i = 0; i < logs.size(); i++) {
            RunLog l = logs.get(i);
            String color = COLORS[i % COLORS.length];
            for (int s = 0; s < l.steps; s++) {
                xs[s] = x(s, steps);
                double v = l.trainLoss[s];
                ys[s] = Double.isNaN(v) ? Double.NaN : yLog(Math.min(Math.max(v, lo), top), logLo, logHi);
            }
            c.polyline(xs, ys, l.steps, color, 1, 0.3);
            for (int e = 0; e < l.evals; e++) {
                xs[e] = x(l.evalStep[e], steps);
                double v = l.evalLoss[e];
                ys[e] = Double.isNaN(v) ? Double.NaN : yLog(Math.min(Math.max(v, lo), top), logLo, logHi);
            }
            c.polyline(xs, ys, l.evals, color, 2.4, 1);
            for (int s = 0; s < l.steps; s++) {
                xs[s] = x(s, steps);
                ys[s] = LR_BOTTOM - (LR_BOTTOM - LR_TOP) * l.lr[s] / maxLr;
            }
            c.polyline(xs, ys, l.steps, color, 2, 0.9);
        }
        c.rect(X0, LOSS_TOP, X1 - X0, LOSS_BOTTOM - LOSS_TOP, "none", AXIS);
        c.rect(X0, LR_TOP, X1 - X0, LR_BOTTOM - LR_TOP, "none", AXIS);

        // legend: final held-out loss and accuracy next to each name
        double ly = LOSS_TOP + 8;
        c.text(X1 + 18, ly + 6, "final held-out loss / acc", 11.5, TEXT, Canvas.Anchor.START, true);
        c.text(X1 + 18, ly + 21, "(peak training loss)", 11.5, TEXT, Canvas.Anchor.START, false);
        for (int i = 0; i < logs.size(); i++) {
            RunLog l = logs.get(i);
            double y = ly + 44 + 52 * i;
            c.line(X1 + 18, y - 4, X1 + 44, y - 4, COLORS[i % COLORS.length], 3, false);
            c.text(X1 + 50, y, l.recipe.name(), 12.5, TEXT, Canvas.Anchor.START, true);
            c.text(X1 + 50, y + 15, String.format(Locale.ROOT, "%.4f / %.1f%%", l.finalHeldOutLoss(),
                    100 * l.finalHeldOutAccuracy()), 11.5, AXIS, Canvas.Anchor.START, false);
            double peak = java.util.Arrays.stream(l.trainLoss).filter(Double::isFinite).max().orElse(Double.NaN);
            c.text(X1 + 50, y + 30, String.format(Locale.ROOT, "(peak %.3g%s)", peak,
                    l.skippedSteps() > 0 ? ", " + l.skippedSteps() + " skipped" : ""), 11.5, AXIS,
                    Canvas.Anchor.START, false);
        }
    }

    private static double x(double step, int steps) {
        return X0 + (X1 - X0) * step / steps;
    }

    private static double yLog(double v, double logLo, double logHi) {
        return LOSS_BOTTOM - (LOSS_BOTTOM - LOSS_TOP) * (Math.log10(v) - logLo) / (logHi - logLo);
    }

    private static double niceStep(double raw) {
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= raw) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String label(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e6 ? Long.toString((long) v)
                : String.format(Locale.ROOT, "%.3g", v);
    }
}
