package vecopt.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.checkpoint.BackgroundSave;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.CheckpointFiles;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;

/**
 * A save, a background snapshot or a load from another thread while a step is inside its update is refused with the
 * optimizer's one-thread-at-a-time error and changes nothing: no torn checkpoint (half old, half new parameters) is
 * written, and no loaded state is overwritten by the step. The step is held by a kernel waiting on a latch.
 */
class CheckpointDuringStepTest {
    @TempDir
    Path dir;

    @Test
    void saveAndLoadDuringAStepAreRefused() throws Exception {
        int n = 1000;
        float[] p = new float[n], g = new float[n];
        java.util.Arrays.fill(g, 0.25f);
        ParamSet set = ParamSet.builder().add("w", Storage.of(p), Storage.of(g), 0, n).build();
        ConcurrentStepTest.Held held = new ConcurrentStepTest.Held();
        ExecutorService other = Executors.newSingleThreadExecutor();
        Path saved = dir.resolve("before.safetensors");
        try (AdamW opt = AdamW.builder(set).threads(1).kernels(held).build();
             BackgroundSave saves = new BackgroundSave(opt, new CheckpointFiles(dir.resolve("bg"), 2))) {
            Checkpoint.save(saved, opt, 0);
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                Future<StepReport> first = other.submit(() -> opt.step(1e-3));
                held.entered.await();
                float before = p[0];
                Path during = dir.resolve("during.safetensors");
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> Checkpoint.save(during, opt, 1));
                assertTrue(e.getMessage().contains("one thread at a time"), e.getMessage());
                assertTrue(!Files.exists(during), "nothing written");
                assertThrows(IllegalStateException.class, () -> saves.start(1));
                assertThrows(IllegalStateException.class, () -> Checkpoint.load(saved, opt));
                assertEquals(before, p[0], "the refused load wrote nothing");
                held.release.countDown();
                assertEquals(1, first.get().step());
            });
            assertEquals(1, opt.steps());
            assertEquals(0, Checkpoint.load(saved, opt).globalStep(), "free again once the step returned");
            assertEquals(0, opt.steps());
        } finally {
            held.release.countDown();
            other.shutdownNow();
        }
    }
}
