package vecopt.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import vecopt.charts.Figure;
import vecopt.charts.Panel;
import vecopt.charts.Series;

/**
 * Throughput against size, one panel per kernel, from a JMH result file: GB/s of state traffic (log scale) against the
 * number of parameters (log scale), one line per implementation (and memory kind, thread count and vector width where
 * several were run), with the measured memory ceilings as dashed grey lines. GB/s puts kernels and ceilings on one
 * axis; divide by the kernel's bytes per parameter (in the panel title) for parameters per second.
 *
 * <pre>{@code
 * ThroughputChart.write(Result.read(Path.of("out/bench/quick.json")), Path.of("out/bench/quick.svg"));  // and .png
 * }</pre>
 */
final class ThroughputChart {
    private static final int PANEL_W = 620;
    private static final int PANEL_H = 360;

    private ThroughputChart() {
    }

    /** Writes the chart as SVG to {@code svg}, and as PNG beside it (same name, .png); returns the PNG's path. */
    static Path write(List<Result> results, Path svg) throws IOException {
        return Figure.grid(panels(results), 2, PANEL_W, PANEL_H).write(svg);
    }

    /** A panel per kernel, in name order; throws if no result has a kernel and a size. */
    static List<Panel> panels(List<Result> results) {
        Map<String, List<Figures>> byKernel = new TreeMap<>();
        for (Figures f : Figures.of(results)) {
            if (!f.result().className().equals(Catalog.CEILING)) {
                byKernel.computeIfAbsent(f.entry().kernel(), k -> new ArrayList<>()).add(f);
            }
        }
        if (byKernel.isEmpty()) {
            throw new IllegalArgumentException("no kernel benchmarks with a size to chart in these results");
        }
        List<Panel> panels = new ArrayList<>();
        byKernel.forEach((kernel, rows) -> panels.add(panel(kernel, rows, results)));
        return panels;
    }

    private static String series(Figures f) {
        Result r = f.result();
        StringBuilder b = new StringBuilder(f.entry().impl());
        if (r.param("memory", "offheap").equals("heap")) {
            b.append(" heap");
        }
        if (!r.param("threads", "1").equals("1")) {
            b.append(" ×").append(r.param("threads", "1"));
        }
        if (r.params().containsKey("bits")) {
            b.append(' ').append(r.param("bits", "")).append("b");
        }
        return b.toString();
    }

    private static Panel panel(String kernel, List<Figures> rows, List<Result> all) {
        Map<String, TreeMap<Long, Double>> lines = new LinkedHashMap<>();
        for (Figures f : rows) {
            lines.computeIfAbsent(series(f), k -> new TreeMap<>()).put(Catalog.paramsPerOp(f.result()), f.gbPerSecond());
        }
        // Ceilings: the ones this kernel's rows are read against, plus the triad, per thread count.
        TreeSet<String> wanted = new TreeSet<>();
        rows.forEach(f -> {
            // an own-traffic ceiling is a row of the same kernel, drawn as its own line already
            if (f.entry().ceiling() != null && !f.entry().ceiling().equals(Catalog.OWN_TRAFFIC)) {
                wanted.add(f.entry().ceiling());
            }
        });
        if (wanted.contains(Catalog.TRAFFIC)) {
            wanted.add("CeilingBench.triad");
        }
        Map<String, TreeMap<Long, Double>> ceilings = new LinkedHashMap<>();
        for (Result r : all) {
            if (wanted.contains(r.benchmark())) {
                String label = Catalog.of(r).orElseThrow().kernel().replace("ceiling ", "")
                        + (r.param("threads", "1").equals("1") ? "" : " ×" + r.param("threads", "1"));
                ceilings.computeIfAbsent(label, k -> new TreeMap<>()).put(Catalog.paramsPerOp(r), Figures.gbPerSecond(r));
            }
        }
        TreeSet<Integer> bytes = new TreeSet<>();
        rows.forEach(f -> bytes.add(f.entry().bytesPerParam()));
        Panel p = new Panel(kernel + " (" + String.join("/", bytes.stream().map(String::valueOf).toList())
                + " B/param)").axes("parameters", "GB/s").logX(2).logY(2)
                .xTickLabels(ThroughputChart::count);
        // a ceiling measured at one size only is drawn across the panel, a level to read the points against
        ceilings.forEach((label, pts) -> p.add(Series.reference("ceiling: " + label, x(pts), y(pts))));
        lines.forEach((label, pts) -> p.add(Series.line(label, x(pts), y(pts)).withPoints()));
        return p;
    }

    /**
     * A parameter count as the table writes sizes (32K, 1M, 64M). Any value, not only the powers of two the ticks
     * stand at: the axis also formats its bounds to estimate how wide a label is.
     */
    static String count(double v) {
        if (v >= 1 << 20) {
            return String.format(Locale.ROOT, "%.0fM", v / (1 << 20));
        }
        if (v >= 1 << 10) {
            return String.format(Locale.ROOT, "%.0fK", v / (1 << 10));
        }
        return String.format(Locale.ROOT, "%.0f", v);
    }

    private static double[] x(TreeMap<Long, Double> pts) {
        return pts.keySet().stream().mapToDouble(Long::doubleValue).toArray();
    }

    private static double[] y(TreeMap<Long, Double> pts) {
        return pts.values().stream().mapToDouble(Double::doubleValue).toArray();
    }
}
