package vecopt.charts;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Shape;
import java.awt.Stroke;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTitleAnnotation;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnitSource;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.DefaultXYDataset;

/**
 * Turns {@link Panel}s into JFreeChart charts in the house style: white, a light grid, the {@link Palette}'s colours,
 * JFreeChart's own ticks (on a logarithmic axis, at powers of the base).
 */
final class PanelPlot {
    private static final String FONT = Font.SANS_SERIF;
    private static final Font TITLE = new Font(FONT, Font.BOLD, 15);
    private static final Font SUBTITLE = new Font(FONT, Font.PLAIN, 12);
    private static final Font AXIS_TITLE = new Font(FONT, Font.PLAIN, 13);
    private static final Font TICKS = new Font(FONT, Font.PLAIN, 11);
    private static final Font LEGEND = new Font(FONT, Font.PLAIN, 12);
    private static final Font LABEL = new Font(FONT, Font.PLAIN, 11);
    private static final Stroke LINE = new BasicStroke(2.2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    private static final Stroke FAINT = new BasicStroke(1f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    private static final Stroke DASHED = new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
            new float[] {6f, 4f}, 0f);
    private static final Stroke MARKER = new BasicStroke(1.3f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
            new float[] {5f, 4f}, 0f);
    private static final Shape DOT = new Ellipse2D.Double(-3.5, -3.5, 7, 7);
    /** Opacity of a faint series: light enough for the line drawn over it to stay readable. */
    private static final int FAINT_ALPHA = 80;
    private static final RectangleInsets TICK_GAP_X = new RectangleInsets(2, 20, 2, 20);
    private static final RectangleInsets TICK_GAP_X_LOG = new RectangleInsets(2, 6, 2, 6);
    private static final RectangleInsets TICK_GAP_Y = new RectangleInsets(8, 4, 8, 4);
    /** Behind marker labels: mostly white, so that a line under a label does not strike it through. */
    private static final Color LABEL_BACKGROUND = new Color(255, 255, 255, 210);
    /** Vertical distance between the labels of a panel's markers, so that near markers' labels do not overlap. */
    private static final double LABEL_ROW = 14;

    private PanelPlot() {
    }

    /** One panel as a chart of its own: its title, its axes, its legend. */
    static JFreeChart chart(Panel panel) {
        XYPlot plot = plot(panel, axis(panel.xTitle(), panel.logXBase(), panel.xTickLabels(),
                panel.effectiveXRange(), true));
        return dress(new JFreeChart(null, null, plot, false), panel, plot);
    }

    /**
     * Panels stacked over one shared x axis (the last panel's x title, the x range of all), in one chart with the
     * first panel's title and legend placement; {@code weights} are the panels' relative heights.
     */
    static JFreeChart column(List<Panel> panels, int[] weights) {
        Panel last = panels.get(panels.size() - 1);
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Panel p : panels) {
            lo = Math.min(lo, p.effectiveXRange().min());
            hi = Math.max(hi, p.effectiveXRange().max());
        }
        ValueAxis x = axis(last.xTitle(), last.logXBase(), last.xTickLabels(), new Panel.Range(lo, hi), true);
        CombinedDomainXYPlot combined = new CombinedDomainXYPlot(x);
        combined.setGap(14);
        for (int i = 0; i < panels.size(); i++) {
            combined.add(plot(panels.get(i), x), weights[i]);
        }
        return dress(new JFreeChart(null, null, combined, false), panels.get(0), combined.getSubplots().get(0));
    }

    private static JFreeChart dress(JFreeChart chart, Panel panel, XYPlot legendSource) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(true);
        chart.setPadding(new RectangleInsets(6, 6, 6, 10));
        if (!panel.title().isEmpty()) {
            TextTitle t = new TextTitle(panel.title(), TITLE);
            t.setPaint(Palette.TEXT);
            chart.setTitle(t);
        }
        if (!panel.subtitle().isEmpty()) {
            TextTitle s = new TextTitle(panel.subtitle(), SUBTITLE);
            s.setPaint(Palette.TEXT);
            s.setPadding(new RectangleInsets(2, 0, 4, 0));
            chart.addSubtitle(s);
        }
        if (panel.legend() == Panel.Legend.NONE) {
            return chart;
        }
        LegendTitle legend = new LegendTitle(chart.getPlot());
        legend.setItemFont(LEGEND);
        legend.setItemPaint(Palette.TEXT);
        legend.setBackgroundPaint(Color.WHITE);
        legend.setFrame(BlockBorder.NONE);
        switch (panel.legend()) {
            case RIGHT -> {
                legend.setPosition(RectangleEdge.RIGHT);
                legend.setVerticalAlignment(org.jfree.chart.ui.VerticalAlignment.CENTER);
                chart.addSubtitle(legend);
            }
            case BELOW -> {
                legend.setPosition(RectangleEdge.BOTTOM);
                chart.addSubtitle(legend);
            }
            case INSIDE_TOP_RIGHT -> {
                legend.setFrame(new BlockBorder(Palette.GRID));
                legend.setPadding(new RectangleInsets(4, 6, 4, 6));
                legendSource.addAnnotation(new XYTitleAnnotation(0.99, 0.98, legend, RectangleAnchor.TOP_RIGHT));
            }
            case NONE -> throw new AssertionError("handled above");
        }
        return chart;
    }

    private static XYPlot plot(Panel panel, ValueAxis x) {
        Panel.Range xr = panel.effectiveXRange();
        Panel.Range yr = panel.effectiveYRange();
        DefaultXYDataset data = new DefaultXYDataset();
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
        r.setDrawSeriesLineAsPath(true); // one path per series: a small SVG, and NaN still breaks the line
        r.setAutoPopulateSeriesPaint(false);
        r.setAutoPopulateSeriesStroke(false);
        r.setLegendLine(new Line2D.Double(-13, 0, 13, 0));
        List<Series> series = panel.series();
        String[] names = new String[series.size()];
        int nextSlot = 0;
        int shade = 0;
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            names[i] = s.name();
            double[][] xy = points(s, panel, xr);
            data.addSeries(i, xy);
            Color c = switch (s.look()) {
                case LINE, FAINT -> Palette.series(s.slot() >= 0 ? s.slot() : nextSlot++);
                case REFERENCE -> Palette.reference(shade++);
            };
            r.setSeriesPaint(i, s.look() == Series.Look.FAINT
                    ? new Color(c.getRed(), c.getGreen(), c.getBlue(), FAINT_ALPHA) : c);
            r.setSeriesStroke(i, switch (s.look()) {
                case LINE -> LINE;
                case FAINT -> FAINT;
                case REFERENCE -> DASHED;
            });
            r.setSeriesShapesVisible(i, s.points());
            r.setSeriesShape(i, DOT);
            r.setSeriesVisibleInLegend(i, s.listed());
        }
        r.setLegendItemLabelGenerator((dataset, i) -> names[i]);

        XYPlot plot = new XYPlot(data, x, axis(panel.yTitle(), panel.logYBase(), panel.yTickLabels(), yr, false),
                r);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlinePaint(Palette.FRAME);
        plot.setDomainGridlinePaint(Palette.GRID);
        plot.setRangeGridlinePaint(Palette.GRID);
        plot.setDomainGridlineStroke(new BasicStroke(1f));
        plot.setRangeGridlineStroke(new BasicStroke(1f));
        plot.setAxisOffset(RectangleInsets.ZERO_INSETS);

        List<Marker> markers = panel.markers();
        int labelled = 0;
        for (Marker m : markers) {
            Color c = m.slot() >= 0 ? Palette.series(m.slot()) : Palette.NEUTRAL;
            ValueMarker v = new ValueMarker(m.x(), c, MARKER);
            if (!m.label().isEmpty()) { // beside the line, at the bottom, the next marker's label one row higher
                label(v, m.label(), c, RectangleAnchor.BOTTOM_RIGHT, TextAnchor.BOTTOM_LEFT,
                        new RectangleInsets(0, 4, 4 + LABEL_ROW * labelled++, 0));
            }
            plot.addDomainMarker(v, Layer.BACKGROUND);
        }
        for (Panel.Level l : panel.levels()) {
            Color c = Palette.reference(shade++);
            ValueMarker v = new ValueMarker(l.y(), c, DASHED);
            // above the line, at its right end
            label(v, l.label(), c, RectangleAnchor.TOP_RIGHT, TextAnchor.BOTTOM_RIGHT, new RectangleInsets(0, 0, 3, 4));
            plot.addRangeMarker(v, Layer.BACKGROUND);
        }
        return plot;
    }

    private static void label(ValueMarker v, String text, Color c, RectangleAnchor anchor, TextAnchor textAnchor,
            RectangleInsets offset) {
        v.setLabel(text);
        v.setLabelFont(LABEL);
        v.setLabelPaint(c);
        v.setLabelBackgroundColor(LABEL_BACKGROUND);
        v.setLabelAnchor(anchor);
        v.setLabelTextAnchor(textAnchor);
        v.setLabelOffset(offset);
    }

    /**
     * The points to draw: on a log x axis only those with {@code x > 0}; on a log y axis a {@code y <= 0} becomes
     * a gap; a reference series of one point becomes a level across the panel.
     */
    private static double[][] points(Series s, Panel panel, Panel.Range xr) {
        double[] x = s.x();
        double[] y = s.y();
        if (s.look() == Series.Look.REFERENCE && x.length == 1) {
            return new double[][] {{xr.min(), xr.max()}, {y[0], y[0]}};
        }
        int n = 0;
        for (int i = 0; i < x.length; i++) {
            if (panel.isLogX() && !(x[i] > 0)) {
                continue;
            }
            x[n] = x[i];
            y[n] = panel.isLogY() && !(y[i] > 0) ? Double.NaN : y[i];
            n++;
        }
        return new double[][] {java.util.Arrays.copyOf(x, n), java.util.Arrays.copyOf(y, n)};
    }

    private static ValueAxis axis(String title, double logBase, java.util.function.DoubleFunction<String> labels,
            Panel.Range range, boolean horizontal) {
        ValueAxis a;
        if (logBase > 0) {
            LogAxis log = new TextLogAxis(title.isEmpty() ? null : title);
            log.setBase(logBase);
            log.setSmallestValue(range.min());
            // whole powers of the base only: 2^0.5 = 1.41 is no place for a tick
            log.setStandardTickUnits(new NumberTickUnitSource(true));
            log.setNumberFormatOverride(labels != null ? new TickFormat(labels) : TickFormat.plain());
            a = log;
        } else {
            NumberAxis lin = new NumberAxis(title.isEmpty() ? null : title);
            lin.setAutoRangeIncludesZero(false);
            lin.setStandardTickUnits(new NumberTickUnitSource()); // steps of 1, 2 or 5 times a power of ten
            // JFreeChart writes small ticks as 3E-4 and zero as 0E0; plain decimals read better
            lin.setNumberFormatOverride(labels != null ? new TickFormat(labels) : TickFormat.plain());
            a = lin;
        }
        a.setRange(range.min(), range.max());
        // JFreeChart takes the smallest tick step whose labels, with these margins, do not overlap; the margins
        // keep a linear grid about 70 px (x) and 30 px (y) apart instead of packing a label every 30 px. A log x
        // axis gets narrower ones: its steps are whole powers, and the next one up (2^5 after 2^2) skips too much.
        a.setTickLabelInsets(!horizontal ? TICK_GAP_Y : logBase > 0 ? TICK_GAP_X_LOG : TICK_GAP_X);
        a.setLabelFont(AXIS_TITLE);
        a.setLabelPaint(Palette.TEXT);
        a.setTickLabelFont(TICKS);
        a.setTickLabelPaint(Palette.TEXT);
        a.setAxisLinePaint(Palette.FRAME);
        a.setTickMarkPaint(Palette.FRAME);
        return a;
    }
}
