package vecopt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One benchmark result from a JMH JSON file: which benchmark ({@code Class.method}), its parameters, the score and
 * its error (JMH's 99.9% confidence half-width; 0 when JMH could not compute one, e.g. from a single iteration) and,
 * when the run had {@code -prof gc}, the bytes allocated per operation.
 *
 * <p>The vector width a fork ran with ({@code -Dvecopt.vector.bits=N} in its JVM arguments) becomes the pseudo
 * parameter {@code bits}, and {@code -Dvecopt.bench.native=X} the pseudo parameter {@code native}, so runs of the
 * same benchmark at different widths stay apart.
 *
 * @param benchmark simple class name and method, e.g. {@code AdamBench.engine}
 * @param params    parameters, sorted by name
 */
record Result(String benchmark, Map<String, String> params, String mode, double score, double error, String unit,
              double allocPerOp) {

    /** The identity of a figure across files: benchmark and parameters. */
    String key() {
        StringBuilder b = new StringBuilder(benchmark);
        params.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
        return b.toString();
    }

    String className() {
        return benchmark.substring(0, benchmark.indexOf('.'));
    }

    String method() {
        return benchmark.substring(benchmark.indexOf('.') + 1);
    }

    String param(String name, String otherwise) {
        return params.getOrDefault(name, otherwise);
    }

    /** Operations per second, whatever unit JMH reported in. */
    double opsPerSecond() {
        return toOpsPerSecond(score);
    }

    double opsPerSecondError() {
        return toOpsPerSecond(error);
    }

    private double toOpsPerSecond(double x) {
        return switch (unit) {
            case "ops/s" -> x;
            case "ops/ms" -> x * 1e3;
            case "ops/us" -> x * 1e6;
            case "ops/ns" -> x * 1e9;
            case "ops/min" -> x / 60;
            default -> throw new IllegalArgumentException(
                    benchmark + ": run in throughput mode (ops per time unit), got unit '" + unit + "'");
        };
    }

    /** Reads every result of a JMH JSON result file ({@code -rf json}). */
    static List<Result> read(Path file) throws IOException {
        return parse(Files.readString(file), file.toString());
    }

    @SuppressWarnings("unchecked")
    static List<Result> parse(String json, String source) {
        Object root = Json.parse(json);
        if (!(root instanceof List<?> runs)) {
            throw new IllegalArgumentException(source + ": not a JMH JSON result file (expected an array)");
        }
        List<Result> out = new ArrayList<>();
        for (Object o : runs) {
            Map<String, Object> run = (Map<String, Object>) o;
            String full = (String) run.get("benchmark");
            if (full == null) {
                throw new IllegalArgumentException(source + ": a run has no \"benchmark\"");
            }
            String[] parts = full.split("\\.");
            String name = parts.length >= 2 ? parts[parts.length - 2] + "." + parts[parts.length - 1] : full;
            Map<String, String> params = new TreeMap<>();
            Object p = run.get("params");
            if (p instanceof Map<?, ?> pm) {
                pm.forEach((k, v) -> params.put((String) k, String.valueOf(v)));
            }
            Object jvmArgs = run.get("jvmArgs");
            if (jvmArgs instanceof List<?> args) {
                for (Object a : args) {
                    String s = String.valueOf(a);
                    if (s.startsWith("-Dvecopt.vector.bits=")) {
                        params.put("bits", s.substring("-Dvecopt.vector.bits=".length()));
                    } else if (s.startsWith("-Dvecopt.bench.native=")) {
                        params.put("native", s.substring("-Dvecopt.bench.native=".length()));
                    }
                }
            }
            Map<String, Object> primary = (Map<String, Object>) run.get("primaryMetric");
            if (primary == null) {
                throw new IllegalArgumentException(source + ": " + full + " has no primaryMetric");
            }
            double score = Json.number(primary.get("score"));
            double error = Json.number(primary.get("scoreError"));
            double alloc = Double.NaN;
            Object secondary = run.get("secondaryMetrics");
            if (secondary instanceof Map<?, ?> sm && sm.get("gc.alloc.rate.norm") instanceof Map<?, ?> gc) {
                alloc = Json.number(gc.get("score"));
            }
            out.add(new Result(name, params, String.valueOf(run.get("mode")), score,
                    Double.isFinite(error) ? error : 0.0, String.valueOf(primary.get("scoreUnit")), alloc));
        }
        return out;
    }
}
