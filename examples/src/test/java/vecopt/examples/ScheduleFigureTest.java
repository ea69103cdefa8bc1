package vecopt.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;
import vecopt.charts.Marker;
import vecopt.charts.Panel;
import vecopt.charts.Series;
import vecopt.schedule.HuggingFace;
import vecopt.schedule.Preset;

/** The chart has what a reader needs, and its curves are the schedules' own values. */
class ScheduleFigureTest {
    @TempDir
    Path dir;

    private static List<NamedSchedule> presets(long steps) {
        List<NamedSchedule> out = new ArrayList<>();
        for (Preset p : Preset.values()) {
            out.add(new NamedSchedule(p.title(), p.schedule(steps), p.warmupSteps(steps)));
        }
        return out;
    }

    private static List<String> texts(Path svg) throws Exception {
        Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile());
        List<String> out = new ArrayList<>();
        NodeList n = d.getElementsByTagName("text");
        for (int i = 0; i < n.getLength(); i++) {
            out.add(n.item(i).getTextContent().strip());
        }
        return out;
    }

    @Test
    void presetPanelsHaveAxesLabelsWarmupMarksAndOneCurveEach() throws Exception {
        List<NamedSchedule> presets = presets(1000);
        List<Panel> panels = ScheduleFigure.panelList(presets, 1000);
        assertEquals(presets.size(), panels.size());
        panels.forEach(p -> assertEquals(1, p.series().size(), "one curve per schedule"));
        Path svg = dir.resolve("schedules.svg");
        ScheduleFigure.panels(presets, 1000).write(svg);
        List<String> t = texts(svg);
        for (Preset p : Preset.values()) {
            assertTrue(t.contains(p.title()), "title of " + p + " in " + t);
        }
        assertEquals(presets.size(), t.stream().filter("step"::equals).count(), "an x label per panel");
        assertEquals(presets.size(), t.stream().filter(s -> s.startsWith("learning rate")).count(), "y labels");
        assertTrue(t.contains("learning rate (× 10⁻⁴)"), "small rates in units of a power of ten: " + t);
        assertTrue(t.contains("warmup ends: step 10") && t.contains("warmup ends: step 30")
                && t.contains("warmup ends: step 100"), "warmup ends marked: " + t);
        assertEquals(0, panels.get(3).markers().size(), "the CNN preset has no warmup to mark");
        assertTrue(dir.resolve("schedules.png").toFile().length() > 0);
    }

    /** The curve's points are the schedule's values at every step: the highest point is at the peak's step. */
    @Test
    void curveFollowsTheSchedule() {
        NamedSchedule s = new NamedSchedule("one", HuggingFace.linearScheduleWithWarmup(1.0, 100, 1000), 100);
        Panel p = ScheduleFigure.panel("one", List.of(s), 0, 1000);
        Series curve = p.series().get(0);
        double[] x = curve.x();
        double[] y = curve.y();
        assertEquals(1000, x.length, "every step is drawn when there are at most MAX_POINTS steps");
        int best = 0;
        for (int i = 0; i < x.length; i++) {
            assertEquals(i, x[i]);
            assertEquals(s.schedule().lr(i), y[i], "rates of 1 are drawn as they are");
            best = y[i] > y[best] ? i : best;
        }
        assertEquals(100, best, "the top of the curve is the end of warmup");
        assertEquals(List.of(100.0), p.markers().stream().map(Marker::x).toList());
    }

    @Test
    void longRunsAreSampledWithBothSidesOfEachWarmupEnd() {
        long steps = 1_000_000;
        NamedSchedule s = new NamedSchedule("w", HuggingFace.linearScheduleWithWarmup(1.0, 12_345, steps), 12_345);
        long[] at = ScheduleFigure.sampleSteps(List.of(s), steps);
        assertTrue(at.length <= ScheduleFigure.MAX_POINTS + 3, "bounded: " + at.length);
        assertEquals(0, at[0]);
        assertEquals(steps - 1, at[at.length - 1]);
        List<Long> list = java.util.Arrays.stream(at).boxed().toList();
        assertTrue(list.contains(12_344L) && list.contains(12_345L), "the peak is drawn where it is");
    }

    @Test
    void overlaySharesOneScaleAndOneNeutralMarkerForASharedWarmup() {
        List<NamedSchedule> two = List.of(
                new NamedSchedule("a", HuggingFace.linearScheduleWithWarmup(3e-4, 50, 500), 50),
                new NamedSchedule("b", HuggingFace.cosineScheduleWithWarmup(3e-4, 50, 500), 50));
        Panel p = ScheduleFigure.panel("both", two, 0, 500);
        assertEquals(2, p.series().size());
        assertEquals(List.of(0, 1), p.series().stream().map(Series::slot).toList());
        assertEquals("learning rate (× 10⁻⁴)", p.yTitle());
        assertEquals(3.0, java.util.Arrays.stream(p.series().get(0).y()).max().orElseThrow(), 1e-12);
        assertEquals(1, p.markers().size());
        assertEquals(-1, p.markers().get(0).slot(), "shared by both: neutral");
    }
}
