package vecopt.examples.train;

import java.util.Locale;

/** A {@link Canvas} that writes SVG text. */
final class SvgCanvas implements Canvas {
    private final StringBuilder sb = new StringBuilder();

    SvgCanvas(int width, int height) {
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">%n",
                width, height, width, height));
        sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", width, height));
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, String color, double width, boolean dashed) {
        sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\""
                + " stroke-width=\"%.1f\"%s/>%n", x1, y1, x2, y2, color, width,
                dashed ? " stroke-dasharray=\"5,4\"" : ""));
    }

    @Override
    public void polyline(double[] xs, double[] ys, int n, String color, double width, double opacity) {
        StringBuilder pts = new StringBuilder();
        for (int i = 0; i <= n; i++) {
            boolean ok = i < n && Double.isFinite(xs[i]) && Double.isFinite(ys[i]);
            if (ok) {
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", xs[i], ys[i]));
            } else if (!pts.isEmpty()) {
                sb.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\""
                        + " stroke-opacity=\"%.2f\" stroke-linejoin=\"round\" points=\"%s\"/>%n", color, width,
                        opacity, pts.toString().strip()));
                pts.setLength(0);
            }
        }
    }

    @Override
    public void text(double x, double y, String text, double size, String color, Anchor anchor, boolean bold) {
        String a = switch (anchor) {
            case START -> "start";
            case MIDDLE -> "middle";
            case END -> "end";
        };
        sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\" fill=\"%s\""
                + " text-anchor=\"%s\"%s>%s</text>%n", x, y, size, color, a, bold ? " font-weight=\"bold\"" : "",
                text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")));
    }

    @Override
    public void rect(double x, double y, double w, double h, String fill, String stroke) {
        sb.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\""
                + " stroke=\"%s\"/>%n", x, y, w, h, fill, stroke));
    }

    String finish() {
        return sb + "</svg>\n";
    }
}
