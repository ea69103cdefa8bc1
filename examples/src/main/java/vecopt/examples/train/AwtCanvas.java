package vecopt.examples.train;

import java.awt.AlphaComposite;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;

/** A {@link Canvas} drawing into an image with java.awt (headless), for the PNG. */
final class AwtCanvas implements Canvas {
    private final BufferedImage image;
    private final Graphics2D g;

    AwtCanvas(int width, int height) {
        image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
    }

    private static Color color(String hex) {
        return Color.decode(hex);
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, String color, double width, boolean dashed) {
        g.setComposite(AlphaComposite.SrcOver);
        g.setColor(color(color));
        g.setStroke(dashed ? new BasicStroke((float) width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10,
                new float[] {5, 4}, 0) : new BasicStroke((float) width));
        g.draw(new java.awt.geom.Line2D.Double(x1, y1, x2, y2));
    }

    @Override
    public void polyline(double[] xs, double[] ys, int n, String color, double width, double opacity) {
        g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, (float) opacity));
        g.setColor(color(color));
        g.setStroke(new BasicStroke((float) width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        Path2D.Double path = new Path2D.Double();
        boolean open = false;
        for (int i = 0; i < n; i++) {
            if (Double.isFinite(xs[i]) && Double.isFinite(ys[i])) {
                if (open) {
                    path.lineTo(xs[i], ys[i]);
                } else {
                    path.moveTo(xs[i], ys[i]);
                    open = true;
                }
            } else {
                open = false;
            }
        }
        g.draw(path);
        g.setComposite(AlphaComposite.SrcOver);
    }

    @Override
    public void text(double x, double y, String text, double size, String color, Anchor anchor, boolean bold) {
        g.setColor(color(color));
        g.setFont(new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, (int) Math.round(size)));
        double w = g.getFontMetrics().stringWidth(text);
        double at = switch (anchor) {
            case START -> x;
            case MIDDLE -> x - w / 2;
            case END -> x - w;
        };
        g.drawString(text, (float) at, (float) y);
    }

    @Override
    public void rect(double x, double y, double w, double h, String fill, String stroke) {
        java.awt.geom.Rectangle2D.Double r = new java.awt.geom.Rectangle2D.Double(x, y, w, h);
        if (!fill.equals("none")) {
            g.setColor(color(fill));
            g.fill(r);
        }
        if (!stroke.equals("none")) {
            g.setColor(color(stroke));
            g.setStroke(new BasicStroke(1));
            g.draw(r);
        }
    }

    BufferedImage finish() {
        g.dispose();
        return image;
    }
}
