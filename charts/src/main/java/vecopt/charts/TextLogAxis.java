package vecopt.charts;

import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.axis.AxisState;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.LogTick;
import org.jfree.chart.axis.NumberTick;
import org.jfree.chart.axis.ValueTick;
import org.jfree.chart.ui.RectangleEdge;

/**
 * JFreeChart's {@link LogAxis} with its tick labels as plain strings. {@code LogAxis} labels every tick with an
 * attributed string (for superscript exponents), which java.awt draws as a {@code TextLayout}: on the SVG canvas that
 * becomes glyph outlines, about 1 KB a label and no text to search. Our labels have no superscripts, so each tick is
 * handed on as a plain {@link NumberTick}, which is drawn with {@code drawString} and stays SVG text.
 */
final class TextLogAxis extends LogAxis {
    private static final long serialVersionUID = 1L;

    TextLogAxis(String label) {
        super(label);
    }

    @Override
    @SuppressWarnings({"rawtypes", "unchecked"}) // JFreeChart's tick lists are raw
    public List refreshTicks(Graphics2D g2, AxisState state, Rectangle2D dataArea, RectangleEdge edge) {
        List<ValueTick> plain = new ArrayList<>();
        for (Object t : super.refreshTicks(g2, state, dataArea, edge)) {
            LogTick tick = (LogTick) t;
            String text = tick.getAttributedLabel() == null ? null : getNumberFormatOverride().format(tick.getValue());
            plain.add(new NumberTick(tick.getTickType(), tick.getValue(), text, tick.getTextAnchor(),
                    tick.getRotationAnchor(), tick.getAngle()));
        }
        return plain;
    }
}
