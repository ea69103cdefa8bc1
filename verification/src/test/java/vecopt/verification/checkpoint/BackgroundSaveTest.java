package vecopt.verification.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.checkpoint.BackgroundSave;
import vecopt.checkpoint.CheckpointException;
import vecopt.checkpoint.CheckpointFiles;
import vecopt.checkpoint.Extras;
import vecopt.optim.AdamOptions;
import vecopt.optim.Optimizer;

/**
 * The background save writes what the optimizer held when {@code start} returned, however many steps run while it
 * writes (the file is byte for byte the synchronous save's at that moment); its failures are reported, never
 * swallowed, and never touch the checkpoints already written.
 */
class BackgroundSaveTest {
    static final Setup SETUP = Setup.adamW(AdamOptions.LLM_PRETRAINING.withAmsgrad(true));
    @TempDir
    Path dir;

    @Test
    void writesTheSnapshotWhileTrainingGoesOn() throws IOException {
        for (boolean offHeap : new boolean[] {false, true}) {
            CheckpointFiles sync = new CheckpointFiles(dir.resolve("sync-" + offHeap), 2);
            CheckpointFiles async = new CheckpointFiles(dir.resolve("async-" + offHeap), 2);
            try (Model m = new Model(offHeap, 4, 2); Optimizer<?> opt = SETUP.build().apply(m.set, 2);
                 BackgroundSave saves = new BackgroundSave(opt, async)) {
                for (int round = 1; round <= 3; round++) {
                    CheckpointRoundTripTest.run(SETUP, m, opt, 4L * (round - 1), 4L * round);
                    Extras extras = Extras.none().withString("round", "" + round).withTensor("t", new float[] {round});
                    Path expected = sync.save(opt, 4L * round, extras);
                    saves.start(4L * round, extras);
                    CheckpointRoundTripTest.run(SETUP, m, opt, 100, 103); // steps while the file is written
                    assertEquals(async.pathFor(4L * round), saves.await());
                    assertArrayEquals(Files.readAllBytes(expected), Files.readAllBytes(async.pathFor(4L * round)),
                            "round " + round + ", offHeap " + offHeap);
                    assertTrue(saves.lastSnapshotNanos() > 0);
                }
                assertEquals(2, async.list().size(), "pruned to keep = 2 by the background writer");
            }
        }
    }

    @Test
    void aFailureIsReportedAndLeavesEarlierCheckpointsAlone() throws IOException {
        CheckpointFiles files = new CheckpointFiles(dir, 3);
        try (Model m = new Model(true, 4); Optimizer<?> opt = SETUP.build().apply(m.set, 1);
             BackgroundSave saves = new BackgroundSave(opt, files)) {
            CheckpointRoundTripTest.run(SETUP, m, opt, 0, 2);
            saves.start(2);
            Path good = saves.await();
            byte[] goodBytes = Files.readAllBytes(good);
            // A directory where the next file must go: the rename over it fails.
            Files.createDirectories(files.pathFor(3).resolve("in-the-way"));
            CheckpointRoundTripTest.run(SETUP, m, opt, 2, 3);
            saves.start(3);
            CheckpointException e = assertThrows(CheckpointException.class, saves::await);
            assertTrue(e.getMessage().contains("background checkpoint write failed"), e.getMessage());
            assertArrayEquals(goodBytes, Files.readAllBytes(good), "the earlier checkpoint is untouched");
            assertEquals(good, files.newest().orElseThrow());
            try (var s = Files.list(dir)) {
                assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp file left");
            }
            // Not awaited: the next start reports it and does not start.
            saves.start(3);
            CheckpointException unseen = assertThrows(CheckpointException.class, () -> saves.start(4));
            assertTrue(unseen.getMessage().contains("background checkpoint write failed"), unseen.getMessage());
            assertFalse(Files.exists(files.pathFor(4)), "the save after an unreported failure did not start");
            Files.delete(files.pathFor(3).resolve("in-the-way"));
            Files.delete(files.pathFor(3));
            saves.start(4);
            assertEquals(files.pathFor(4), saves.await());
        }
    }

    @Test
    void closeReportsAFailureNobodyAwaited() throws IOException {
        CheckpointFiles files = new CheckpointFiles(dir, 3);
        Files.createDirectories(files.pathFor(1).resolve("in-the-way"));
        try (Model m = new Model(false, 4); Optimizer<?> opt = SETUP.build().apply(m.set, 1)) {
            BackgroundSave saves = new BackgroundSave(opt, files);
            saves.start(1);
            assertThrows(CheckpointException.class, saves::close);
        }
    }
}
