package vecopt.schedule.plot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes a {@link Chart} as a standalone SVG document.
 *
 * <pre>{@code
 * Svg.write(SchedulePlot.panels(schedules, 10_000), Path.of("out/schedules.svg"));
 * }</pre>
 */
public final class Svg {
    private Svg() {
    }

    public static String render(Chart chart) {
        StringBuilder b = new StringBuilder(64 * 1024);
        b.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(chart.width()).append("\" height=\"")
                .append(chart.height()).append("\" viewBox=\"0 0 ").append(chart.width()).append(' ')
                .append(chart.height()).append("\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n");
        for (Mark m : chart.marks()) {
            switch (m) {
                case Mark.Line l -> b.append("<line x1=\"").append(f(l.x1())).append("\" y1=\"").append(f(l.y1()))
                        .append("\" x2=\"").append(f(l.x2())).append("\" y2=\"").append(f(l.y2()))
                        .append("\" stroke=\"").append(l.color()).append("\" stroke-width=\"").append(f(l.width()))
                        .append(l.dash() > 0 ? "\" stroke-dasharray=\"" + f(l.dash()) + "," + f(l.dash()) : "")
                        .append("\"/>\n");
                case Mark.Path p -> {
                    b.append("<polyline fill=\"none\" stroke=\"").append(p.color()).append("\" stroke-width=\"")
                            .append(f(p.width())).append("\" stroke-linejoin=\"round\" points=\"");
                    for (int i = 0; i < p.xs().length; i++) {
                        b.append(i == 0 ? "" : " ").append(f(p.xs()[i])).append(',').append(f(p.ys()[i]));
                    }
                    b.append("\"/>\n");
                }
                case Mark.Rect r -> b.append("<rect x=\"").append(f(r.x())).append("\" y=\"").append(f(r.y()))
                        .append("\" width=\"").append(f(r.w())).append("\" height=\"").append(f(r.h()))
                        .append("\" fill=\"").append(r.fill() == null ? "none" : r.fill())
                        .append("\" stroke=\"").append(r.stroke() == null ? "none" : r.stroke()).append("\"/>\n");
                case Mark.Text t -> {
                    b.append("<text x=\"").append(f(t.x())).append("\" y=\"").append(f(t.y()))
                            .append("\" font-size=\"").append(f(t.size())).append("\" fill=\"").append(t.color())
                            .append("\" text-anchor=\"").append(switch (t.align()) {
                                case START -> "start";
                                case MIDDLE -> "middle";
                                case END -> "end";
                            }).append('"');
                    if (t.bold()) {
                        b.append(" font-weight=\"bold\"");
                    }
                    if (t.vertical()) {
                        b.append(" transform=\"rotate(-90 ").append(f(t.x())).append(' ').append(f(t.y()))
                                .append(")\"");
                    }
                    b.append('>').append(escape(t.text())).append("</text>\n");
                }
            }
        }
        return b.append("</svg>\n").toString();
    }

    public static void write(Chart chart, Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Files.writeString(file, render(chart));
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
