package vecopt.charts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

/** What is written: a well-formed SVG whose words are text, and a PNG at twice the size, both headless. */
class FigureTest {
    @TempDir
    Path dir;

    private static Panel panel(String title) {
        return new Panel(title).axes("step", "learning rate")
                .add(Series.line(title + " curve", new double[] {0, 1, 2}, new double[] {0, 1, 0.5}))
                .mark(Marker.at(1, title + " warmup ends")).level(0.25, title + " floor");
    }

    private static List<String> texts(Path svg) throws Exception {
        Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile());
        assertEquals("svg", d.getDocumentElement().getTagName());
        List<String> out = new ArrayList<>();
        NodeList n = d.getElementsByTagName("text");
        for (int i = 0; i < n.getLength(); i++) {
            out.add(n.item(i).getTextContent().strip());
        }
        return out;
    }

    @Test
    void gridWritesSvgWithEveryWordAndAPngBesideIt() throws Exception {
        Path svg = dir.resolve("sub/grid.svg");
        Path png = Figure.grid(List.of(panel("a"), panel("b"), panel("c")), 2, 400, 300).write(svg);
        assertEquals(dir.resolve("sub/grid.png"), png);
        List<String> t = texts(svg);
        for (String p : List.of("a", "b", "c")) {
            for (String word : List.of(p, p + " curve", p + " warmup ends", p + " floor")) {
                assertTrue(t.contains(word), word + " missing from " + t);
            }
        }
        assertEquals(3, t.stream().filter("step"::equals).count(), "an x title per panel");
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(2 * 800, img.getWidth(), "two columns of 400, at twice the size");
        assertEquals(2 * 600, img.getHeight(), "two rows of 300");
    }

    @Test
    void columnHasOneXAxisAndOneLegend() throws Exception {
        Path svg = dir.resolve("col.svg");
        Panel top = panel("top").legend(Panel.Legend.RIGHT);
        Panel bottom = new Panel("").axes("step", "lr")
                .add(Series.line("unlisted lr", new double[] {0, 2}, new double[] {1, 1}).unlisted());
        Figure.column(List.of(top, bottom), 600, 500, 2, 1).writeSvg(svg);
        List<String> t = texts(svg);
        assertEquals(1, t.stream().filter("step"::equals).count(), t::toString);
        assertTrue(t.contains("top curve") && !t.contains("unlisted lr"), "one legend, listed series only: " + t);
        assertTrue(t.contains("learning rate") && t.contains("lr"), "a y title per panel: " + t);
        assertTrue(Files.size(svg) < 100_000, "a small figure is a small file: " + Files.size(svg));
    }

    @Test
    void logAxisTickLabelsStayText() throws Exception {
        Path svg = dir.resolve("log.svg");
        Panel p = new Panel("sizes").axes("parameters", "GB/s").logX(2).logY(2).xTickLabels(v -> (long) v / 1024 + "K")
                .add(Series.line("engine", new double[] {1024, 4096, 16384}, new double[] {4, 16, 64}));
        Figure.grid(List.of(p), 1, 500, 300).writeSvg(svg);
        List<String> t = texts(svg);
        assertTrue(t.contains("4K") && t.contains("16"), "log ticks written as text: " + t);
    }

    @Test
    void pngBesideReplacesTheSvgEnding() {
        assertEquals(Path.of("out/x.png"), Figure.pngBeside(Path.of("out/x.svg")));
        assertEquals(Path.of("x.chart.png"), Figure.pngBeside(Path.of("x.chart")));
    }
}
