package vecopt.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Throughput against size, one panel per kernel, from a JMH result file: GB/s of state traffic (log scale) against the
 * number of parameters (log scale), one line per implementation (and memory kind, thread count and vector width where
 * several were run), with the measured memory ceilings as dashed grey lines. GB/s puts kernels and ceilings on one
 * axis; divide by the kernel's bytes per parameter (in the panel title) for parameters per second.
 *
 * <pre>{@code
 * Chart.write(Result.read(Path.of("out/bench/quick.json")), Path.of("out/bench/quick.svg"));  // and quick.png
 * }</pre>
 */
final class Chart {
    private static final int PANEL_W = 620, PANEL_H = 360, COLS = 2;
    private static final int LEFT = 64, RIGHT = 190, TOP = 34, BOTTOM = 46;
    private static final int[] COLORS = {0x1f77b4, 0xd62728, 0x2ca02c, 0x9467bd, 0xff7f0e, 0x8c564b, 0xe377c2,
            0x17becf, 0xbcbd22, 0x7f7f7f};
    private static final int[] CEILINGS = {0x444444, 0x999999, 0x777777, 0xbbbbbb};

    private Chart() {
    }

    /** Writes the chart as SVG to {@code svg}, and as PNG next to it (same name, .png). */
    static void write(List<Result> results, Path svg) throws IOException {
        Map<String, List<Figures>> panels = panels(results);
        if (panels.isEmpty()) {
            throw new IllegalArgumentException("no kernel benchmarks with a size to chart in these results");
        }
        int rows = (panels.size() + COLS - 1) / COLS;
        int w = PANEL_W * Math.min(COLS, panels.size()), h = PANEL_H * rows;
        Canvas.Svg s = new Canvas.Svg(w, h);
        draw(panels, results, s);
        s.save(svg);
        String name = svg.getFileName().toString();
        Path png = svg.resolveSibling((name.endsWith(".svg") ? name.substring(0, name.length() - 4) : name) + ".png");
        Canvas.Png p = new Canvas.Png(w, h);
        draw(panels, results, p);
        p.save(png);
    }

    private static Map<String, List<Figures>> panels(List<Result> results) {
        Map<String, List<Figures>> panels = new TreeMap<>();
        for (Figures f : Figures.of(results)) {
            if (!f.result().className().equals(Catalog.CEILING)) {
                panels.computeIfAbsent(f.entry().kernel(), k -> new ArrayList<>()).add(f);
            }
        }
        return panels;
    }

    private static void draw(Map<String, List<Figures>> panels, List<Result> all, Canvas c) {
        int i = 0;
        for (Map.Entry<String, List<Figures>> e : panels.entrySet()) {
            panel(e.getKey(), e.getValue(), all, c, (i % COLS) * PANEL_W, (i / COLS) * PANEL_H);
            i++;
        }
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

    private static void panel(String kernel, List<Figures> rows, List<Result> all, Canvas c, double x0, double y0) {
        Map<String, TreeMap<Long, Double>> lines = new LinkedHashMap<>();
        for (Figures f : rows) {
            lines.computeIfAbsent(series(f), k -> new TreeMap<>()).put(Catalog.paramsPerOp(f.result()), f.gbPerSecond());
        }
        // Ceilings: the ones this kernel's rows are read against, plus the triad, per thread count.
        TreeSet<String> wanted = new TreeSet<>();
        rows.forEach(f -> {
            if (f.entry().ceiling() != null) {
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
        double minX = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, minY = Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
        for (Map<Long, Double> m : concat(lines, ceilings)) {
            for (Map.Entry<Long, Double> p : m.entrySet()) {
                minX = Math.min(minX, Math.log(p.getKey()) / Math.log(2));
                maxX = Math.max(maxX, Math.log(p.getKey()) / Math.log(2));
                if (p.getValue() > 0) {
                    minY = Math.min(minY, Math.log10(p.getValue()));
                    maxY = Math.max(maxY, Math.log10(p.getValue()));
                }
            }
        }
        minX -= 0.5;
        maxX += 0.5;
        minY = Math.floor(minY * 4) / 4 - 0.05;
        maxY = Math.ceil(maxY * 4) / 4 + 0.05;
        double pw = PANEL_W - LEFT - RIGHT, ph = PANEL_H - TOP - BOTTOM;
        double fx0 = minX, fx1 = maxX, fy0 = minY, fy1 = maxY;
        java.util.function.DoubleUnaryOperator px = v -> x0 + LEFT + (v - fx0) / (fx1 - fx0) * pw;
        java.util.function.DoubleUnaryOperator py = v -> y0 + TOP + ph - (v - fy0) / (fy1 - fy0) * ph;

        TreeSet<Integer> bytes = new TreeSet<>();
        rows.forEach(f -> bytes.add(f.entry().bytesPerParam()));
        c.text(x0 + LEFT + pw / 2, y0 + 20, kernel + " (" + String.join("/", bytes.stream().map(String::valueOf).toList())
                + " B/param)", 15, 0, 0x000000);
        // axes and grid: y ticks at 1, 2, 5 x 10^k GB/s; x ticks at each measured size
        c.line(x0 + LEFT, y0 + TOP + ph, x0 + LEFT + pw, y0 + TOP + ph, 0x000000, 1, false);
        c.line(x0 + LEFT, y0 + TOP, x0 + LEFT, y0 + TOP + ph, 0x000000, 1, false);
        for (int k = (int) Math.floor(minY); k <= Math.ceil(maxY); k++) {
            for (int m : new int[]{1, 2, 5}) {
                double v = k + Math.log10(m);
                if (v < minY || v > maxY) {
                    continue;
                }
                double y = py.applyAsDouble(v);
                c.line(x0 + LEFT, y, x0 + LEFT + pw, y, 0xe8e8e8, 1, false);
                c.text(x0 + LEFT - 6, y + 4, label(Math.pow(10, v)), 11, 1, 0x333333);
            }
        }
        TreeSet<Long> sizes = new TreeSet<>();
        lines.values().forEach(m -> sizes.addAll(m.keySet()));
        ceilings.values().forEach(m -> sizes.addAll(m.keySet()));
        for (long s : sizes) {
            double x = px.applyAsDouble(Math.log(s) / Math.log(2));
            c.line(x, y0 + TOP + ph, x, y0 + TOP + ph + 4, 0x000000, 1, false);
            c.text(x, y0 + TOP + ph + 17, Figures.size(Long.toString(s)), 11, 0, 0x333333);
        }
        c.text(x0 + LEFT + pw / 2, y0 + PANEL_H - 10, "parameters", 12, 0, 0x333333);
        c.text(x0 + 14, y0 + TOP - 10, "GB/s", 12, -1, 0x333333);

        double ly = y0 + TOP + 6;
        int shade = 0;
        for (Map.Entry<String, TreeMap<Long, Double>> e : ceilings.entrySet()) {
            int grey = CEILINGS[shade++ % CEILINGS.length];
            polyline(e.getValue(), px, py, c, grey, true, x0 + LEFT, x0 + LEFT + pw);
            ly = legend(c, x0 + LEFT + pw + 12, ly, "ceiling: " + e.getKey(), grey, true);
        }
        int color = 0;
        for (Map.Entry<String, TreeMap<Long, Double>> e : lines.entrySet()) {
            int rgb = COLORS[color++ % COLORS.length];
            polyline(e.getValue(), px, py, c, rgb, false, x0 + LEFT, x0 + LEFT + pw);
            ly = legend(c, x0 + LEFT + pw + 12, ly, e.getKey(), rgb, false);
        }
    }

    @SafeVarargs
    private static List<Map<Long, Double>> concat(Map<String, TreeMap<Long, Double>>... maps) {
        List<Map<Long, Double>> out = new ArrayList<>();
        for (Map<String, TreeMap<Long, Double>> m : maps) {
            out.addAll(m.values());
        }
        return out;
    }

    private static void polyline(TreeMap<Long, Double> pts, java.util.function.DoubleUnaryOperator px,
                                 java.util.function.DoubleUnaryOperator py, Canvas c, int rgb, boolean dashed,
                                 double xa, double xb) {
        if (dashed && pts.size() == 1 && pts.firstEntry().getValue() > 0) {
            // A ceiling measured at one size only: a level across the panel, for reading the points against.
            double y = py.applyAsDouble(Math.log10(pts.firstEntry().getValue()));
            c.line(xa, y, xb, y, rgb, 1.5, true);
            return;
        }
        double lx = Double.NaN, lyy = Double.NaN;
        for (Map.Entry<Long, Double> p : pts.entrySet()) {
            if (!(p.getValue() > 0)) {
                continue;
            }
            double x = px.applyAsDouble(Math.log(p.getKey()) / Math.log(2)), y = py.applyAsDouble(Math.log10(p.getValue()));
            if (!Double.isNaN(lx)) {
                c.line(lx, lyy, x, y, rgb, dashed ? 1.5 : 2, dashed);
            }
            if (!dashed) {
                c.circle(x, y, 3.5, rgb);
            }
            lx = x;
            lyy = y;
        }
    }

    private static double legend(Canvas c, double x, double y, String label, int rgb, boolean dashed) {
        c.line(x, y, x + 22, y, rgb, 2, dashed);
        c.text(x + 28, y + 4, label, 11, -1, 0x222222);
        return y + 17;
    }

    private static String label(double v) {
        return v >= 1 ? String.format("%.0f", v) : new java.math.BigDecimal(v).round(new java.math.MathContext(1))
                .stripTrailingZeros().toPlainString();
    }
}
