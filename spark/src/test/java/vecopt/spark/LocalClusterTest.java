package vecopt.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.junit.jupiter.api.Test;
import vecopt.zero.Communicator;
import vecopt.zero.ZeroTraining;

/**
 * The sharded loop in {@code local-cluster[2,1,1024]}: two executor JVMs started by Spark's own standalone worker, so
 * the ranks are separate processes talking over Gloo, and the result must still be the in-process ranks' bit for bit.
 * Needs a Spark home (a fake one: an empty RELEASE file and an empty jars/, made here) and, in the environment of this
 * JVM, SPARK_HOME pointing at it, SPARK_SCALA_VERSION=2.13 and SPARK_LOCAL_IP=127.0.0.1 (the module's pom sets them
 * for Surefire); the executors get this JVM's class path through {@code spark.executorEnv.SPARK_DIST_CLASSPATH}.
 */
class LocalClusterTest {
    static final int STEPS = 3;

    /** What each rank runs, and the process it ran in. */
    static final class Train implements BarrierStage.RankTask<double[][]> {
        @Override
        public double[][] run(Communicator comm) {
            double[][] r = ZeroTraining.train(comm, STEPS);
            return new double[][] {r[0], r[1], {ProcessHandle.current().pid()}};
        }
    }

    /**
     * Rank 1 kills its executor JVM (Runtime.halt: no shutdown hook, no goodbye, as a SIGKILL or a lost machine)
     * before step 5 of the stage's first attempt, after the save at step 4; returns its final parameters, the step it
     * resumed at, the attempt it finished in and its process.
     */
    static final class KilledOnce implements BarrierStage.RankTask<double[][]> {
        final String dir;

        KilledOnce(String dir) {
            this.dir = dir;
        }

        @Override
        public double[][] run(Communicator comm) throws Exception {
            int attempt = org.apache.spark.BarrierTaskContext.get().stageAttemptNumber();
            double[][] r = ZeroTraining.resumable(comm, 6, Path.of(dir), 2, (rank, step) -> {
                if (attempt == 0 && rank == 1 && step == 5) {
                    Runtime.getRuntime().halt(137);
                }
            });
            return new double[][] {r[0], r[1], {attempt}, {ProcessHandle.current().pid()}};
        }
    }

    @Test
    void twoExecutorJvmsTrainLikeTheInProcessRanksBitForBit(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        String home = System.getenv("SPARK_HOME");
        assertTrue(home != null, "SPARK_HOME must be set for this test (the pom sets it)");
        Files.createDirectories(Path.of(home, "jars"));
        if (!Files.exists(Path.of(home, "RELEASE"))) {
            Files.createFile(Path.of(home, "RELEASE"));
        }
        SparkConf conf = new SparkConf().setMaster("local-cluster[2,1,1024]").setAppName("vecopt-local-cluster-test")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                // The executors' class path: this JVM's (Surefire names it in surefire.test.class.path).
                .set("spark.executorEnv.SPARK_DIST_CLASSPATH",
                        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        long t0 = System.nanoTime();
        SparkContext sc = new SparkContext(conf);
        sc.setLogLevel("WARN");
        List<double[][]> spark;
        List<double[][]> killed;
        try {
            // A barrier stage submitted before both executors registered waits for a 15 s retry: wait for them.
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (executors(sc) < 2) {
                assertTrue(System.nanoTime() < deadline, "the two executors did not register within 60 s");
                Thread.sleep(100); // polling Spark's status tracker, which has no registration callback; bounded above
            }
            spark = BarrierStage.run(sc, 2, Duration.ofSeconds(60), new Train());
            System.out.printf("local-cluster, 2 executor JVMs, %d steps: %.1f s from SparkContext to result%n", STEPS,
                    (System.nanoTime() - t0) / 1e9);
            // Then an executor killed mid-training, in the same cluster: Spark reruns the stage once a new executor
            // has replaced the dead one, and the ranks resume from the last complete save.
            long t1 = System.nanoTime();
            sc.setLogLevel("ERROR"); // the lost executor is logged at WARN by every layer
            killed = BarrierStage.run(sc, 2, Duration.ofSeconds(60), new KilledOnce(dir.toString()));
            System.out.printf("local-cluster, an executor killed before step 5 of 6: %.1f s to the result%n",
                    (System.nanoTime() - t1) / 1e9);
        } finally {
            sc.stop();
        }
        Set<Double> pids = new HashSet<>();
        for (double[][] r : spark) {
            pids.add(r[2][0]);
        }
        pids.add((double) ProcessHandle.current().pid());
        assertEquals(3, pids.size(), "the ranks must run in two executor JVMs other than this one: " + pids);
        List<double[][]> local = ZeroTraining.inProcess(2, STEPS);
        for (int r = 0; r < 2; r++) {
            assertArrayEquals(local.get(r)[0], spark.get(r)[0], "parameters of rank " + r);
            assertArrayEquals(local.get(r)[1], spark.get(r)[1], "norms of rank " + r);
        }
        List<double[][]> straight = ZeroTraining.inProcess(2, 6);
        for (int r = 0; r < 2; r++) {
            assertEquals(1, killed.get(r)[2][0], "rank " + r + " finished in the stage's second attempt");
            assertEquals(4, killed.get(r)[1][0], "rank " + r + " resumed from the save at step 4");
            assertArrayEquals(straight.get(r)[0], killed.get(r)[0], "parameters of rank " + r);
        }
        assertTrue(killed.get(0)[3][0] != killed.get(1)[3][0], "the second attempt ran in two executor JVMs");
        assertTrue(!pids.contains(killed.get(0)[3][0]) || !pids.contains(killed.get(1)[3][0]),
                "one rank of the second attempt ran in a new executor JVM, the killed one's replacement");
    }

    /** Executors registered (the list includes the driver). */
    private static int executors(SparkContext sc) {
        return sc.statusTracker().getExecutorInfos().length - 1;
    }
}
