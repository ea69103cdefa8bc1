package vecopt.schedule.plot;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import vecopt.schedule.Schedule;
import vecopt.schedule.Sequential;

/**
 * Lays schedules out as line charts over steps {@code 0 .. steps-1}: axes with ticks, axis labels, a title, a
 * legend, and the end of warmup marked by a dashed vertical line. Render the result with {@link Svg} (or any
 * raster renderer of {@link Mark}s).
 *
 * <pre>{@code
 * Chart side = SchedulePlot.panels(List.of(a, b, c), 10_000);        // one panel each, own y scale
 * Chart one  = SchedulePlot.overlay("cosine vs linear", List.of(a, b), 10_000); // one panel, shared y scale
 * Svg.write(side, Path.of("out/schedules.svg"));
 * }</pre>
 */
public final class SchedulePlot {
    static final String[] PALETTE = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
        "#17becf"};
    private static final int PANEL_W = 560;
    private static final int PANEL_H = 350;
    private static final double LEFT = 78;
    private static final double RIGHT = 22;
    private static final double TOP = 52;
    private static final double BOTTOM = 54;
    private static final double LEGEND_ROW = 18;
    private static final String AXIS = "#333333";
    private static final String GRID = "#e6e6e6";
    private static final String MUTED = "#555555";

    private SchedulePlot() {
    }

    /** One panel per schedule, two panels a row, each with its own y scale (learning rates differ by decades). */
    public static Chart panels(List<? extends Schedule> schedules, long steps) {
        check(schedules, steps);
        int cols = Math.min(2, schedules.size());
        int rows = (schedules.size() + cols - 1) / cols;
        List<Mark> marks = new ArrayList<>();
        marks.add(new Mark.Rect(0, 0, cols * PANEL_W, rows * PANEL_H, "#ffffff", null));
        for (int i = 0; i < schedules.size(); i++) {
            Schedule s = schedules.get(i);
            panel(marks, (i % cols) * PANEL_W, (i / cols) * PANEL_H, s.name(), List.of(s),
                    new String[] {PALETTE[i % PALETTE.length]}, steps);
        }
        return new Chart(cols * PANEL_W, rows * PANEL_H, marks);
    }

    /** All schedules in one panel on a shared y scale, with a legend. */
    public static Chart overlay(String title, List<? extends Schedule> schedules, long steps) {
        check(schedules, steps);
        int w = 2 * PANEL_W;
        int h = (int) (1.5 * PANEL_H);
        List<Mark> marks = new ArrayList<>();
        marks.add(new Mark.Rect(0, 0, w, h, "#ffffff", null));
        String[] colors = new String[schedules.size()];
        for (int i = 0; i < colors.length; i++) {
            colors[i] = PALETTE[i % PALETTE.length];
        }
        panelSized(marks, 0, 0, w, h, title, List.copyOf(schedules), colors, steps);
        return new Chart(w, h, marks);
    }

    private static void check(List<? extends Schedule> schedules, long steps) {
        if (schedules == null || schedules.isEmpty()) {
            throw new IllegalArgumentException("schedules must hold at least one schedule, got "
                    + (schedules == null ? "null" : "none"));
        }
        if (steps < 2) {
            throw new IllegalArgumentException("steps must be >= 2, got " + steps);
        }
    }

    private static void panel(List<Mark> marks, double ox, double oy, String title, List<Schedule> series,
            String[] colors, long steps) {
        panelSized(marks, ox, oy, PANEL_W, PANEL_H, title, series, colors, steps);
    }

    private static void panelSized(List<Mark> marks, double ox, double oy, double pw, double ph, String title,
            List<Schedule> series, String[] colors, long steps) {
        double x0 = ox + LEFT;
        double x1 = ox + pw - RIGHT;
        double y0 = oy + ph - BOTTOM - LEGEND_ROW * legendRows(series, x1 - x0); // bottom of the plot area
        double y1 = oy + TOP;
        long[] at = sampleSteps(series, steps, (int) (x1 - x0));
        double[][] values = new double[series.size()][at.length];
        double max = 0;
        for (int k = 0; k < series.size(); k++) {
            for (int i = 0; i < at.length; i++) {
                double v = series.get(k).lr(at[i]);
                values[k][i] = v;
                if (Double.isFinite(v)) {
                    max = Math.max(max, v);
                }
            }
        }
        Ticks ys = Ticks.of(0, (max > 0 ? max : 1) * 1.08, 5); // headroom so the peak does not sit on the frame
        Ticks xs = Ticks.of(0, steps - 1, 6);
        double yTop = ys.last();
        double xRight = steps - 1;

        // grid and ticks
        for (double t : ys.values()) {
            double y = y0 - (y0 - y1) * t / yTop;
            marks.add(new Mark.Line(x0, y, x1, y, GRID, 1, 0));
            marks.add(new Mark.Line(x0 - 5, y, x0, y, AXIS, 1, 0));
            marks.add(new Mark.Text(x0 - 8, y + 4, ys.label(t), 11, Mark.Align.END, AXIS, false, false));
        }
        for (double t : xs.values()) {
            if (t > xRight) {
                continue;
            }
            double x = x0 + (x1 - x0) * t / xRight;
            marks.add(new Mark.Line(x, y0, x, y0 + 5, AXIS, 1, 0));
            marks.add(new Mark.Text(x, y0 + 18, xs.label(t), 11, Mark.Align.MIDDLE, AXIS, false, false));
        }
        marks.add(new Mark.Line(x0, y0, x1, y0, AXIS, 1.2, 0));
        marks.add(new Mark.Line(x0, y0, x0, y1, AXIS, 1.2, 0));
        marks.add(new Mark.Text((x0 + x1) / 2, y0 + 40, "step", 12, Mark.Align.MIDDLE, AXIS, false, false));
        marks.add(new Mark.Text(ox + 18, (y0 + y1) / 2, "learning rate" + ys.multiplierLabel(), 12,
                Mark.Align.MIDDLE, AXIS, false, true));
        marks.add(new Mark.Text(ox + pw / 2, oy + 22, fit(title, pw - 20, 14), 14, Mark.Align.MIDDLE, "#111111",
                true, false));

        // end of warmup, under the curves
        TreeSet<Long> warmups = new TreeSet<>();
        for (int k = 0; k < series.size(); k++) {
            long w = series.get(k).warmupSteps();
            if (w > 0 && w <= xRight && warmups.add(w)) {
                double x = x0 + (x1 - x0) * w / xRight;
                String c = series.size() == 1 ? MUTED : colors[k];
                marks.add(new Mark.Line(x, y0, x, y1, c, 1.2, 5));
                marks.add(new Mark.Text(x + 4, y0 - 6 - 13 * (warmups.size() - 1), "warmup ends: step " + w, 10.5, Mark.Align.START, c, false,
                        false));
            }
        }

        // curves
        for (int k = 0; k < series.size(); k++) {
            double[] px = new double[at.length];
            double[] py = new double[at.length];
            int n = 0;
            for (int i = 0; i < at.length; i++) {
                double v = values[k][i];
                if (!Double.isFinite(v)) {
                    continue;
                }
                px[n] = x0 + (x1 - x0) * at[i] / xRight;
                py[n] = y0 - (y0 - y1) * Math.min(v, yTop) / yTop;
                n++;
            }
            marks.add(new Mark.Path(Arrays.copyOf(px, n), Arrays.copyOf(py, n), colors[k], 2.2));
        }

        // legend, below the step label, wrapped to the plot width: it never hides a curve
        double lx = x0;
        double ly = y0 + BOTTOM + 4;
        for (int k = 0; k <= series.size(); k++) {
            boolean warmupEntry = k == series.size();
            if (warmupEntry && warmups.isEmpty()) {
                break;
            }
            String label = warmupEntry ? "end of warmup" : fit(series.get(k).name(), x1 - x0 - 40, 11);
            double w = 30 + textWidth(label, 11) + 18;
            if (lx > x0 && lx + w > x1) {
                lx = x0;
                ly += LEGEND_ROW;
            }
            marks.add(warmupEntry
                    ? new Mark.Line(lx, ly - 4, lx + 24, ly - 4, MUTED, 1.2, 5)
                    : new Mark.Line(lx, ly - 4, lx + 24, ly - 4, colors[k], 2.5, 0));
            marks.add(new Mark.Text(lx + 30, ly, label, 11, Mark.Align.START, AXIS, false, false));
            lx += w;
        }
    }

    /** Rows the legend of these series takes under a plot {@code width} wide (same wrapping as drawn). */
    static int legendRows(List<Schedule> series, double width) {
        boolean anyWarmup = series.stream().anyMatch(s -> s.warmupSteps() > 0);
        int rows = 1;
        double lx = 0;
        for (int k = 0; k < series.size() + (anyWarmup ? 1 : 0); k++) {
            String label = k == series.size() ? "end of warmup" : fit(series.get(k).name(), width - 40, 11);
            double w = 30 + textWidth(label, 11) + 18;
            if (lx > 0 && lx + w > width) {
                lx = 0;
                rows++;
            }
            lx += w;
        }
        return rows;
    }

    /**
     * The steps to evaluate: every step when there are few, otherwise about three per pixel, always with both sides of
     * every phase boundary so that jumps and kinks are drawn where they are.
     */
    static long[] sampleSteps(List<Schedule> series, long steps, int pixels) {
        TreeSet<Long> at = new TreeSet<>();
        long budget = 3L * Math.max(pixels, 1);
        if (steps <= budget) {
            for (long s = 0; s < steps; s++) {
                at.add(s);
            }
        } else {
            for (long i = 0; i <= budget; i++) {
                at.add(Math.round((double) i * (steps - 1) / budget));
            }
        }
        for (Schedule s : series) {
            if (s.warmupSteps() > 0) {
                addBoundary(at, s.warmupSteps(), steps);
            }
            Schedule inner = s instanceof vecopt.schedule.Preset.PresetSchedule p ? p.inner() : s;
            if (inner instanceof Sequential q) {
                for (long m : q.milestones()) {
                    addBoundary(at, m, steps);
                }
            }
        }
        return at.stream().mapToLong(Long::longValue).toArray();
    }

    private static void addBoundary(TreeSet<Long> at, long m, long steps) {
        if (m - 1 >= 0 && m - 1 < steps) {
            at.add(m - 1);
        }
        if (m < steps) {
            at.add(m);
        }
    }

    /** Rough width of a text in the sans-serif font at {@code size} pixels (for fitting, not for exact layout). */
    static double textWidth(String s, double size) {
        return s.length() * size * 0.58;
    }

    static String fit(String s, double width, double size) {
        int max = (int) (width / (size * 0.58));
        return s.length() <= max ? s : s.substring(0, Math.max(1, max - 1)) + "…";
    }

    /** "Nice" tick values 0, d, 2d, ... covering [lo, hi], with labels that share one power of ten. */
    record Ticks(double step, int count, int exponent) {
        static Ticks of(double lo, double hi, int target) {
            double raw = (hi - lo) / target;
            double mag = Math.pow(10, Math.floor(Math.log10(raw)));
            double norm = raw / mag;
            double nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
            double step = nice * mag;
            int count = (int) Math.ceil(hi / step - 1e-9);
            double top = count * step;
            int exponent = (int) Math.floor(Math.log10(top));
            return new Ticks(step, count, exponent);
        }

        double[] values() {
            double[] v = new double[count + 1];
            for (int i = 0; i <= count; i++) {
                v[i] = i * step;
            }
            return v;
        }

        double last() {
            return count * step;
        }

        /** Learning rates get a shared "× 1e-4" in the axis label when small; steps never do. */
        boolean scientific() {
            return exponent < -1;
        }

        String multiplierLabel() {
            return scientific() ? " (× 10" + superscript(exponent) + ")" : "";
        }

        String label(double v) {
            double shown = scientific() ? v / Math.pow(10, exponent) : v;
            double stepShown = scientific() ? step / Math.pow(10, exponent) : step;
            int decimals = stepShown >= 1 ? (stepShown == Math.rint(stepShown) ? 0 : 1)
                    : (int) Math.ceil(-Math.log10(stepShown) - 1e-9) + (isHalfish(stepShown) ? 1 : 0);
            if (!scientific() && Math.abs(shown) >= 10_000 && shown == Math.rint(shown)) {
                return String.format(Locale.ROOT, "%,d", (long) shown).replace(',', ' ');
            }
            return String.format(Locale.ROOT, "%." + Math.max(0, decimals) + "f", shown);
        }

        private static String superscript(int e) {
            String digits = "⁰¹²³⁴⁵⁶⁷⁸⁹";
            StringBuilder b = new StringBuilder(e < 0 ? "⁻" : "");
            for (char c : Integer.toString(Math.abs(e)).toCharArray()) {
                b.append(digits.charAt(c - '0'));
            }
            return b.toString();
        }

        private static boolean isHalfish(double s) {
            double scaled = s * Math.pow(10, Math.ceil(-Math.log10(s) - 1e-9));
            return Math.abs(scaled - Math.rint(scaled)) > 1e-9;
        }
    }
}
