package vecopt.zero;

import java.util.ArrayList;
import java.util.List;

/** The test model's sharded training as one rank runs it, for the Spark tests (which live in another package). */
public final class ZeroTraining {
    private ZeroTraining() {
    }

    /** Trains {@code steps} sharded steps as {@code comm}'s rank; returns {final parameters, norm of each step}. */
    public static double[][] train(Communicator comm, int steps) {
        Ranks.Model m = new Ranks.Model();
        double[] norms = new double[steps];
        try (ZeroStep zero = ZeroStep.create(m.set, comm, Ranks.adamw(1.0, 1))) {
            for (int s = 0; s < steps; s++) {
                m.setGrads(ZeroStepTest::rough, comm.rank(), s);
                norms[s] = zero.step(Ranks.lr(s)).gradNorm();
            }
        }
        return new double[][] {widen(m.flatParams()), norms};
    }

    /** What a rank does at the start of each step, before its gradients (a test's planted failure). */
    public interface BeforeStep extends java.io.Serializable {
        void at(int rank, int step);
    }

    /**
     * Trains as {@code comm}'s rank to step {@code steps}, resuming from the newest complete save in {@code dir}
     * (if any) and saving after every {@code every} steps; returns {final parameters, {the step it resumed at}}.
     */
    public static double[][] resumable(Communicator comm, int steps, java.nio.file.Path dir, int every,
                                       BeforeStep before) throws java.io.IOException {
        Ranks.Model m = new Ranks.Model();
        ShardedCheckpoints ckpt = new ShardedCheckpoints(dir, 2);
        try (ZeroStep zero = ZeroStep.create(m.set, comm, Ranks.adamw(1.0, 1))) {
            long start = ckpt.resume(zero).map(vecopt.checkpoint.Restored::globalStep).orElse(0L);
            for (int s = (int) start; s < steps; s++) {
                before.at(comm.rank(), s);
                m.setGrads(ZeroStepTest::rough, comm.rank(), s);
                zero.step(Ranks.lr(s));
                if ((s + 1) % every == 0) {
                    ckpt.save(zero, s + 1, vecopt.checkpoint.Extras.none());
                }
            }
            return new double[][] {widen(m.flatParams()), {start}};
        }
    }

    /** The same on {@code ranks} threads over the in-process communicator, rank by rank. */
    public static List<double[][]> inProcess(int ranks, int steps) throws Exception {
        Ranks.Run run = Ranks.zero(ranks, steps, ZeroStepTest::rough, Ranks.adamw(1.0, 1));
        List<double[][]> out = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            double[] norms = new double[steps];
            for (int s = 0; s < steps; s++) {
                norms[s] = run.reports().get(r).get(s).gradNorm();
            }
            out.add(new double[][] {widen(run.params()[r]), norms});
        }
        return out;
    }

    private static double[] widen(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
