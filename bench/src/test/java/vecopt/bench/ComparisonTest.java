package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ComparisonTest {
    private static final double EPS = 1e-12; // see RegressionTest: a few double operations on values near 1

    private static final String ADAM_1M = "\"adam\" : \"adamw\", \"memory\" : \"offheap\", \"size\" : \"1048576\"";
    private static final String CEIL_1M = "\"size\" : \"1048576\", \"threads\" : \"1\"";

    private static String run(double engine, double engineErr, double nativeC, double ceiling) {
        return new JmhJson()
                .run("AdamBench.engine", ADAM_1M, engine, engineErr)
                .run("AdamBench.nativeC", ADAM_1M, nativeC, 0.0)
                .run("AdamBench.scalar", ADAM_1M, engine / 5, 0.0)
                .run("CeilingBench.adamwTraffic", CEIL_1M, ceiling, 0.0)
                .build();
    }

    @Test
    void throughputsAreParametersPerSecond() {
        List<Comparison.Figure> f = Comparison.throughputs(Result.parse(run(1000, 10, 900, 2000), "t"));
        assertEquals(1000 * 1048576 / 1e6, f.get(0).value(), EPS * 1e3);
        assertEquals(10 * 1048576 / 1e6, f.get(0).error(), EPS * 1e3);
    }

    @Test
    void ratiosAreToTheNativePeerAndToTheCeilingInBytes() {
        List<Comparison.Figure> f = Comparison.ratios(Result.parse(run(1000, 10, 800, 2000), "t"));
        Comparison.Figure xNative = f.stream().filter(x -> x.key().equals(
                "AdamBench.engine adam=adamw memory=offheap size=1048576 | x native")).findFirst().orElseThrow();
        assertEquals(1.25, xNative.value(), EPS);
        assertEquals(1.25 * 0.01, xNative.error(), EPS); // only the engine's 1% error
        // AdamW and the traffic pass both move 28 bytes per parameter: 1000 / 2000
        Comparison.Figure xCeil = f.stream().filter(x -> x.key().equals(
                "AdamBench.engine adam=adamw memory=offheap size=1048576 | x ceiling")).findFirst().orElseThrow();
        assertEquals(0.5, xCeil.value(), EPS);
        // the native kernel has no "x native" of its own
        assertFalse(f.stream().anyMatch(x -> x.key().startsWith("AdamBench.nativeC") && x.key().endsWith("x native")));
    }

    @Test
    void twoFilesASlowerEngineIsARegressionAndMissingKeysAreListed() {
        List<Result> old = Result.parse(run(1000, 10, 900, 2000), "old");
        List<Result> now = Result.parse(new JmhJson()
                .run("AdamBench.engine", ADAM_1M, 800, 10)
                .run("AdamBench.nativeC", ADAM_1M, 905, 0)
                .run("SgdBench.engine", "\"size\" : \"32768\"", 7, 0).build(), "new");
        List<Comparison.Line> lines = Comparison.compare(Comparison.throughputs(old), Comparison.throughputs(now), 0.10);
        Comparison.Line engine = lines.stream().filter(l -> l.key().startsWith("AdamBench.engine")).findFirst().orElseThrow();
        assertTrue(engine.verdict().regressed());
        assertEquals(0.8, engine.verdict().ratio(), EPS);
        Comparison.Line nat = lines.stream().filter(l -> l.key().startsWith("AdamBench.nativeC")).findFirst().orElseThrow();
        assertFalse(nat.verdict().regressed());
        Comparison.Line onlyNew = lines.stream().filter(l -> l.key().startsWith("SgdBench")).findFirst().orElseThrow();
        assertNull(onlyNew.old());
        assertNull(onlyNew.verdict());
        Comparison.Line onlyOld = lines.stream().filter(l -> l.key().startsWith("AdamBench.scalar")).findFirst().orElseThrow();
        assertNull(onlyOld.now());
        assertTrue(Comparison.anyRegressed(lines));
        String table = Comparison.table(lines, "old", "new", 0.10);
        assertTrue(table.contains("REGRESSED") && table.contains("only in new") && table.contains("only in old"), table);
        assertTrue(table.contains("2 compared, 1 regressed"), table); // engine and nativeC are in both
    }

    @Test
    void duplicateKeysAreRejected() {
        List<Comparison.Figure> dup = List.of(new Comparison.Figure("k", 1, 0), new Comparison.Figure("k", 2, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Comparison.compare(dup, List.of(), 0.1));
        assertTrue(e.getMessage().contains("'k'"), e.getMessage());
    }

    @Test
    void commandExitsOneOnARegressionAndZeroOtherwise(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.json"), b = dir.resolve("b.json"), c = dir.resolve("c.json");
        Files.writeString(a, run(1000, 10, 900, 2000));
        Files.writeString(b, run(950, 10, 900, 2000));  // -5%: within 10%
        Files.writeString(c, run(700, 10, 900, 2000));  // -30%
        assertEquals(0, quietly(a.toString(), b.toString()));
        assertEquals(1, quietly(a.toString(), c.toString()));
        assertEquals(0, quietly(a.toString(), c.toString(), "--threshold", "35"));
        assertEquals(2, quietly(a.toString()));
    }

    @Test
    void baselineOfRatiosRoundTripsAndCatchesARelativeSlowdown(@TempDir Path dir) throws Exception {
        Path base = dir.resolve("base.tsv"), good = dir.resolve("good.json"), slow = dir.resolve("slow.json");
        Files.writeString(good, run(1000, 10, 900, 2000));
        assertEquals(0, quietly(good.toString(), "--save-baseline", base.toString()));
        List<Comparison.Figure> saved = Comparison.readBaseline(base);
        assertEquals(Comparison.ratios(Result.read(good)).size(), saved.size());
        // Another machine twice as fast in every figure: ratios unchanged, so no regression.
        Files.writeString(slow, run(2000, 20, 1800, 4000));
        assertEquals(0, quietly(slow.toString(), "--baseline", base.toString()));
        // The engine alone 25% slower relative to native and ceiling: a regression.
        Files.writeString(slow, run(750, 7.5, 900, 2000));
        assertEquals(1, quietly(slow.toString(), "--baseline", base.toString()));
    }

    @Test
    void malformedBaselineLinesAreReportedWithTheirLineNumber(@TempDir Path dir) throws Exception {
        Path base = dir.resolve("b.tsv");
        Files.writeString(base, "# comment\nkey\t1.0\t0.1\nbroken line\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Comparison.readBaseline(base));
        assertTrue(e.getMessage().contains(":3:") && e.getMessage().contains("broken line"), e.getMessage());
    }

    @Test
    void thresholdIsReadAsPercent() {
        assertEquals(0.10, Compare.percent("10"), EPS);
        assertEquals(0.05, Compare.percent("5%"), EPS);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Compare.percent("ten"));
        assertTrue(e.getMessage().contains("'ten'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Compare.percent("100"));
    }

    private static int quietly(String... args) throws Exception {
        PrintStream out = System.out, err = System.err;
        try (PrintStream sink = new PrintStream(new ByteArrayOutputStream())) {
            System.setOut(sink);
            System.setErr(sink);
            return Compare.run(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
