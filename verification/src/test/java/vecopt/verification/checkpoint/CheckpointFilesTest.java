package vecopt.verification.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.checkpoint.CheckpointException;
import vecopt.checkpoint.CheckpointFiles;
import vecopt.checkpoint.Restored;
import vecopt.optim.AdamOptions;
import vecopt.optim.Optimizer;
import vecopt.optim.Sgd;

/**
 * A directory of checkpoints keeps the newest K, lists them newest first, and when the newest is damaged loads the
 * one before it, saying which file it passed over and why; a file of another optimizer is not passed over.
 */
class CheckpointFilesTest {
    static final Setup SETUP = Setup.adamW(AdamOptions.FINE_TUNING);
    @TempDir
    Path dir;

    @Test
    void keepsTheNewestAndFallsBackPastADamagedOne() throws IOException {
        CheckpointFiles files = new CheckpointFiles(dir, 2);
        Model.Image at2 = null;
        try (Model m = new Model(false, 5); Optimizer<?> opt = SETUP.build().apply(m.set, 1)) {
            for (int step = 1; step <= 3; step++) {
                CheckpointRoundTripTest.run(SETUP, m, opt, step - 1, step);
                files.save(opt, step);
                if (step == 2) {
                    at2 = Model.image(opt);
                }
            }
        }
        assertEquals(List.of(files.pathFor(3), files.pathFor(2)), files.list(), "the newest 2 are kept");
        byte[] b = Files.readAllBytes(files.pathFor(3));
        b[b.length / 2] ^= 0x04;
        Files.write(files.pathFor(3), b);
        try (Model m = new Model(true, 6); Optimizer<?> opt = SETUP.build().apply(m.set, 2)) {
            Restored r = files.loadNewest(opt);
            assertEquals(files.pathFor(2), r.path());
            assertEquals(2, r.globalStep());
            Model.image(opt).assertSameAs(at2, "the state of step 2");
            assertEquals(1, r.rejected().size());
            assertTrue(r.rejected().get(0).contains("checkpoint-000000000003.safetensors")
                    && r.rejected().get(0).contains("is corrupted"), r.rejected().toString());
        }
        try (Model m = new Model(false, 5); Sgd sgd = Sgd.builder(m.set).build()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> files.loadNewest(sgd));
            assertTrue(e.getMessage().contains("optimizer is 'AdamW' in the checkpoint but Sgd here"), e.getMessage());
        }
        CheckpointFiles empty = new CheckpointFiles(dir.resolve("none"), 1);
        CheckpointException none = assertThrows(CheckpointException.class, () -> {
            try (Model m = new Model(false, 5); Optimizer<?> opt = SETUP.build().apply(m.set, 1)) {
                empty.loadNewest(opt);
            }
        });
        assertTrue(none.getMessage().startsWith("no checkpoint in "), none.getMessage());
    }
}
