package vecopt.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.junit.jupiter.api.Test;
import vecopt.zero.Communicator;
import vecopt.zero.ZeroTraining;

/** The sharded loop as a Spark barrier stage in {@code local[2]}: two tasks, Gloo between them. */
class BarrierStageTest {
    static final int STEPS = 4;

    /** What each rank runs: the test model, four sharded steps; returns its final parameters and norms. */
    static final class Train implements BarrierStage.RankTask<double[][]> {
        @Override
        public double[][] run(Communicator comm) {
            return ZeroTraining.train(comm, STEPS);
        }
    }

    @Test
    void theBarrierStageTrainsLikeTheInProcessRanksBitForBit() throws Exception {
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("vecopt-barrier-test")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1");
        SparkContext sc = new SparkContext(conf);
        sc.setLogLevel("WARN"); // Spark logs every task and barrier sync at INFO
        List<double[][]> spark;
        try {
            long t0 = System.nanoTime();
            spark = BarrierStage.run(sc, 2, Duration.ofSeconds(60), new Train());
            System.out.printf("barrier stage of 2 ranks, %d steps: %.1f s%n", STEPS, (System.nanoTime() - t0) / 1e9);
        } finally {
            sc.stop();
        }
        List<double[][]> local = ZeroTraining.inProcess(2, STEPS);
        assertEquals(2, spark.size());
        for (int r = 0; r < 2; r++) {
            assertArrayEquals(local.get(r)[0], spark.get(r)[0], "parameters of rank " + r);
            assertArrayEquals(local.get(r)[1], spark.get(r)[1], "norms of rank " + r);
        }
        assertArrayEquals(spark.get(0)[0], spark.get(1)[0], "both ranks end with the same parameters");
    }

    /**
     * A task that fails mid-training (rank 1 throws before step 5 in the stage's first attempt, after the save at
     * step 4) makes Spark run the whole stage again; the ranks resume from the save and end with the parameters of a
     * run that never failed.
     */
    static final class FailOnce implements BarrierStage.RankTask<double[][]> {
        final String dir;

        FailOnce(String dir) {
            this.dir = dir;
        }

        @Override
        public double[][] run(Communicator comm) throws Exception {
            int attempt = org.apache.spark.BarrierTaskContext.get().stageAttemptNumber();
            double[][] r = ZeroTraining.resumable(comm, 6, java.nio.file.Path.of(dir), 2, (rank, step) -> {
                if (attempt == 0 && rank == 1 && step == 5) {
                    throw new IllegalStateException("planted failure of rank 1 before step 5");
                }
            });
            return new double[][] {r[0], r[1], {attempt}};
        }
    }

    @Test
    void aFailedTaskMakesSparkRerunTheStageWhichResumesFromTheLastSave(@org.junit.jupiter.api.io.TempDir
                                                                      java.nio.file.Path dir) throws Exception {
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("vecopt-barrier-failure-test")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1");
        SparkContext sc = new SparkContext(conf);
        sc.setLogLevel("ERROR"); // the planted failure is logged at WARN with its stack by every layer
        List<double[][]> spark;
        try {
            spark = BarrierStage.run(sc, 2, Duration.ofSeconds(60), new FailOnce(dir.toString()));
        } finally {
            sc.stop();
        }
        List<double[][]> straight = ZeroTraining.inProcess(2, 6);
        for (int r = 0; r < 2; r++) {
            assertEquals(1, spark.get(r)[2][0], "rank " + r + " finished in the stage's second attempt");
            assertEquals(4, spark.get(r)[1][0], "rank " + r + " resumed from the save at step 4");
            assertArrayEquals(straight.get(r)[0], spark.get(r)[0], "parameters of rank " + r);
        }
    }

    @Test
    void badArgumentsAreNamedBeforeAnyJob() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BarrierStage.run(null, 2, Duration.ofSeconds(1), new Train()));
        assertEquals("sc must not be null", e.getMessage());
        assertEquals("127.0.0.1", BarrierStage.host("127.0.0.1:41235"));
        assertEquals("node-3", BarrierStage.host("node-3"));
    }
}
