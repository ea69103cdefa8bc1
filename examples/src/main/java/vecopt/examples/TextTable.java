package vecopt.examples;

import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A compact text table of schedules: one column per schedule, one row per sampled step (evenly spaced, plus the
 * first and last step and the end of each warmup, marked {@code <- warmup of [k] ends}).
 *
 * <pre>{@code
 * System.out.print(TextTable.render(List.of(a, b), 10_000, 11));
 * }</pre>
 */
public final class TextTable {
    private TextTable() {
    }

    /** The table over steps {@code 0 .. steps-1} with about {@code rows} evenly spaced rows. */
    public static String render(List<NamedSchedule> schedules, long steps, int rows) {
        if (schedules == null || schedules.isEmpty()) {
            throw new IllegalArgumentException("schedules must hold at least one schedule, got "
                    + (schedules == null ? "null" : "none"));
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        if (rows < 2) {
            throw new IllegalArgumentException("rows must be >= 2, got " + rows);
        }
        TreeSet<Long> at = new TreeSet<>();
        for (int i = 0; i < rows; i++) {
            at.add(Math.round((double) i * (steps - 1) / (rows - 1)));
        }
        TreeMap<Long, String> warmupEnds = new TreeMap<>();
        for (int k = 0; k < schedules.size(); k++) {
            long w = schedules.get(k).warmupSteps();
            if (w > 0 && w < steps) {
                at.add(w);
                warmupEnds.merge(w, "[" + (k + 1) + "]", (a, c) -> a + c);
            }
        }
        int stepWidth = Math.max(4, Long.toString(steps - 1).length());
        int[] widths = new int[schedules.size()];
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < schedules.size(); k++) {
            b.append(String.format(Locale.ROOT, "  [%d] %s%n", k + 1, schedules.get(k).name()));
            widths[k] = Math.max(11, Integer.toString(k + 1).length() + 2);
        }
        b.append(String.format(Locale.ROOT, "%" + stepWidth + "s", "step"));
        for (int k = 0; k < schedules.size(); k++) {
            b.append("  ").append(String.format(Locale.ROOT, "%" + widths[k] + "s", "[" + (k + 1) + "]"));
        }
        b.append('\n');
        for (long step : at) {
            b.append(String.format(Locale.ROOT, "%" + stepWidth + "d", step));
            for (int k = 0; k < schedules.size(); k++) {
                b.append("  ").append(String.format(Locale.ROOT, "%" + widths[k] + ".4e",
                        schedules.get(k).schedule().lr(step)));
            }
            if (warmupEnds.containsKey(step)) {
                b.append("  <- warmup of ").append(warmupEnds.get(step)).append(" ends");
            }
            b.append('\n');
        }
        return b.toString();
    }
}
