package vecopt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Side-by-side comparison of two sets of figures, each a value with an error bar under a key: absolute throughputs
 * from two JMH result files, or ratios (x native, % of ceiling) from a result and a committed baseline. Ratios travel
 * across machines where absolute numbers do not.
 *
 * <pre>{@code
 * List<Comparison.Line> lines = Comparison.compare(Comparison.throughputs(old), Comparison.throughputs(now), 0.10);
 * boolean failed = lines.stream().anyMatch(l -> l.verdict() != null && l.verdict().regressed());
 * }</pre>
 */
final class Comparison {
    /** A figure: higher is better. */
    record Figure(String key, double value, double error) {
    }

    /** One key's comparison; old or now is null when the key is only in the other set (verdict null then). */
    record Line(String key, Figure old, Figure now, Regression.Verdict verdict) {
    }

    private Comparison() {
    }

    /** Each result's throughput in millions of parameters per second (or ops/s for a result without a size). */
    static List<Figure> throughputs(List<Result> results) {
        List<Figure> out = new ArrayList<>();
        for (Result r : results) {
            double scale = r.params().containsKey("size") ? Catalog.paramsPerOp(r) / 1e6 : 1.0;
            out.add(new Figure(r.key(), r.opsPerSecond() * scale, r.opsPerSecondError() * scale));
        }
        return out;
    }

    /**
     * The machine-independent figures of a result file: each benchmark's speed relative to the native kernel on the
     * same parameters ("x native") and relative to its memory ceiling ("x ceiling"), where those were measured.
     */
    static List<Figure> ratios(List<Result> results) {
        List<Figure> out = new ArrayList<>();
        for (Result r : results) {
            Catalog.Entry e = Catalog.of(r).orElse(null);
            if (e == null) {
                continue;
            }
            if (!r.method().equals(e.nativePeer())) {
                Catalog.peer(r, e.nativePeer(), results).ifPresent(p -> out.add(ratio(r.key() + " | x native", r, p, 1.0)));
            }
            Catalog.ceiling(r, e.ceiling(), results).ifPresent(c -> {
                double bytes = (double) e.bytesPerParam() / Catalog.of(c).orElseThrow().bytesPerParam();
                out.add(ratio(r.key() + " | x ceiling", r, c, bytes));
            });
        }
        return out;
    }

    /** a / b with b's and a's relative errors in quadrature; {@code weight} converts units (bytes per param). */
    private static Figure ratio(String key, Result a, Result b, double weight) {
        double x = a.opsPerSecond() * Catalog.paramsPerOp(a) * weight / (b.opsPerSecond() * Catalog.paramsPerOp(b));
        double ra = a.opsPerSecondError() / a.opsPerSecond(), rb = b.opsPerSecondError() / b.opsPerSecond();
        return new Figure(key, x, x * Math.sqrt(ra * ra + rb * rb));
    }

    static List<Line> compare(List<Figure> old, List<Figure> now, double threshold) {
        Map<String, Figure> o = index(old, "old");
        Map<String, Figure> n = index(now, "new");
        List<Line> out = new ArrayList<>();
        for (Figure f : o.values()) {
            Figure g = n.get(f.key());
            out.add(new Line(f.key(), f, g, g == null ? null
                    : Regression.judge(f.value(), f.error(), g.value(), g.error(), threshold)));
        }
        for (Figure g : n.values()) {
            if (!o.containsKey(g.key())) {
                out.add(new Line(g.key(), null, g, null));
            }
        }
        return out;
    }

    private static Map<String, Figure> index(List<Figure> figures, String which) {
        Map<String, Figure> m = new LinkedHashMap<>();
        for (Figure f : figures) {
            if (m.put(f.key(), f) != null) {
                throw new IllegalArgumentException("the " + which + " figures hold '" + f.key() + "' twice");
            }
        }
        return m;
    }

    static boolean anyRegressed(List<Line> lines) {
        return lines.stream().anyMatch(l -> l.verdict() != null && l.verdict().regressed());
    }

    static String table(List<Line> lines, String oldName, String newName, double threshold) {
        int w = Math.max(20, lines.stream().mapToInt(l -> l.key().length()).max().orElse(20));
        String fmt = "%-" + w + "s  %22s  %22s  %18s  %s%n";
        StringBuilder b = new StringBuilder();
        b.append(String.format(fmt, "figure", oldName, newName, "new/old", "verdict (threshold "
                + Math.round(threshold * 100) + "% beyond error)"));
        for (Line l : lines) {
            b.append(String.format(fmt, l.key(), show(l.old()), show(l.now()),
                    l.verdict() == null ? "-" : String.format("%.3f ± %.3f", l.verdict().ratio(), l.verdict().error()),
                    l.verdict() == null ? (l.old() == null ? "only in new" : "only in old") : l.verdict().label()));
        }
        long regressed = lines.stream().filter(l -> l.verdict() != null && l.verdict().regressed()).count();
        long compared = lines.stream().filter(l -> l.verdict() != null).count();
        b.append(String.format("%d compared, %d regressed%n", compared, regressed));
        return b.toString();
    }

    private static String show(Figure f) {
        return f == null ? "-" : String.format("%.4g ± %.2g", f.value(), f.error());
    }

    /** Baseline file: one figure per line, "key TAB value TAB error"; '#' starts a comment. */
    static List<Figure> readBaseline(Path file) throws IOException {
        List<Figure> out = new ArrayList<>();
        int lineNo = 0;
        for (String line : Files.readAllLines(file)) {
            lineNo++;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t");
            if (f.length != 3) {
                throw new IllegalArgumentException(file + ":" + lineNo + ": expected key<TAB>value<TAB>error, got '" + line + "'");
            }
            try {
                out.add(new Figure(f[0], Double.parseDouble(f[1]), Double.parseDouble(f[2])));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ":" + lineNo + ": bad number in '" + line + "'");
            }
        }
        return out;
    }

    static void writeBaseline(Path file, List<Figure> figures, String comment) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("# vecopt bench baseline of ratios (machine-independent figures): key\tvalue\terror\n");
        b.append("# ").append(comment).append('\n');
        for (Figure f : figures) {
            b.append(f.key()).append('\t').append(String.format("%.5f", f.value())).append('\t')
                    .append(String.format("%.5f", f.error())).append('\n');
        }
        Files.writeString(file, b.toString());
    }
}
