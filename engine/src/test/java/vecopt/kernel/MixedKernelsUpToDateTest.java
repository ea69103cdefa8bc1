package vecopt.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The committed {@code MixedPanama.java} is exactly what {@link MixedKernelGenerator} writes from its templates. */
class MixedKernelsUpToDateTest {
    @Test
    void generatedLoopsAreCurrent() throws IOException {
        Path file = Path.of("src/main/java/vecopt/kernel/MixedPanama.java"); // surefire runs in the module's directory
        assertEquals(MixedKernelGenerator.generate(), Files.readString(file, StandardCharsets.UTF_8),
                "MixedPanama.java differs from its generator's output: regenerate it with java "
                        + "engine/src/test/java/vecopt/kernel/MixedKernelGenerator.java engine/src/main/java/vecopt/kernel");
    }
}
