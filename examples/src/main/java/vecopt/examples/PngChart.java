package vecopt.examples;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import vecopt.schedule.plot.Chart;
import vecopt.schedule.plot.Mark;

/**
 * Draws a {@link Chart} into a PNG with java.awt (headless): the same marks the SVG has, so both pictures agree.
 * Lives in examples, not engine, to keep the engine free of the desktop module.
 */
public final class PngChart {
    private PngChart() {
    }

    public static void write(Chart chart, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int scale = 2; // crisp on high-density screens
        BufferedImage img = new BufferedImage(chart.width() * scale, chart.height() * scale,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.scale(scale, scale);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, chart.width(), chart.height());
            for (Mark m : chart.marks()) {
                draw(g, m);
            }
        } finally {
            g.dispose();
        }
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        ImageIO.write(img, "png", file.toFile());
    }

    private static void draw(Graphics2D g, Mark m) {
        switch (m) {
            case Mark.Line l -> {
                g.setColor(Color.decode(l.color()));
                g.setStroke(l.dash() > 0
                        ? new BasicStroke((float) l.width(), BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10,
                                new float[] {(float) l.dash(), (float) l.dash()}, 0)
                        : new BasicStroke((float) l.width()));
                g.draw(new Line2D.Double(l.x1(), l.y1(), l.x2(), l.y2()));
            }
            case Mark.Path p -> {
                if (p.xs().length == 0) {
                    return;
                }
                Path2D.Double path = new Path2D.Double();
                path.moveTo(p.xs()[0], p.ys()[0]);
                for (int i = 1; i < p.xs().length; i++) {
                    path.lineTo(p.xs()[i], p.ys()[i]);
                }
                g.setColor(Color.decode(p.color()));
                g.setStroke(new BasicStroke((float) p.width(), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
                g.draw(path);
            }
            case Mark.Rect r -> {
                Rectangle2D.Double rect = new Rectangle2D.Double(r.x(), r.y(), r.w(), r.h());
                if (r.fill() != null) {
                    g.setColor(Color.decode(r.fill()));
                    g.fill(rect);
                }
                if (r.stroke() != null) {
                    g.setColor(Color.decode(r.stroke()));
                    g.setStroke(new BasicStroke(1f));
                    g.draw(rect);
                }
            }
            case Mark.Text t -> {
                g.setColor(Color.decode(t.color()));
                g.setFont(new Font(Font.SANS_SERIF, t.bold() ? Font.BOLD : Font.PLAIN, (int) Math.round(t.size())));
                FontMetrics fm = g.getFontMetrics();
                double w = fm.stringWidth(t.text());
                double dx = switch (t.align()) {
                    case START -> 0;
                    case MIDDLE -> -w / 2;
                    case END -> -w;
                };
                AffineTransform saved = g.getTransform();
                g.translate(t.x(), t.y());
                if (t.vertical()) {
                    g.rotate(-Math.PI / 2);
                }
                g.drawString(t.text(), (float) dx, 0f);
                g.setTransform(saved);
            }
        }
    }
}
