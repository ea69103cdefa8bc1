package vecopt.schedule.plot;

/**
 * One drawing primitive of a {@link Chart}, in pixels from the top-left corner. Renderers ({@link Svg}, or a raster
 * one) only translate marks; all layout decisions are made once, in {@link SchedulePlot}.
 */
public sealed interface Mark {
    /** Horizontal alignment of a text at its anchor point. */
    enum Align { START, MIDDLE, END }

    /** A straight segment; {@code dash} 0 is solid, otherwise the dash length. */
    record Line(double x1, double y1, double x2, double y2, String color, double width, double dash) implements Mark {
    }

    /** A polyline through the points. */
    record Path(double[] xs, double[] ys, String color, double width) implements Mark {
    }

    /** A rectangle, filled with {@code fill} (or nothing when null) and outlined with {@code stroke} (or not). */
    record Rect(double x, double y, double w, double h, String fill, String stroke) implements Mark {
    }

    /** A line of text whose baseline starts (or centres, or ends) at x, y; {@code vertical} turns it 90° left. */
    record Text(double x, double y, String text, double size, Align align, String color, boolean bold,
            boolean vertical) implements Mark {
    }
}
