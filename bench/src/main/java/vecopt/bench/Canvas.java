package vecopt.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The few drawing operations the chart needs, so one drawing routine writes both SVG (text, exact) and PNG (through
 * java.awt, headless). Coordinates in pixels, origin top left; colours as 0xRRGGBB.
 */
interface Canvas {
    void line(double x1, double y1, double x2, double y2, int rgb, double width, boolean dashed);

    void circle(double x, double y, double r, int rgb);

    /** Text with its baseline at y; anchor -1 left, 0 centre, 1 right. */
    void text(double x, double y, String s, double size, int anchor, int rgb);

    void save(Path file) throws IOException;

    /** An SVG document built as text. */
    final class Svg implements Canvas {
        private final StringBuilder b = new StringBuilder();

        Svg(int width, int height) {
            b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">%n<rect width=\"100%%\" height=\"100%%\" "
                    + "fill=\"white\"/>%n", width, height, width, height));
        }

        @Override
        public void line(double x1, double y1, double x2, double y2, int rgb, double width, boolean dashed) {
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#%06x\" "
                    + "stroke-width=\"%.1f\"%s/>%n", x1, y1, x2, y2, rgb, width, dashed ? " stroke-dasharray=\"6,4\"" : ""));
        }

        @Override
        public void circle(double x, double y, double r, int rgb) {
            b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"#%06x\"/>%n", x, y, r, rgb));
        }

        @Override
        public void text(double x, double y, String s, double size, int anchor, int rgb) {
            String a = anchor < 0 ? "start" : anchor == 0 ? "middle" : "end";
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\" text-anchor=\"%s\" "
                    + "fill=\"#%06x\">%s</text>%n", x, y, size, a, rgb, escape(s)));
        }

        private static String escape(String s) {
            return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
        }

        @Override
        public void save(Path file) throws IOException {
            Files.writeString(file, b + "</svg>\n");
        }
    }

    /** A PNG drawn with java.awt (headless: no display needed). */
    final class Png implements Canvas {
        private final BufferedImage image;
        private final Graphics2D g;

        Png(int width, int height) {
            System.setProperty("java.awt.headless", "true");
            image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            g = image.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
        }

        @Override
        public void line(double x1, double y1, double x2, double y2, int rgb, double width, boolean dashed) {
            g.setColor(new Color(rgb));
            g.setStroke(dashed ? new BasicStroke((float) width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                    new float[]{6f, 4f}, 0f) : new BasicStroke((float) width));
            g.drawLine((int) Math.round(x1), (int) Math.round(y1), (int) Math.round(x2), (int) Math.round(y2));
        }

        @Override
        public void circle(double x, double y, double r, int rgb) {
            g.setColor(new Color(rgb));
            g.fillOval((int) Math.round(x - r), (int) Math.round(y - r), (int) Math.round(2 * r), (int) Math.round(2 * r));
        }

        @Override
        public void text(double x, double y, String s, double size, int anchor, int rgb) {
            g.setColor(new Color(rgb));
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, (int) Math.round(size)));
            int w = g.getFontMetrics().stringWidth(s);
            double left = anchor < 0 ? x : anchor == 0 ? x - w / 2.0 : x - w;
            g.drawString(s, (float) left, (float) y);
        }

        @Override
        public void save(Path file) throws IOException {
            g.dispose();
            ImageIO.write(image, "png", file.toFile());
        }
    }
}
