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
