package vecopt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import org.junit.jupiter.api.Test;

/**
 * No silent slow path: the choice of kernels for a JVM without the Vector API module (which this test JVM has, so
 * the choice is made from its inputs) logs one warning naming the flag to add, and a vector width asked for without
 * the module is an error rather than a width silently ignored.
 */
class KernelProviderTest {
    /** A logger that keeps what it is given. */
    static final class Kept implements System.Logger {
        final List<String> lines = new ArrayList<>();

        @Override
        public String getName() {
            return "kept";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            lines.add(level + " " + msg);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            lines.add(level + " " + format);
        }
    }

    @Test
    void withoutTheModuleTheScalarKernelsRunAndOneWarningNamesTheFlag() {
        Kept log = new Kept();
        Kernels k = KernelProvider.choose("true", null, false, log);
        assertSame(KernelProvider.scalar(), k);
        assertEquals(1, log.lines.size(), log.lines.toString());
        assertTrue(log.lines.get(0).startsWith("WARNING ") && log.lines.get(0).contains("--add-modules jdk.incubator.vector")
                && log.lines.get(0).contains("times slower"), log.lines.get(0));
    }

    @Test
    void aWidthWithoutTheModuleIsAnErrorNamingTheFlag() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KernelProvider.choose("true", "256", false, new Kept()));
        assertTrue(e.getMessage().contains("vecopt.vector.bits=256") && e.getMessage().contains("--add-modules"),
                e.getMessage());
    }

    @Test
    void disablingTheVectorKernelsIsSaidAtInfo() {
        Kept log = new Kept();
        assertSame(KernelProvider.scalar(), KernelProvider.choose("false", null, true, log));
        assertEquals(List.of("INFO vecopt.vector=false: using the scalar kernels"), log.lines);
    }

    @Test
    void withTheModuleTheVectorKernelsRunSilently() {
        Kept log = new Kept();
        Kernels k = KernelProvider.choose("true", null, true, log);
        assertTrue(k.lanes() >= 4, k.describe());
        assertEquals(List.of(), log.lines);
    }
}
