package vecopt.charts;

import java.util.Objects;

/**
 * A named line through (x, y) points, in x order as given. A NaN y leaves a gap. How it is drawn is one of three
 * looks: a data line in a series colour (optionally with a dot at each point, for measured points), a thin faint
 * line in a series colour (noisy raw data under a cleaner line of the same colour), or a dashed grey reference line
 * (a ceiling, a level to read the data against). A reference series of a single point is drawn as a level across
 * the whole panel: a ceiling measured at one size applies to every size.
 *
 * <pre>{@code
 * Series held = Series.line("warmup", steps, heldOutLoss).colour(3);
 * Series raw  = Series.line("warmup (training)", steps, trainLoss).colour(3).faint().unlisted();
 * Series roof = Series.reference("ceiling: triad", sizes, gbPerSecond);
 * }</pre>
 *
 * @param name   legend entry (several lines where it holds line breaks)
 * @param x      the x values
 * @param y      the y values, as many as {@code x}
 * @param look   how the line is drawn
 * @param slot   the series colour ({@link Palette#series(int)}), or -1 to take the next one in the panel
 * @param points whether a dot marks each point
 * @param listed whether the series has a legend entry
 */
public record Series(String name, double[] x, double[] y, Look look, int slot, boolean points, boolean listed) {
    /** How a series is drawn. */
    public enum Look {
        /** A solid line in a series colour. */
        LINE,
        /** A thin, faint line in a series colour. */
        FAINT,
        /** A dashed grey line. */
        REFERENCE
    }

    public Series {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(y, "y");
        Objects.requireNonNull(look, "look");
        if (x.length != y.length) {
            throw new IllegalArgumentException("x and y must have the same length, got " + x.length + " and "
                    + y.length + " for series '" + name + "'");
        }
        if (x.length == 0) {
            throw new IllegalArgumentException("series '" + name + "' has no points");
        }
        if (slot < -1) {
            throw new IllegalArgumentException("slot must be >= 0, or -1 for the next free one, got " + slot);
        }
        x = x.clone();
        y = y.clone();
    }

    /** A data line in the panel's next series colour. */
    public static Series line(String name, double[] x, double[] y) {
        return new Series(name, x, y, Look.LINE, -1, false, true);
    }

    /** A dashed grey reference line. */
    public static Series reference(String name, double[] x, double[] y) {
        return new Series(name, x, y, Look.REFERENCE, -1, false, true);
    }

    /** This series in series colour {@code slot}. */
    public Series colour(int slot) {
        return new Series(name, x, y, look, slot, points, listed);
    }

    /** This series thin and faint. */
    public Series faint() {
        return new Series(name, x, y, Look.FAINT, slot, points, listed);
    }

    /** This series with a dot at each point. */
    public Series withPoints() {
        return new Series(name, x, y, look, slot, true, listed);
    }

    /** This series without a legend entry. */
    public Series unlisted() {
        return new Series(name, x, y, look, slot, points, false);
    }

    @Override
    public double[] x() {
        return x.clone();
    }

    @Override
    public double[] y() {
        return y.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Series s && name.equals(s.name) && java.util.Arrays.equals(x, s.x)
                && java.util.Arrays.equals(y, s.y) && look == s.look && slot == s.slot && points == s.points
                && listed == s.listed;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, java.util.Arrays.hashCode(x), java.util.Arrays.hashCode(y), look, slot, points,
                listed);
    }

    @Override
    public String toString() {
        return "Series[" + name + ", " + x.length + " points, " + look + (slot >= 0 ? ", slot " + slot : "") + "]";
    }
}
