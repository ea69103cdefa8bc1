package vecopt.spark.train;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.spark.BarrierStage;
import vecopt.zero.Communicator;
import vecopt.zero.ZeroReport;
import vecopt.zero.ZeroStep;

/**
 * {@code ./vecopt spark-train}: data-parallel training of a small model ({@link Mlp}) on a Spark cluster, one barrier
 * stage of N ranks with the optimizer state sharded (ZeRO-1, {@link ZeroStep}) and Gloo between the ranks; then the
 * same training in one process, for comparison. Each rank computes the gradients of its share of every global batch;
 * the sharded step averages them. Prints each rank's optimizer state against one process's, the mean time per step
 * of each phase (the forward and backward pass, reduce-scatter, the norm's exchange, the update, all-gather) and the
 * held-out loss of both runs.
 *
 * <pre>
 * ./vecopt spark-train                                  # 2 ranks on local-cluster[2,1,1024]: two executor JVMs
 * ./vecopt spark-train --master local[2] --steps 300    # threads of one JVM instead
 * </pre>
 */
public final class SparkTrain {
    private SparkTrain() {
    }

    /** The run's settings; travels to the executors with the task. */
    record Settings(int ranks, int steps, int batch, int in, int hidden, int out, double lr, double clip)
            implements Serializable {
        AdamW optimizer(vecopt.param.ParamSet set) {
            return AdamW.builder(set).options(AdamOptions.ADAMW_DEFAULTS).clipGradNorm(clip).threads(1).build();
        }
    }

    /** What one rank reports: mean milliseconds per step of each phase (after the first 10 steps) and the result. */
    record RankResult(int rank, long pid, long stateBytes, double computeMs, double reduceScatterMs, double normMs,
                      double updateMs, double allGatherMs, double evalLoss, float[] params) implements Serializable {
    }

    static final int WARMUP = 10; // steps left out of the means: the JIT compiles the kernels and the model
    static final int EVAL = 512;

    /** One rank's training: its share of every global batch, the sharded step, timings. */
    static final class Rank implements BarrierStage.RankTask<RankResult> {
        private final Settings s;

        Rank(Settings s) {
            this.s = s;
        }

        @Override
        public RankResult run(Communicator comm) {
            Mlp m = new Mlp(s.in(), s.hidden(), s.out());
            int r = comm.rank(), n = comm.size();
            long from = (long) s.batch() * r / n, to = (long) s.batch() * (r + 1) / n;
            double compute = 0, rs = 0, norm = 0, update = 0, ag = 0;
            try (ZeroStep zero = ZeroStep.create(m.params, comm, s::optimizer)) {
                for (int step = 0; step < s.steps(); step++) {
                    long t0 = System.nanoTime();
                    m.gradients(step, from, to);
                    long t1 = System.nanoTime();
                    ZeroReport rep = zero.step(s.lr());
                    if (step >= WARMUP) {
                        compute += t1 - t0;
                        rs += rep.reduceScatterNanos();
                        norm += rep.normNanos();
                        update += rep.updateNanos();
                        ag += rep.allGatherNanos();
                    }
                }
                double k = 1e6 * (s.steps() - WARMUP);
                return new RankResult(r, ProcessHandle.current().pid(), zero.stateBytes(), compute / k, rs / k,
                        norm / k, update / k, ag / k, m.evalLoss(EVAL), r == 0 ? m.w1.clone() : null);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        String master = "local-cluster[2,1,1024]";
        int ranks = 2, steps = 150, batch = 64, hidden = 1024;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println("""
                        usage: ./vecopt spark-train [--master URL] [--ranks N] [--steps S] [--batch B] [--hidden H]
                          --master  Spark master (default local-cluster[2,1,1024]: a standalone cluster of two
                                    executor JVMs started here; local[N]: threads of this JVM)
                          --ranks   data-parallel ranks, one barrier task each (default 2)
                          --steps   training steps (default 150); --batch: global batch (default 64);
                          --hidden  hidden units of the MLP 64-H-8 (default 1024)""");
                return;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value (see --help)");
            }
            String v = args[++i];
            switch (a) {
                case "--master" -> master = v;
                case "--ranks" -> ranks = positive(a, v);
                case "--steps" -> steps = positive(a, v);
                case "--batch" -> batch = positive(a, v);
                case "--hidden" -> hidden = positive(a, v);
                default -> throw new IllegalArgumentException("unknown option " + a + " (see --help)");
            }
        }
        if (steps <= WARMUP) {
            throw new IllegalArgumentException("--steps must be > " + WARMUP + " (the warm-up left out of the times),"
                    + " got " + steps);
        }
        if (batch < ranks) {
            throw new IllegalArgumentException("--batch must be at least --ranks (" + ranks + "), got " + batch);
        }
        Settings s = new Settings(ranks, steps, batch, 64, hidden, 8, 3e-3, 1.0);
        Mlp probe = new Mlp(s.in(), s.hidden(), s.out());
        System.out.printf(Locale.ROOT, "vecopt spark-train: MLP %d-%d-%d (%,d parameters), %d steps, global batch %d,"
                + " AdamW lr %s, clipping at %s; held-out loss before training %.6f%n", s.in(), s.hidden(), s.out(),
                probe.params.size(), steps, batch, s.lr(), s.clip(), probe.evalLoss(EVAL));

        SparkConf conf = new SparkConf().setMaster(master).setAppName("vecopt-spark-train")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                // executors of local-cluster get this JVM's class path (vecopt, Spark, Gloo's bindings)
                .set("spark.executorEnv.SPARK_DIST_CLASSPATH", System.getProperty("java.class.path"));
        long t0 = System.nanoTime();
        SparkContext sc = new SparkContext(conf);
        sc.setLogLevel("WARN");
        List<RankResult> results;
        try {
            if (master.startsWith("local-cluster")) {
                // a barrier stage submitted before the executors registered waits for a 15 s retry
                long deadline = System.nanoTime() + 120_000_000_000L;
                while (sc.statusTracker().getExecutorInfos().length - 1 < ranks) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("fewer than " + ranks + " executors registered within 120 s");
                    }
                    Thread.sleep(100); // polling Spark's status tracker, which has no registration callback
                }
            }
            System.out.printf(Locale.ROOT, "Spark %s, master %s: %d executors up after %.1f s%n", sc.version(),
                    master, Math.max(0, sc.statusTracker().getExecutorInfos().length - 1), (System.nanoTime() - t0) / 1e9);
            long t1 = System.nanoTime();
            results = BarrierStage.run(sc, ranks, Duration.ofSeconds(120), new Rank(s));
            System.out.printf(Locale.ROOT, "barrier stage of %d ranks: %.1f s (rendezvous, Gloo, loading libtorch,"
                    + " training)%n%n", ranks, (System.nanoTime() - t1) / 1e9);
        } finally {
            sc.stop();
        }

        // The same training in this process: the whole global batch, one optimizer over all parameters.
        Mlp m = new Mlp(s.in(), s.hidden(), s.out());
        double compute = 0, update = 0;
        long singleState;
        try (Optimizer<?> opt = s.optimizer(m.params)) {
            for (int step = 0; step < steps; step++) {
                long a = System.nanoTime();
                m.gradients(step, 0, batch);
                long b = System.nanoTime();
                opt.step(s.lr());
                long c = System.nanoTime();
                if (step >= WARMUP) {
                    compute += b - a;
                    update += c - b;
                }
            }
            singleState = (long) opt.stateNames().size() * m.params.size() * Float.BYTES;
        }
        double k = 1e6 * (steps - WARMUP);
        double singleLoss = m.evalLoss(EVAL);

        System.out.printf(Locale.ROOT, "%-22s %14s %10s %15s %8s %8s %11s %9s %12s%n", "ms per step", "state bytes",
                "compute", "reduce-scatter", "norm", "update", "all-gather", "step", "held-out loss");
        for (RankResult r : results) {
            double step = r.reduceScatterMs() + r.normMs() + r.updateMs() + r.allGatherMs();
            System.out.printf(Locale.ROOT, "%-22s %,14d %10.2f %15.3f %8.3f %8.3f %11.3f %9.3f %12.6f%n",
                    "rank " + r.rank() + " of " + ranks + " (pid " + r.pid() + ")", r.stateBytes(), r.computeMs(),
                    r.reduceScatterMs(), r.normMs(), r.updateMs(), r.allGatherMs(), step, r.evalLoss());
        }
        System.out.printf(Locale.ROOT, "%-22s %,14d %10.2f %15s %8s %8.3f %11s %9.3f %12.6f%n", "one process",
                singleState, compute / k, "-", "-", update / k, "-", update / k, singleLoss);
        float[] sharded = results.get(0).params();
        double worst = 0;
        for (int i = 0; i < sharded.length; i++) {
            worst = Math.max(worst, Math.abs(sharded[i] - m.w1[i]));
        }
        System.out.printf(Locale.ROOT, "%nstate per rank: %.1f%% of one process's; the ranks' gradients are summed in"
                + " another order than one process sums the batch, so the runs differ in the last bits: largest"
                + " |difference| of fc1.weight after %d steps %.2e%n", 100.0 * results.get(0).stateBytes() / singleState,
                steps, worst);
    }

    private static int positive(String name, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a positive integer, got '" + v + "'");
        }
    }
}
