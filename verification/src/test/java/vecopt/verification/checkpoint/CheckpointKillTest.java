package vecopt.verification.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.checkpoint.CheckpointFiles;
import vecopt.checkpoint.Restored;
import vecopt.optim.Optimizer;

/**
 * Crash safety: a child JVM that resumes and checkpoints after every step is killed ({@code destroyForcibly}, a
 * SIGKILL) at a random moment, again and again, saving synchronously and through a background save in turn. After each kill the newest complete checkpoint must load, with no
 * newer file rejected, and be bitwise the state an uninterrupted run has at that step (replayed here); the step never
 * goes backwards; a temporary file left by a kill, or planted, never shadows a checkpoint.
 *
 * <p>{@code -Dvecopt.checkpoint.kills=N} sets the number of kills (default 4, a few seconds; {@code ./vecopt
 * test-long} runs 60).
 */
class CheckpointKillTest {
    @TempDir
    Path dir;

    @Test
    void theNewestCompleteCheckpointSurvivesAKillAtAnyMoment() throws Exception {
        int kills = Integer.getInteger("vecopt.checkpoint.kills", 4);
        SplittableRandom random = new SplittableRandom();
        Path planted = dir.resolve(".checkpoint-999999999999.safetensors.123.tmp");
        Files.writeString(planted, "a temporary file a crash left behind, with a step higher than any real one");
        CheckpointFiles files = new CheckpointFiles(dir, CheckpointingChild.KEEP);
        long last = -1;
        int tempsLeft = 0;
        try (Model ref = CheckpointingChild.model();
             Optimizer<?> reference = CheckpointingChild.SETUP.build().apply(ref.set, 1)) {
            long refStep = 0;
            for (int k = 0; k < kills; k++) {
                String mode = k % 2 == 0 ? "sync" : "background";
                Process child = start(mode);
                try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    do { // wait until this child has saved at least once: every round makes progress
                        line = out.readLine();
                        if (line == null) {
                            throw new AssertionError("child exited: " + new String(child.getErrorStream()
                                    .readAllBytes(), StandardCharsets.UTF_8));
                        }
                    } while (!line.startsWith("saved"));
                    // The point of the test: the kill lands at a random moment of the child's save loop (mid-write,
                    // mid-rename, between saves); 0-250 ms spans several saves of this small model.
                    Thread.sleep(random.nextInt(0, 250));
                    child.destroyForcibly();
                    assertTrue(child.waitFor(30, TimeUnit.SECONDS), "child did not die");
                }
                try (Stream<Path> s = Files.list(dir)) {
                    tempsLeft += (int) s.filter(p -> p.getFileName().toString().endsWith(".tmp")
                            && !p.equals(planted)).count();
                }
                assertFalse(files.list().isEmpty(), "a checkpoint exists after kill " + k);
                assertTrue(files.list().size() <= CheckpointingChild.KEEP + 1, "old ones are pruned: " + files.list());
                try (Model m = CheckpointingChild.model();
                     Optimizer<?> opt = CheckpointingChild.SETUP.build().apply(m.set, 2)) {
                    Restored r = files.loadNewest(opt);
                    assertTrue(r.rejected().isEmpty(), "kill " + k + ": newer files rejected: " + r.rejected());
                    assertEquals(files.newest().orElseThrow(), r.path());
                    assertTrue(r.globalStep() >= last, "kill " + k + ": step went back from " + last + " to "
                            + r.globalStep());
                    last = r.globalStep();
                    for (; refStep < last; refStep++) {
                        ref.gradients(refStep);
                        reference.step(CheckpointingChild.lr(refStep));
                    }
                    Model.image(opt).assertSameAs(Model.image(reference), "kill " + k + ", step " + last);
                }
            }
        }
        assertFalse(Files.exists(planted), "the planted temporary file was cleaned up by a later save");
        System.out.printf("CheckpointKillTest: %d kills, reached step %d, %d temporary files seen after kills%n",
                kills, last, tempsLeft);
    }

    private Process start(String mode) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // the same kernels as this JVM: a clipping coefficient depends on the norm's summation path
            if (a.startsWith("--add-modules") || a.startsWith("--enable-native-access") || a.startsWith("-Dvecopt.")
                    || a.startsWith("--sun-misc")) {
                cmd.add(a);
            }
        }
        cmd.add("-Xmx256m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(CheckpointingChild.class.getName());
        cmd.add(dir.toString());
        cmd.add(mode);
        return new ProcessBuilder(cmd).start();
    }
}
