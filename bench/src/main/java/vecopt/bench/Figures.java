package vecopt.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The figures of one result, read against its peers and ceilings in the same file: parameters per second, GB/s of
 * state traffic, percentage of the bandwidth ceiling (same size, same thread count), and the ratios to the native
 * kernel and to the scalar reference (else the engine's scalar kernel) on the same parameters, in operations per
 * second (for the same size: parameters per second). NaN where the peer or ceiling was not measured.
 */
record Figures(Result result, Catalog.Entry entry, double mparams, double mparamsError, double gbPerSecond,
               double percentOfCeiling, double xNative, double xScalar) {

    static List<Figures> of(List<Result> all) {
        List<Figures> out = new ArrayList<>();
        for (Result r : all) {
            Optional<Catalog.Entry> e = Catalog.of(r);
            if (e.isEmpty()) {
                continue;
            }
            out.add(of(r, e.get(), all));
        }
        out.sort(Comparator.comparing((Figures f) -> f.entry.kernel())
                .thenComparing(f -> f.result.param("memory", ""))
                .thenComparingLong(f -> Long.parseLong(f.result.param("size", "0")))
                .thenComparing(f -> f.result.param("threads", "1"))
                .thenComparing(f -> f.result.param("bits", ""))
                .thenComparing(f -> f.entry.impl()));
        return out;
    }

    static Figures of(Result r, Catalog.Entry e, List<Result> all) {
        double n = Catalog.paramsPerOp(r);
        double mp = r.opsPerSecond() * n / 1e6;
        double mpErr = r.opsPerSecondError() * n / 1e6;
        double gbs = mp * 1e6 * e.bytesPerParam() / 1e9;
        double pct = Catalog.ceiling(r, e.ceiling(), all)
                .map(c -> 100 * gbs / gbPerSecond(c))
                .orElse(Double.NaN);
        double xNative = r.method().equals(e.nativePeer()) ? Double.NaN
                : Catalog.peer(r, e.nativePeer(), all).map(p -> r.opsPerSecond() / p.opsPerSecond()).orElse(Double.NaN);
        double xScalar = Catalog.scalarPeer(r, all).map(p -> r.opsPerSecond() / p.opsPerSecond()).orElse(Double.NaN);
        return new Figures(r, e, mp, mpErr, gbs, pct, xNative, xScalar);
    }

    /** GB/s of a result by its catalogue bytes per parameter. */
    static double gbPerSecond(Result r) {
        Catalog.Entry e = Catalog.of(r).orElseThrow(() -> new IllegalArgumentException("not in the catalog: " + r.benchmark()));
        return r.opsPerSecond() * Catalog.paramsPerOp(r) * e.bytesPerParam() / 1e9;
    }

    /** The table the bench command prints: one line per result, peers and ceilings side by side. */
    static String table(List<Figures> rows) {
        StringBuilder b = new StringBuilder();
        String fmt = "%-22s %-13s %-7s %9s %3s %4s %16s %8s %7s %8s %8s %8s%n";
        b.append(String.format(fmt, "kernel", "impl", "memory", "size", "thr", "bits", "Mparams/s", "GB/s",
                "%ceil", "x native", "x scalar", "B/op"));
        for (Figures f : rows) {
            Result r = f.result;
            b.append(String.format(fmt, f.entry.kernel(), f.entry.impl(), r.param("memory", "offheap"),
                    size(r.param("size", "?")), r.param("threads", "1"), r.param("bits", "pref"),
                    String.format("%.1f ± %.1f", f.mparams, f.mparamsError), String.format("%.2f", f.gbPerSecond),
                    num(f.percentOfCeiling, "%.0f%%"), num(f.xNative, "%.2fx"), num(f.xScalar, "%.2fx"),
                    num(r.allocPerOp(), "%.2f")));
        }
        return b.toString();
    }

    static String size(String s) {
        try {
            long n = Long.parseLong(s);
            if (n % (1 << 20) == 0) {
                return (n >> 20) + "M";
            }
            if (n % (1 << 10) == 0) {
                return (n >> 10) + "K";
            }
            return s;
        } catch (NumberFormatException e) {
            return s;
        }
    }

    private static String num(double x, String fmt) {
        return Double.isNaN(x) ? "-" : String.format(fmt, x);
    }
}
