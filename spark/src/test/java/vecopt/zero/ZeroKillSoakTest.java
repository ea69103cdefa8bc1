package vecopt.zero;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kill soak of sharded training (run by {@code ./vecopt test-long}, excluded from the normal suite by the module's
 * pom): two ranks, each a JVM of its own over Gloo ({@link KillSoakRank}), train to step {@link #STEPS} saving with
 * {@link ShardedCheckpoints} every {@link #EVERY} steps; attempt after attempt one rank dies, at a random step by
 * halting itself or at a random moment by this test's {@code destroyForcibly} (a SIGKILL, which also lands in
 * saves and in start-up), the peer's next collective fails, and both are started again and resume from the newest
 * complete save. After {@code -Dvecopt.zero.kills=N} kills (default 3) a last attempt runs undisturbed, and both
 * ranks' final parameters must be the uninterrupted run's bit for bit (the in-process ranks', which 2 ranks over Gloo
 * equal: {@code GlooCommunicatorTest}).
 */
class ZeroKillSoakTest {
    static final int STEPS = 40;
    static final int EVERY = 3;

    @TempDir
    Path dir;

    @Test
    void killedRanksResumeToTheUninterruptedRunBitForBit() throws Exception {
        int kills = Integer.getInteger("vecopt.zero.kills", 3);
        long seed = Long.getLong("vecopt.zero.seed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        System.out.println("ZeroKillSoakTest: " + kills + " kills, seed " + seed + " (-Dvecopt.zero.seed to repeat)");
        int halted = 0, destroyed = 0;
        for (int attempt = 0; attempt <= kills; attempt++) {
            boolean last = attempt == kills;
            // The first attempt dies after its first save, so every later attempt has a save to resume from and the
            // last one must resume from one (else this test would not exercise resuming at all).
            boolean selfHalt = attempt == 0 && !last || !last && random.nextBoolean();
            int victim = random.nextInt(2);
            int haltStep = !selfHalt ? -1 : random.nextInt(attempt == 0 ? EVERY + 1 : 1, STEPS);
            Process[] ranks = {start(0, attempt, selfHalt ? victim : -1, haltStep),
                    start(1, attempt, selfHalt ? victim : -1, haltStep)};
            if (!last && !selfHalt) {
                // A random moment from the JVMs' start to well into training (start-up with libtorch takes seconds)
                Thread.sleep(random.nextLong(500, 8_000)); // the kill's random moment, the point of this test
                ranks[victim].destroyForcibly();
                destroyed++;
            } else if (selfHalt) {
                halted++;
            }
            for (int r = 0; r < 2; r++) {
                assertTrue(ranks[r].waitFor(300, TimeUnit.SECONDS), "attempt " + attempt + ": rank " + r
                        + " did not end within 300 s");
            }
            if (last) {
                for (int r = 0; r < 2; r++) {
                    assertEquals(0, ranks[r].exitValue(), "the undisturbed last attempt: rank " + r + " failed: "
                            + new String(ranks[r].getErrorStream().readAllBytes()));
                }
            }
            System.out.printf("attempt %d: %s, exit codes %d and %d%n", attempt, last ? "undisturbed"
                    : selfHalt ? "rank " + victim + " halts before step " + haltStep
                    : "rank " + victim + " destroyed", ranks[0].exitValue(), ranks[1].exitValue());
        }
        List<double[][]> straight = ZeroTraining.inProcess(2, STEPS);
        for (int r = 0; r < 2; r++) {
            double[] result = read(dir.resolve("result-" + r));
            double resumedAt = result[result.length - 1]; // KillSoakRank appends the step it resumed at
            if (kills > 0) {
                assertTrue(resumedAt >= EVERY, "rank " + r + " of the last attempt resumed at step " + resumedAt
                        + ", not from a save");
            }
            assertArrayEquals(straight.get(r)[0], Arrays.copyOf(result, result.length - 1), "parameters of rank " + r);
        }
        System.out.printf("ZeroKillSoakTest: %d halts at random steps, %d kills at random moments, final parameters"
                + " bitwise the uninterrupted run's%n", halted, destroyed);
    }

    private Process start(int rank, int attempt, int haltRank, int haltStep) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // the same kernels as this JVM: the reference run is computed here
            if (a.startsWith("--add-modules") || a.startsWith("--enable-native-access") || a.startsWith("--sun-misc")) {
                cmd.add(a);
            }
        }
        cmd.add("-Xmx512m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(KillSoakRank.class.getName());
        for (Object a : new Object[] {dir, rank, attempt, STEPS, EVERY, haltRank, haltStep}) {
            cmd.add(String.valueOf(a));
        }
        return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static double[] read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        double[] out = new double[bytes.length / Double.BYTES];
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
            for (int i = 0; i < out.length; i++) {
                out[i] = in.readDouble();
            }
        }
        return out;
    }
}
