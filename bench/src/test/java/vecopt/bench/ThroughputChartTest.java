package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.charts.Panel;
import vecopt.charts.Series;

class ThroughputChartTest {
    private static final String A = "\"adam\" : \"adamw\", \"memory\" : \"offheap\", \"size\" : \"1048576\"";
    private static final String A32K = "\"adam\" : \"adamw\", \"memory\" : \"offheap\", \"size\" : \"32768\"";

    private static List<Result> results() {
        return Result.parse(new JmhJson()
                .run("AdamBench.engine", A, 1000, 10)
                .run("AdamBench.engine", A32K, 40000, 10)
                .run("SgdBench.engine", "\"sgd\" : \"momentum\", \"memory\" : \"offheap\", \"size\" : \"1048576\"", 900, 1)
                .run("CeilingBench.adamwTraffic", "\"size\" : \"1048576\", \"threads\" : \"1\"", 2000, 5)
                .run("CeilingBench.adamwTraffic", "\"size\" : \"32768\", \"threads\" : \"1\"", 90000, 5)
                .build(), "t");
    }

    @Test
    void aPanelPerKernelWithMeasuredPointsAndDashedCeilingsOnLogAxes() {
        List<Panel> panels = ThroughputChart.panels(results());
        assertEquals(List.of("adamw (28 B/param)", "sgd_momentum (20 B/param)"),
                panels.stream().map(Panel::title).toList());
        Panel adamw = panels.get(0);
        assertTrue(adamw.isLogX() && adamw.isLogY());
        Series engine = adamw.series().stream().filter(s -> s.name().equals("engine")).findFirst().orElseThrow();
        assertTrue(engine.points(), "measured points are dotted");
        assertEquals(List.of(32768.0, 1048576.0), java.util.Arrays.stream(engine.x()).boxed().toList());
        assertEquals(40000.0 * 32768 * 28 / 1e9, engine.y()[0], 1e-9, "GB/s of state traffic");
        Series ceiling = adamw.series().stream().filter(s -> s.name().equals("ceiling: adamw traffic"))
                .findFirst().orElseThrow();
        assertEquals(Series.Look.REFERENCE, ceiling.look());
        assertEquals(2, ceiling.x().length);
        assertEquals(1, panels.get(1).series().stream().filter(s -> s.look() == Series.Look.LINE).count());
        assertEquals("1M", adamw.xTickLabels().apply(1048576.0));
        assertEquals("32K", ThroughputChart.count(32768));
        assertEquals("77M", ThroughputChart.count(64 * 1.2 * (1 << 20)), "short for any value: widths are estimated");
    }

    @Test
    void writesSvgWithItsWordsAndAPngBeside(@TempDir Path dir) throws Exception {
        Path svg = dir.resolve("c.svg");
        Path png = ThroughputChart.write(results(), svg);
        String s = Files.readString(svg);
        assertTrue(s.contains(">adamw (28 B/param)<") && s.contains(">sgd_momentum (20 B/param)<"), s);
        assertTrue(s.contains(">ceiling: adamw traffic<") && s.contains("stroke-dasharray"), "ceilings drawn dashed");
        assertEquals(dir.resolve("c.png"), png);
        assertTrue(Files.size(png) > 1000, "png written");
    }

    @Test
    void resultsWithoutKernelsHaveNoChart() {
        List<Result> ceilingsOnly = Result.parse(new JmhJson()
                .run("CeilingBench.adamwTraffic", "\"size\" : \"32768\", \"threads\" : \"1\"", 90000, 5).build(), "t");
        assertThrows(IllegalArgumentException.class, () -> ThroughputChart.panels(ceilingsOnly));
    }
}
