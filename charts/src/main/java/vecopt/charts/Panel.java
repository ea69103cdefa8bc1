package vecopt.charts;

import java.util.ArrayList;
import java.util.DoubleSummaryStatistics;
import java.util.List;
import java.util.Objects;
import java.util.function.DoubleFunction;
import java.util.stream.DoubleStream;

/**
 * One plot: a title, two axes (each linear or logarithmic), the series drawn in it, dashed vertical markers,
 * horizontal reference levels and a legend. A {@link Figure} lays panels out and writes them.
 *
 * <pre>{@code
 * Panel p = new Panel("cosine with warmup").axes("step", "learning rate")
 *         .add(Series.line("cosine", steps, lrs))
 *         .mark(Marker.at(100, "end of warmup: step 100"));
 * }</pre>
 *
 * <p>Ranges not set are taken from the data: a linear y axis starts at 0 when no value is negative (rates and
 * learning rates are read against zero) and leaves 8% headroom so that the highest point does not sit on the frame;
 * a logarithmic axis leaves a margin of a factor {@value #LOG_MARGIN} at both ends; a linear x axis spans the data
 * exactly.
 */
public final class Panel {
    /** Where the legend goes. */
    public enum Legend {
        /** To the right of the plot, one entry a row. */
        RIGHT,
        /** Under the plot, one entry a row. */
        BELOW,
        /** Inside the plot, in its top right corner. */
        INSIDE_TOP_RIGHT,
        /** No legend. */
        NONE
    }

    /** A closed interval of an axis. */
    public record Range(double min, double max) {
        public Range {
            if (!(Double.isFinite(min) && Double.isFinite(max) && min < max)) {
                throw new IllegalArgumentException("a range needs finite min < max, got [" + min + ", " + max + "]");
            }
        }
    }

    /** A horizontal dashed grey line at {@code y} across the panel, named in the legend. */
    public record Level(double y, String label) {
        public Level {
            Objects.requireNonNull(label, "label");
            if (!Double.isFinite(y)) {
                throw new IllegalArgumentException("y must be finite, got " + y + " for level '" + label + "'");
            }
        }
    }

    static final double LOG_MARGIN = 1.2;
    private static final double HEADROOM = 0.08;

    private final String title;
    private String subtitle = "";
    private String xTitle = "";
    private String yTitle = "";
    private double logXBase;
    private double logYBase;
    private DoubleFunction<String> xTickLabels;
    private DoubleFunction<String> yTickLabels;
    private Range xRange;
    private Range yRange;
    private Legend legend = Legend.RIGHT;
    private final List<Series> series = new ArrayList<>();
    private final List<Marker> markers = new ArrayList<>();
    private final List<Level> levels = new ArrayList<>();

    /** An empty panel with this title ("" for none). */
    public Panel(String title) {
        this.title = Objects.requireNonNull(title, "title");
    }

    /** The axis titles. */
    public Panel axes(String x, String y) {
        xTitle = Objects.requireNonNull(x, "x");
        yTitle = Objects.requireNonNull(y, "y");
        return this;
    }

    /** A second, smaller title line under the title (how to read the panel). */
    public Panel subtitle(String text) {
        subtitle = Objects.requireNonNull(text, "text");
        return this;
    }

    /**
     * A logarithmic x axis with a tick at each power of {@code base} (2 suits sizes that are powers of two, 10
     * quantities over many decades); points with x {@code <= 0} are left out.
     */
    public Panel logX(double base) {
        logXBase = base(base);
        return this;
    }

    /** A logarithmic y axis with a tick at each power of {@code base}; values {@code <= 0} are left out (gaps). */
    public Panel logY(double base) {
        logYBase = base(base);
        return this;
    }

    /** How x tick values are written (e.g. 1048576 as "1M"); by default as plain numbers. */
    public Panel xTickLabels(DoubleFunction<String> format) {
        xTickLabels = Objects.requireNonNull(format, "format");
        return this;
    }

    /** How y tick values are written; by default as plain numbers. */
    public Panel yTickLabels(DoubleFunction<String> format) {
        yTickLabels = Objects.requireNonNull(format, "format");
        return this;
    }

    /** The x axis spans exactly this range. */
    public Panel xRange(double min, double max) {
        xRange = new Range(min, max);
        return this;
    }

    /** The y axis spans exactly this range. */
    public Panel yRange(double min, double max) {
        yRange = new Range(min, max);
        return this;
    }

    public Panel legend(Legend where) {
        legend = Objects.requireNonNull(where, "where");
        return this;
    }

    public Panel add(Series s) {
        series.add(Objects.requireNonNull(s, "series"));
        return this;
    }

    public Panel mark(Marker m) {
        markers.add(Objects.requireNonNull(m, "marker"));
        return this;
    }

    /** A horizontal reference line at {@code y}, e.g. a ceiling or a chance level. */
    public Panel level(double y, String label) {
        levels.add(new Level(y, label));
        return this;
    }

    public String title() {
        return title;
    }

    public String subtitle() {
        return subtitle;
    }

    public String xTitle() {
        return xTitle;
    }

    public String yTitle() {
        return yTitle;
    }

    public boolean isLogX() {
        return logXBase > 0;
    }

    public boolean isLogY() {
        return logYBase > 0;
    }

    /** The x axis' logarithm base, or 0 for a linear axis. */
    public double logXBase() {
        return logXBase;
    }

    /** The y axis' logarithm base, or 0 for a linear axis. */
    public double logYBase() {
        return logYBase;
    }

    /** The x tick label format, or null for plain numbers. */
    public DoubleFunction<String> xTickLabels() {
        return xTickLabels;
    }

    /** The y tick label format, or null for plain numbers. */
    public DoubleFunction<String> yTickLabels() {
        return yTickLabels;
    }

    public Legend legend() {
        return legend;
    }

    public List<Series> series() {
        return List.copyOf(series);
    }

    public List<Marker> markers() {
        return List.copyOf(markers);
    }

    public List<Level> levels() {
        return List.copyOf(levels);
    }

    /** The x range drawn: as set, or from the series and markers. */
    public Range effectiveXRange() {
        return effective(xRange, DoubleStream.concat(series.stream().flatMapToDouble(s -> DoubleStream.of(s.x())),
                markers.stream().mapToDouble(Marker::x)), isLogX(), false);
    }

    /** The y range drawn: as set, or from the series and levels. */
    public Range effectiveYRange() {
        return effective(yRange, DoubleStream.concat(series.stream().flatMapToDouble(s -> DoubleStream.of(s.y())),
                levels.stream().mapToDouble(Level::y)), isLogY(), true);
    }

    /** {@code set} if there is one, else the range of the values an axis can show (see the class comment). */
    private static Range effective(Range set, DoubleStream values, boolean log, boolean isY) {
        if (set != null) {
            return set;
        }
        DoubleSummaryStatistics d = values.filter(v -> Double.isFinite(v) && (!log || v > 0)).summaryStatistics();
        if (d.getCount() == 0) { // nothing drawable
            return log ? new Range(1, 10) : new Range(0, 1);
        }
        if (log) {
            return new Range(d.getMin() / LOG_MARGIN, d.getMax() * LOG_MARGIN);
        }
        double lo = isY && d.getMin() >= 0 ? 0 : d.getMin();
        double hi = d.getMax();
        if (lo == hi) { // a flat line: centre it
            double pad = lo == 0 ? 1 : Math.abs(lo) / 2;
            return new Range(lo - pad, hi + pad);
        }
        return new Range(lo, hi + (isY ? HEADROOM : 0) * (hi - lo));
    }

    private static double base(double b) {
        if (!(b > 1) || b == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("a logarithm base must be finite and > 1, got " + b);
        }
        return b;
    }
}
