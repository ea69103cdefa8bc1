package vecopt.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Builds JMH-shaped JSON result files for the tests, in the layout JMH 1.37 writes with {@code -rf json}. */
final class JmhJson {
    private final List<String> runs = new ArrayList<>();

    JmhJson run(String benchmark, String params, double score, Object error, String... jvmArgs) {
        StringBuilder args = new StringBuilder();
        for (String a : jvmArgs) {
            args.append(args.isEmpty() ? "" : ", ").append('"').append(a).append('"');
        }
        String err = error instanceof String s ? '"' + s + '"' : String.format(Locale.ROOT, "%s", error);
        runs.add(String.format(Locale.ROOT, """
                {
                    "jmhVersion" : "1.37",
                    "benchmark" : "vecopt.bench.%s",
                    "mode" : "thrpt",
                    "threads" : 1,
                    "forks" : 3,
                    "jvmArgs" : [ %s ],
                    "params" : { %s },
                    "primaryMetric" : {
                        "score" : %s,
                        "scoreError" : %s,
                        "scoreConfidence" : [ 0, 0 ],
                        "scorePercentiles" : { "0.0" : 1.0, "100.0" : 2.0 },
                        "scoreUnit" : "ops/s",
                        "rawData" : [ [ 1.0, 2.0 ] ]
                    },
                    "secondaryMetrics" : {
                        "gc.alloc.rate.norm" : { "score" : 0.0012, "scoreError" : "NaN", "scoreUnit" : "B/op" }
                    }
                }""", benchmark, args, params, score, err));
        return this;
    }

    String build() {
        return "[\n" + String.join(",\n", runs) + "\n]\n";
    }
}
