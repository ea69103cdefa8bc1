package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FiguresTest {
    // Figures are products and quotients of a few doubles: relative 1e-12 is far above their rounding error.
    private static final double REL = 1e-12;

    private static final String A = "\"adam\" : \"adamw\", \"memory\" : \"offheap\", \"size\" : \"1048576\"";

    private static List<Result> results(boolean withReference) {
        JmhJson j = new JmhJson()
                .run("AdamBench.engine", A, 1000, 10)
                .run("AdamBench.nativeC", A, 800, 8)
                .run("AdamBench.scalar", A, 250, 1)
                // the 2-thread ceiling first: the match must be by thread count, not by order
                .run("CeilingBench.adamwTraffic", "\"size\" : \"1048576\", \"threads\" : \"2\"", 9999, 5)
                .run("CeilingBench.adamwTraffic", "\"size\" : \"1048576\", \"threads\" : \"1\"", 2000, 5);
        if (withReference) {
            j.run("AdamBench.reference", A, 200, 1);
        }
        return Result.parse(j.build(), "t");
    }

    private static Figures engine(List<Result> all) {
        return Figures.of(all).stream().filter(f -> f.result().benchmark().equals("AdamBench.engine"))
                .findFirst().orElseThrow();
    }

    @Test
    void paramsPerSecondBytesCeilingAndPeers() {
        Figures f = engine(results(true));
        assertEquals(1000 * 1048576 / 1e6, f.mparams(), REL * f.mparams());
        assertEquals(10 * 1048576 / 1e6, f.mparamsError(), REL * f.mparams());
        assertEquals(1000.0 * 1048576 * 28 / 1e9, f.gbPerSecond(), REL * f.gbPerSecond());
        // against the one-thread ceiling at the same size (both 28 B/param): 1000 / 2000, not the 2-thread one
        assertEquals(50.0, f.percentOfCeiling(), REL * 50);
        assertEquals(1.25, f.xNative(), REL);
        // x scalar is against the scalar reference when it was measured ...
        assertEquals(5.0, f.xScalar(), REL);
        // ... else against the engine's scalar kernel
        assertEquals(4.0, engine(results(false)).xScalar(), REL);
    }

    @Test
    void anOptimizerStepIsReadAgainstItsOwnTrafficOnTheSameParameters() {
        String lion = "\"memory\" : \"offheap\", \"optimizer\" : \"lion\", \"size\" : \"67108864\", \"threads\" : \"1\"";
        List<Result> all = Result.parse(new JmhJson()
                // another optimizer's traffic and the AdamW traffic ceiling at the same size and threads come first:
                // the match must be by every parameter, optimizer included, and not fall back to CeilingBench
                .run("StepBench.traffic", lion.replace("lion", "adagrad"), 1, 1)
                .run("CeilingBench.adamwTraffic", "\"size\" : \"67108864\", \"threads\" : \"1\"", 1, 1)
                .run("StepBench.traffic", lion.replace("\"1\"", "\"2\""), 1, 1)
                .run("StepBench.step", lion, 30, 1)
                .run("StepBench.nativeC", lion, 32, 1)
                .run("StepBench.traffic", lion, 40, 1).build(), "t");
        Figures step = Figures.of(all).stream().filter(f -> f.result().benchmark().equals("StepBench.step"))
                .findFirst().orElseThrow();
        assertEquals(75.0, step.percentOfCeiling(), REL * 75); // 30 / 40, both 20 bytes per parameter
        assertEquals(30.0 / 32, step.xNative(), REL);
        Figures traffic = Figures.of(all).stream().filter(f -> f.result().benchmark().equals("StepBench.traffic")
                && f.result().param("optimizer", "").equals("lion") && f.result().param("threads", "").equals("1"))
                .findFirst().orElseThrow();
        // the ceiling itself has neither a ceiling nor a native peer
        assertTrue(Double.isNaN(traffic.percentOfCeiling()) && Double.isNaN(traffic.xNative()), traffic.toString());
        assertEquals(20, traffic.entry().bytesPerParam());
        List<Comparison.Figure> ratios = Comparison.ratios(all);
        Comparison.Figure x = ratios.stream().filter(r -> r.key().startsWith("StepBench.step")
                && r.key().endsWith("| x ceiling")).findFirst().orElseThrow();
        assertEquals(0.75, x.value(), REL);
        // the peer is read against the same traffic; the traffic rows themselves have no ratios
        Comparison.Figure peer = ratios.stream().filter(r -> r.key().startsWith("StepBench.nativeC")
                && r.key().endsWith("| x ceiling")).findFirst().orElseThrow();
        assertEquals(0.8, peer.value(), REL);
        assertEquals(3, ratios.size(), ratios.toString());
    }

    @Test
    void tableHasOneLinePerKnownBenchmarkWithItsFigures() {
        String table = Figures.table(Figures.of(results(true)));
        assertEquals(1 + 6, table.lines().count(), table);
        String line = table.lines().filter(l -> l.startsWith("adamw") && l.contains("engine ")).findFirst().orElseThrow();
        assertTrue(line.contains("1048.6 ± 10.5") && line.contains("50%") && line.contains("1.25x")
                && line.contains("5.00x") && line.contains("1M"), line);
    }
}
