package vecopt.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The ranges a panel draws when none is set, and the checks on what it is given. */
class PanelTest {
    private static final double[] X = {0, 1, 2, 3};

    @Test
    void linearYStartsAtZeroForNonNegativeDataWithHeadroomAboveThePeak() {
        Panel p = new Panel("t").add(Series.line("a", X, new double[] {2, 5, 10, 4}));
        assertEquals(new Panel.Range(0, 10.8), p.effectiveYRange());
        assertEquals(new Panel.Range(0, 3), p.effectiveXRange(), "a linear x axis spans the data exactly");
    }

    @Test
    void negativeDataKeepsItsLowerEndAndLevelsCount() {
        Panel p = new Panel("t").add(Series.line("a", X, new double[] {-2, 1, 2, Double.NaN})).level(8, "top");
        assertEquals(new Panel.Range(-2, 8 + 0.08 * 10), p.effectiveYRange());
    }

    @Test
    void logAxesLeaveAMarginAndIgnoreValuesTheyCannotShow() {
        Panel p = new Panel("t").logX(2).logY(10)
                .add(Series.line("a", new double[] {0, 32, 1024}, new double[] {5, -1, 50}));
        Panel.Range x = p.effectiveXRange();
        Panel.Range y = p.effectiveYRange();
        assertEquals(32 / Panel.LOG_MARGIN, x.min(), 1e-12);
        assertEquals(1024 * Panel.LOG_MARGIN, x.max(), 1e-9);
        assertEquals(5 / Panel.LOG_MARGIN, y.min(), 1e-12);
        assertEquals(50 * Panel.LOG_MARGIN, y.max(), 1e-12);
    }

    @Test
    void aSetRangeWinsAndMarkersWidenTheXRange() {
        Panel p = new Panel("t").add(Series.line("a", X, X)).yRange(-1, 1).mark(Marker.at(7, "m"));
        assertEquals(new Panel.Range(-1, 1), p.effectiveYRange());
        assertEquals(new Panel.Range(0, 7), p.effectiveXRange());
    }

    @Test
    void badInputIsRejectedWithItsName() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Series.line("loss", new double[] {1, 2}, new double[] {1}));
        assertTrue(e.getMessage().contains("loss"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Series.line("none", new double[0], new double[0]));
        assertThrows(IllegalArgumentException.class, () -> new Panel("t").logY(1));
        assertThrows(IllegalArgumentException.class, () -> new Panel("t").yRange(2, 2));
        assertThrows(IllegalArgumentException.class, () -> Marker.at(Double.NaN, "m"));
        assertThrows(IllegalArgumentException.class, () -> Figure.grid(java.util.List.of(), 2, 10, 10));
    }

    @Test
    void seriesKeepTheirOwnCopyOfThePoints() {
        double[] y = {1, 2, 3, 4};
        Series s = Series.line("a", X, y);
        y[0] = 99;
        s.y()[1] = 99;
        assertEquals(1, s.y()[0]);
        assertEquals(2, s.y()[1]);
    }
}
