package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The filter BenchMain puts between JMH and the console: the incubator notice goes, everything else stays. */
class NoticeFilterTest {
    private static final String NOTICE = "WARNING: Using incubator modules: jdk.incubator.vector\n";

    private final ByteArrayOutputStream sink = new ByteArrayOutputStream();
    private final BenchMain.NoticeFilter filter = new BenchMain.NoticeFilter(sink);

    private void write(String s) throws IOException {
        filter.write(s.getBytes(StandardCharsets.UTF_8));
        filter.flush();
    }

    private String written() {
        return sink.toString(StandardCharsets.UTF_8);
    }

    @Test
    void dropsTheNoticeOfEveryFork() throws IOException {
        write("# Fork: 1 of 2\n" + NOTICE + "# Warmup Iteration   1: 12.5 ops/s\n# Fork: 2 of 2\n" + NOTICE);
        assertEquals("# Fork: 1 of 2\n# Warmup Iteration   1: 12.5 ops/s\n# Fork: 2 of 2\n", written());
    }

    @Test
    void aLineWrittenInPartsAppearsAsEachPartIsWritten() throws IOException {
        write("Iteration   1: ");
        assertEquals("Iteration   1: ", written()); // not held back until the line ends
        write("4.404 ops/s\n");
        assertEquals("Iteration   1: 4.404 ops/s\n", written());
    }

    @Test
    void keepsOtherWarningsAndTheNoticeTextInsideALine() throws IOException {
        String other = "WARNING: A restricted method in java.lang.foreign.Linker has been called\n";
        String inside = "note: WARNING: Using incubator modules\n";
        write(other + inside + "WARNING: Using\n");
        assertEquals(other + inside + "WARNING: Using\n", written());
    }

    @Test
    void theNoticeSplitAcrossWritesIsStillDropped() throws IOException {
        write("WARNING: Using inc");
        assertEquals("", written()); // could still be the notice
        write("ubator modules: jdk.incubator.vector\nnext\n");
        assertEquals("next\n", written());
    }
}
