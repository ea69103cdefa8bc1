package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResultTest {
    @Test
    void readsBenchmarkParamsScoreErrorAndAllocation() {
        String json = new JmhJson()
                .run("AdamBench.engine", "\"size\" : \"1048576\", \"memory\" : \"offheap\", \"adam\" : \"adamw\"",
                        1684.5, 12.25, "--add-modules=jdk.incubator.vector")
                .build();
        List<Result> rs = Result.parse(json, "test");
        assertEquals(1, rs.size());
        Result r = rs.get(0);
        assertEquals("AdamBench.engine", r.benchmark());
        assertEquals(Map.of("size", "1048576", "memory", "offheap", "adam", "adamw"), r.params());
        assertEquals(1684.5, r.score());
        assertEquals(12.25, r.error());
        assertEquals(0.0012, r.allocPerOp());
        // Parameters are sorted by name in the key, so the key does not depend on JMH's order.
        assertEquals("AdamBench.engine adam=adamw memory=offheap size=1048576", r.key());
    }

    @Test
    void nanErrorFromASingleIterationBecomesZero() {
        Result r = Result.parse(new JmhJson().run("CeilingBench.read", "\"size\" : \"32768\"", 5.0, "NaN").build(), "t")
                .get(0);
        assertEquals(0.0, r.error());
    }

    @Test
    void vectorWidthAndNativeLibraryFromJvmArgsBecomePseudoParameters() {
        Result r = Result.parse(new JmhJson().run("AdamBench.engine", "\"size\" : \"32768\"", 5.0, 0.1,
                "-Xmx8g", "-Dvecopt.vector.bits=256", "-Dvecopt.bench.native=512").build(), "t").get(0);
        assertEquals("256", r.params().get("bits"));
        assertEquals("512", r.params().get("native"));
        assertEquals("AdamBench.engine bits=256 native=512 size=32768", r.key());
    }

    @Test
    void rejectsFilesThatAreNotJmhResultsNamingTheProblem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Result.parse("{\"benchmark\": 1}", "x.json"));
        assertTrue(e.getMessage().contains("x.json") && e.getMessage().contains("expected an array"), e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Result.parse("[ {", "y.json"));
        assertTrue(bad.getMessage().startsWith("JSON:"), bad.getMessage());
    }

    @Test
    void jsonReadsEscapesNumbersAndLiterals() {
        Object o = Json.parse("{\"a\": [1, -2.5e3, true, false, null, \"q\\\"\\u0041\\n\"]}");
        assertEquals(Map.of("a", java.util.Arrays.asList(1.0, -2500.0, true, false, null, "q\"A\n")), o);
        assertTrue(Double.isNaN(Json.number("NaN")));
        assertEquals(Double.POSITIVE_INFINITY, Json.number("Infinity"));
    }
}
