package vecopt.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.charts.Marker;
import vecopt.charts.Panel;
import vecopt.charts.Series;
import vecopt.schedule.HuggingFace;
import vecopt.preset.Preset;

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

    @Test
    void presetPanelsHaveAxesLabelsWarmupMarksAndOneCurveEach() throws Exception {
        List<NamedSchedule> presets = presets(1000);
        List<Panel> panels = ScheduleFigure.panelList(presets, 1000);
        assertEquals(presets.size(), panels.size());
        for (int i = 0; i < panels.size(); i++) {
            Panel p = panels.get(i);
            assertEquals(Preset.values()[i].title(), p.title());
            assertEquals(1, p.series().size(), "one curve per schedule");
            assertEquals("step", p.xTitle());
            assertTrue(p.yTitle().startsWith("learning rate"), p.yTitle());
        }
        assertEquals("learning rate (× 10⁻⁴)", panels.get(0).yTitle(), "small rates in units of a power of ten");
        assertEquals(List.of("warmup ends: step 10", "warmup ends: step 30", "warmup ends: step 100"),
                panels.stream().flatMap(p -> p.markers().stream()).map(Marker::label).toList(),
                "warmup ends marked; the CNN preset has none");
        Path svg = dir.resolve("schedules.svg");
        ScheduleFigure.panels(presets, 1000).write(svg);
        assertEquals("svg", DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile())
                .getDocumentElement().getTagName());
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
