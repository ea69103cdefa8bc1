package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./vecopt compare} as a script sees it: its exit code, and one line on stderr when it could not compare. */
class CompareTest {
    private record Outcome(int code, String out, String err) {
    }

    private static Outcome compare(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try (PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8);
             PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8)) {
            System.setOut(po);
            System.setErr(pe);
            int code = Compare.run(args);
            return new Outcome(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private static String result(double engine) {
        return new JmhJson().run("AdamBench.engine", "\"adam\" : \"adamw\", \"memory\" : \"offheap\", \"size\" : \"1048576\"",
                engine, 0.0).build();
    }

    /** Exit 2 and a single line that names the file: no stack trace, and not the code of a regression. */
    private static void assertOneLineNaming(Outcome r, String file, String what) {
        assertEquals(Compare.BAD_INPUT, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(file) && r.err().contains(what), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    @Test
    void theThreeExitCodesAreDistinct() {
        assertEquals(3, java.util.Set.of(Compare.OK, Compare.REGRESSION, Compare.BAD_INPUT).size());
        assertEquals(1, Compare.REGRESSION); // scripts that only test for failure keep working
    }

    @Test
    void aMissingFileIsOneLineAndExit2(@TempDir Path dir) throws Exception {
        Path old = dir.resolve("old.json"), missing = dir.resolve("missing.json");
        Files.writeString(old, result(1000));
        assertOneLineNaming(compare(old.toString(), missing.toString()), missing.toString(), "no such file");
        assertOneLineNaming(compare(missing.toString(), old.toString()), missing.toString(), "no such file");
        assertOneLineNaming(compare(old.toString(), "--baseline", missing.toString()), missing.toString(),
                "no such file");
    }

    // An unreadable file takes the same path as a directory (the read throws an IOException, reported in one line);
    // a permission test cannot run where the tests run as root (root reads any file), so the directory stands in.
    @Test
    void aDirectoryOrMalformedFileIsOneLineAndExit2(@TempDir Path dir) throws Exception {
        Path old = dir.resolve("old.json"), text = dir.resolve("notes.json");
        Files.writeString(old, result(1000));
        Files.writeString(text, "not json at all");
        assertOneLineNaming(compare(old.toString(), text.toString()), text.toString(), "JSON");
        assertOneLineNaming(compare(old.toString(), dir.toString()), dir.toString(), "");
    }

    @Test
    void badUsageIsExit2(@TempDir Path dir) throws Exception {
        Path old = dir.resolve("old.json");
        Files.writeString(old, result(1000));
        assertOneLineNaming(compare(old.toString(), old.toString(), "--threshold", "ten"), "--threshold", "'ten'");
        assertOneLineNaming(compare(old.toString(), "--baseline"), "--baseline", "needs a value");
        assertOneLineNaming(compare(old.toString(), old.toString(), "--treshold", "5"), "--treshold", "unknown option");
        assertEquals(Compare.BAD_INPUT, compare(old.toString()).code()); // one file and no baseline: the usage
    }

    @Test
    void aRegressionIsExit1AndNoRegressionExit0(@TempDir Path dir) throws Exception {
        Path old = dir.resolve("old.json"), same = dir.resolve("same.json"), slow = dir.resolve("slow.json");
        Files.writeString(old, result(1000));
        Files.writeString(same, result(1000));
        Files.writeString(slow, result(500));
        Outcome ok = compare(old.toString(), same.toString());
        assertEquals(Compare.OK, ok.code(), ok.err());
        Outcome worse = compare(old.toString(), slow.toString());
        assertEquals(Compare.REGRESSION, worse.code(), worse.err());
        assertEquals("", worse.err());
    }

    @Test
    void helpNamesTheExitCodes() {
        Outcome r = compare("--help");
        assertEquals(Compare.OK, r.code());
        assertTrue(r.out().contains("0 no regression") && r.out().contains("1 a figure fell")
                && r.out().contains("2 nothing compared"), r.out());
    }
}
