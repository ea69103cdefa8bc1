package vecopt.examples.train;

/** The few drawing operations the chart needs, so that one layout code draws both the SVG and the PNG. */
interface Canvas {
    /** Horizontal text anchoring. */
    enum Anchor { START, MIDDLE, END }

    void line(double x1, double y1, double x2, double y2, String color, double width, boolean dashed);

    /** Connected segments through the points; a NaN coordinate breaks the line. */
    void polyline(double[] xs, double[] ys, int n, String color, double width, double opacity);

    void text(double x, double y, String text, double size, String color, Anchor anchor, boolean bold);

    void rect(double x, double y, double w, double h, String fill, String stroke);
}
