package vecopt.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.data.xy.XYDataset;
import org.junit.jupiter.api.Test;

/** A panel becomes the JFreeChart plot it describes, in the palette's colours. */
class PanelPlotTest {
    private static final double[] X = {1, 2, 4, 8};

    @Test
    void colourSlotsLooksAndLegendEntriesFollowTheSeries() {
        Panel p = new Panel("t")
                .add(Series.line("auto0", X, X))
                .add(Series.line("slot5", X, X).colour(5))
                .add(Series.line("auto1", X, X).faint().unlisted())
                .add(Series.reference("ceiling", X, X));
        XYPlot plot = (XYPlot) PanelPlot.chart(p).getPlot();
        XYLineAndShapeRenderer r = (XYLineAndShapeRenderer) plot.getRenderer();
        assertEquals(Palette.series(0), r.getSeriesPaint(0));
        assertEquals(Palette.series(5), r.getSeriesPaint(1));
        Color faint = (Color) r.getSeriesPaint(2);
        assertEquals(Palette.series(1).getRGB() & 0xffffff, faint.getRGB() & 0xffffff, "next free slot");
        assertTrue(faint.getAlpha() < 255, "faint is translucent");
        assertEquals(Palette.reference(0), r.getSeriesPaint(3));
        assertFalse(r.getSeriesVisibleInLegend(2));
        assertEquals(3, plot.getLegendItems().getItemCount(), "unlisted series have no legend entry");
        assertEquals("slot5", plot.getLegendItems().get(1).getLabel());
    }

    @Test
    void logAxesDropPointsTheyCannotPlaceAndAOnePointReferenceSpansThePanel() {
        Panel p = new Panel("t").logX(2).logY(10)
                .add(Series.line("a", new double[] {0, 2, 4}, new double[] {1, 0, 3}))
                .add(Series.reference("level", new double[] {4}, new double[] {7}));
        XYPlot plot = (XYPlot) PanelPlot.chart(p).getPlot();
        assertInstanceOf(LogAxis.class, plot.getDomainAxis());
        assertEquals(2, ((LogAxis) plot.getDomainAxis()).getBase());
        XYDataset d = plot.getDataset();
        assertEquals(2, d.getItemCount(0), "x = 0 cannot stand on a log axis");
        assertTrue(Double.isNaN(d.getYValue(0, 0)), "y = 0 becomes a gap");
        assertEquals(3, d.getYValue(0, 1));
        Panel.Range xr = p.effectiveXRange();
        assertEquals(xr.min(), d.getXValue(1, 0));
        assertEquals(xr.max(), d.getXValue(1, 1));
        assertEquals(7, d.getYValue(1, 1));
    }

    @Test
    void markersAndLevelsAreDashedLinesWithTheirLabels() {
        Panel p = new Panel("t").add(Series.line("a", X, X)).mark(Marker.at(2, "warmup ends").colour(3))
                .mark(Marker.at(4, "")).level(5, "chance");
        XYPlot plot = (XYPlot) PanelPlot.chart(p).getPlot();
        List<?> v = List.copyOf(plot.getDomainMarkers(Layer.BACKGROUND));
        assertEquals(2, v.size());
        ValueMarker first = (ValueMarker) v.get(0);
        assertEquals(2, first.getValue());
        assertEquals("warmup ends", first.getLabel());
        assertEquals(Palette.series(3), first.getPaint());
        assertEquals(null, ((ValueMarker) v.get(1)).getLabel(), "an empty label draws none");
        assertEquals(Palette.NEUTRAL, ((ValueMarker) v.get(1)).getPaint());
        ValueMarker level = (ValueMarker) List.copyOf(plot.getRangeMarkers(Layer.BACKGROUND)).get(0);
        assertEquals(5, level.getValue());
        assertEquals("chance", level.getLabel());
    }

    @Test
    void aColumnSharesOneXAxisOverAllPanels() {
        Panel top = new Panel("title").axes("ignored", "loss")
                .add(Series.line("a", new double[] {0, 5}, new double[] {1, 2}));
        Panel bottom = new Panel("").axes("step", "lr").add(Series.line("b", new double[] {2, 9}, new double[] {1, 2}));
        JFreeChart c = PanelPlot.column(List.of(top, bottom), new int[] {3, 1});
        CombinedDomainXYPlot plot = (CombinedDomainXYPlot) c.getPlot();
        assertEquals(2, plot.getSubplots().size());
        assertEquals("step", plot.getDomainAxis().getLabel());
        assertEquals(0, plot.getDomainAxis().getLowerBound());
        assertEquals(9, plot.getDomainAxis().getUpperBound());
        assertEquals("title", c.getTitle().getText());
    }
}
