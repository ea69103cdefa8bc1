package vecopt.examples;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import vecopt.charts.Figure;
import vecopt.charts.Marker;
import vecopt.charts.Panel;
import vecopt.charts.Series;

/**
 * Learning-rate schedules as charts over steps {@code 0 .. steps-1}: one panel per schedule, each with its own y
 * scale (learning rates differ by decades), or all of them in one panel; the end of each warmup is a dashed line.
 *
 * <pre>{@code
 * ScheduleFigure.panels(schedules, 10_000).write(Path.of("out/schedules.svg"));   // and out/schedules.png
 * }</pre>
 */
public final class ScheduleFigure {
    /** Every step is drawn up to this many; past it, this many evenly spaced steps (a few per pixel). */
    static final int MAX_POINTS = 2000;
    private static final int PANEL_W = 560;
    private static final int PANEL_H = 360;

    private ScheduleFigure() {
    }

    /** One panel per schedule, two a row. */
    public static Figure panels(List<NamedSchedule> schedules, long steps) {
        return Figure.grid(panelList(schedules, steps), 2, PANEL_W, PANEL_H);
    }

    static List<Panel> panelList(List<NamedSchedule> schedules, long steps) {
        List<Panel> panels = new ArrayList<>();
        for (int i = 0; i < check(schedules, steps).size(); i++) {
            panels.add(panel(schedules.get(i).name(), List.of(schedules.get(i)), i, steps)
                    .legend(Panel.Legend.NONE)); // the title names the one curve
        }
        return panels;
    }

    /** All schedules in one panel on a shared y scale, with a legend. */
    public static Figure overlay(String title, List<NamedSchedule> schedules, long steps) {
        Panel p = panel(title, check(schedules, steps), 0, steps).legend(Panel.Legend.BELOW);
        return Figure.grid(List.of(p), 1, 2 * PANEL_W, (int) (1.5 * PANEL_H));
    }

    /** The panel of {@code schedules}, coloured from series slot {@code firstSlot} on. */
    static Panel panel(String title, List<NamedSchedule> schedules, int firstSlot, long steps) {
        long[] at = sampleSteps(schedules, steps);
        double[] x = new double[at.length];
        for (int i = 0; i < at.length; i++) {
            x[i] = at[i];
        }
        double max = 0;
        double[][] lr = new double[schedules.size()][at.length];
        for (int k = 0; k < schedules.size(); k++) {
            for (int i = 0; i < at.length; i++) {
                lr[k][i] = schedules.get(k).schedule().lr(at[i]);
                if (Double.isFinite(lr[k][i])) {
                    max = Math.max(max, lr[k][i]);
                }
            }
        }
        // Small learning rates are shown in units of a power of ten, named in the axis title: "3" and "learning
        // rate (× 10⁻⁴)" read better than "0.0003".
        int exponent = max > 0 ? (int) Math.floor(Math.log10(max)) : 0;
        double unit = exponent < -1 ? Math.pow(10, exponent) : 1;
        Panel p = new Panel(title).axes("step",
                "learning rate" + (unit == 1 ? "" : " (× 10" + superscript(exponent) + ")"));
        for (int k = 0; k < schedules.size(); k++) {
            double[] y = new double[at.length];
            for (int i = 0; i < at.length; i++) {
                y[i] = lr[k][i] / unit;
            }
            p.add(Series.line(schedules.get(k).name(), x, y).colour(firstSlot + k));
        }
        // one dashed line per distinct warmup end: in its schedule's colour, or neutral where several share it
        Map<Long, List<Integer>> ends = new LinkedHashMap<>();
        for (int k = 0; k < schedules.size(); k++) {
            long w = schedules.get(k).warmupSteps();
            if (w > 0 && w < steps) {
                ends.computeIfAbsent(w, key -> new ArrayList<>()).add(k);
            }
        }
        ends.forEach((w, owners) -> {
            Marker m = Marker.at(w, "warmup ends: step " + w);
            p.mark(owners.size() == 1 ? m.colour(firstSlot + owners.get(0)) : m);
        });
        return p;
    }

    /**
     * The steps to evaluate: every step when there are at most {@link #MAX_POINTS}, otherwise that many evenly
     * spaced ones plus both sides of each warmup end. A jump between samples (a step decay) is then drawn over at
     * most {@code steps / MAX_POINTS} steps, well under a pixel.
     */
    static long[] sampleSteps(List<NamedSchedule> schedules, long steps) {
        TreeSet<Long> at = new TreeSet<>();
        if (steps <= MAX_POINTS) {
            for (long s = 0; s < steps; s++) {
                at.add(s);
            }
        } else {
            for (long i = 0; i <= MAX_POINTS; i++) {
                at.add(Math.round((double) i * (steps - 1) / MAX_POINTS));
            }
            for (NamedSchedule s : schedules) {
                long w = s.warmupSteps();
                if (w > 0 && w < steps) {
                    at.add(w - 1);
                    at.add(w);
                }
            }
        }
        return at.stream().mapToLong(Long::longValue).toArray();
    }

    private static List<NamedSchedule> check(List<NamedSchedule> schedules, long steps) {
        if (schedules == null || schedules.isEmpty()) {
            throw new IllegalArgumentException("schedules must hold at least one schedule, got "
                    + (schedules == null ? "null" : "none"));
        }
        if (steps < 2) {
            throw new IllegalArgumentException("steps must be >= 2, got " + steps);
        }
        return schedules;
    }

    private static String superscript(int e) {
        String digits = "⁰¹²³⁴⁵⁶⁷⁸⁹";
        StringBuilder b = new StringBuilder(e < 0 ? "⁻" : "");
        for (char c : Integer.toString(Math.abs(e)).toCharArray()) {
            b.append(digits.charAt(c - '0'));
        }
        return b.toString();
    }
}
