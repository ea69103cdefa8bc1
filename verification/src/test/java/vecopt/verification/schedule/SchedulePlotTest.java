package vecopt.verification.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import vecopt.schedule.HuggingFace;
import vecopt.schedule.Preset;
import vecopt.schedule.Schedule;
import vecopt.schedule.plot.Chart;
import vecopt.schedule.plot.SchedulePlot;
import vecopt.schedule.plot.Svg;
import vecopt.schedule.plot.TextTable;

/** The chart is well-formed SVG with what a reader needs; the table shows the schedules' own values. */
class SchedulePlotTest {
    private static Document parse(String svg) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    private static List<String> texts(Document d) {
        List<String> out = new ArrayList<>();
        NodeList n = d.getElementsByTagName("text");
        for (int i = 0; i < n.getLength(); i++) {
            out.add(n.item(i).getTextContent());
        }
        return out;
    }

    @Test
    void presetPanelsHaveAxesLabelsWarmupMarksAndOneCurveEach() throws Exception {
        List<Schedule> presets = new ArrayList<>();
        for (Preset p : Preset.values()) {
            presets.add(p.schedule(1000));
        }
        Document d = parse(Svg.render(SchedulePlot.panels(presets, 1000)));
        List<String> t = texts(d);
        assertEquals(presets.size(), d.getElementsByTagName("polyline").getLength(), "one curve per schedule");
        for (Preset p : Preset.values()) {
            assertTrue(t.contains(p.title()), "title and legend entry of " + p);
        }
        assertEquals(presets.size(), t.stream().filter("step"::equals).count(), "an x label per panel");
        assertEquals(presets.size(), t.stream().filter(s -> s.startsWith("learning rate")).count(), "y labels");
        assertTrue(t.contains("warmup ends: step 10") && t.contains("warmup ends: step 30")
                && t.contains("warmup ends: step 100"), "warmup ends marked: " + t);
        assertEquals(3, t.stream().filter("end of warmup"::equals).count(), "legend entry where there is a warmup");
    }

    /** The curve's points are the schedule's values, mapped linearly: the highest point is at the peak's step. */
    @Test
    void curveFollowsTheSchedule() throws Exception {
        Schedule s = HuggingFace.linearScheduleWithWarmup(1.0, 100, 1000);
        Chart chart = SchedulePlot.overlay("one", List.of(s), 1000);
        Document d = parse(Svg.render(chart));
        Element line = (Element) d.getElementsByTagName("polyline").item(0);
        String[] pts = line.getAttribute("points").split(" ");
        assertEquals(1000, pts.length, "every step is drawn when there are fewer steps than three per pixel");
        double bestY = Double.MAX_VALUE;
        int best = -1;
        double prevX = -1;
        for (int i = 0; i < pts.length; i++) {
            String[] xy = pts[i].split(",");
            double x = Double.parseDouble(xy[0]);
            double y = Double.parseDouble(xy[1]);
            assertTrue(x > prevX, "x increases with the step");
            prevX = x;
            if (y < bestY) {
                bestY = y;
                best = i;
            }
        }
        assertEquals(100, best, "the top of the curve is the end of warmup");
    }

    @Test
    void textTableShowsTheValuesAtItsSteps() {
        Schedule a = HuggingFace.cosineScheduleWithWarmup(3e-4, 100, 1000);
        Schedule b = Preset.CNN.schedule(1000);
        String table = TextTable.render(List.of(a, b), 1000, 5);
        assertTrue(table.contains("[1] " + a.name()) && table.contains("[2] " + b.name()), table);
        int rows = 0;
        for (String line : table.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && f[0].matches("\\d+")) {
                long step = Long.parseLong(f[0]);
                assertEquals(String.format(Locale.ROOT, "%.4e", a.lr(step)), f[1], line);
                assertEquals(String.format(Locale.ROOT, "%.4e", b.lr(step)), f[2], line);
                rows++;
            }
        }
        assertEquals(6, rows, "0, 250, 500, 749, 999 and the end of warmup, 100");
        assertTrue(table.contains(" 100 ") && table.contains("<- warmup of [1] ends"), table);
    }
}
