package vecopt.charts;

import java.awt.Color;
import java.awt.Dimension;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.apache.batik.svggen.SVGGeneratorContext;
import org.apache.batik.svggen.SVGGraphics2D;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.text.TextUtils;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * Paints a {@link Figure} onto one page, a PNG image or an SVG document: each cell's JFreeChart chart drawn into its
 * rectangle through java.awt, on an image or on Batik's SVG canvas (which keeps text as SVG text).
 */
final class FigurePainter {
    static {
        // Text is measured through java.awt even for SVG; a server or CI has no display.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        // JFreeChart draws rotated text (the y axis titles) as a TextLayout by default, a work-around for a JDK 1.3
        // bug; a TextLayout reaches the SVG as glyph outlines. A plain drawString keeps it text, and renders the same.
        TextUtils.setUseDrawRotatedStringWorkaround(false);
    }

    private FigurePainter() {
    }

    static void png(Figure f, int scale, OutputStream out) throws IOException {
        BufferedImage img = new BufferedImage(f.width() * scale, f.height() * scale, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.scale(scale, scale);
            paint(f, g);
        } finally {
            g.dispose();
        }
        if (!ImageIO.write(img, "png", out)) {
            throw new IOException("this JDK has no PNG writer");
        }
    }

    static void svg(Figure f, OutputStream out) throws IOException {
        Document doc;
        try {
            doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().getDOMImplementation()
                    .createDocument("http://www.w3.org/2000/svg", "svg", null);
        } catch (ParserConfigurationException e) {
            throw new IOException("no XML document builder in this JDK", e);
        }
        SVGGeneratorContext ctx = SVGGeneratorContext.createDefault(doc);
        ctx.setComment(null);
        ctx.setPrecision(2); // hundredths of a pixel: Batik's default of 4 decimals only makes the file larger
        SVGGraphics2D g = new SVGGraphics2D(ctx, false); // false: text stays text, not glyph outlines
        g.setSVGCanvasSize(new Dimension(f.width(), f.height()));
        paint(f, g);
        // Serialized by the JDK rather than by Batik's stream(), which writes a DOCTYPE naming the SVG 1.0 DTD on the
        // web: an XML parser that reads the file would then go online for it.
        try {
            Transformer t = TransformerFactory.newInstance().newTransformer();
            t.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
            Element root = g.getRoot();
            // with a viewBox the drawing scales with the box it is shown in (a README column) instead of being cut
            root.setAttribute("viewBox", "0 0 " + f.width() + " " + f.height());
            t.transform(new DOMSource(root), new StreamResult(out));
        } catch (TransformerException e) {
            throw new IOException("could not write the SVG document", e);
        }
    }

    private static void paint(Figure f, Graphics2D g) {
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, f.width(), f.height());
        for (Figure.Cell c : f.cells()) {
            JFreeChart chart = c.panels().size() == 1 ? PanelPlot.chart(c.panels().get(0))
                    : PanelPlot.column(c.panels(), c.weights());
            chart.draw(g, new Rectangle2D.Double(c.x(), c.y(), c.width(), c.height()));
        }
    }
}
