package vecopt.charts;

import java.util.Objects;

/**
 * A dashed vertical line across a panel at {@code x}, such as the end of a warmup, with its label written beside it
 * at the bottom of the plot (the labels of several markers of a panel are stacked upwards).
 *
 * @param x     where the line stands, in the panel's x units
 * @param label the text beside the line, e.g. {@code "warmup ends: step 100"}, or "" for none (the same marker
 *              in a second panel of a column)
 * @param slot  the series colour of the series it belongs to, or -1 for {@link Palette#NEUTRAL}
 */
public record Marker(double x, String label, int slot) {
    public Marker {
        Objects.requireNonNull(label, "label");
        if (!Double.isFinite(x)) {
            throw new IllegalArgumentException("x must be finite, got " + x + " for marker '" + label + "'");
        }
        if (slot < -1) {
            throw new IllegalArgumentException("slot must be >= 0, or -1 for neutral, got " + slot);
        }
    }

    /** A neutral marker. */
    public static Marker at(double x, String label) {
        return new Marker(x, label, -1);
    }

    /** This marker in series colour {@code slot}. */
    public Marker colour(int slot) {
        return new Marker(x, label, slot);
    }
}
