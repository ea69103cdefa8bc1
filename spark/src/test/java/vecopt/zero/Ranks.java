package vecopt.zero;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.function.IntFunction;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;

/**
 * The test rig: a small model in two buffers (tensors at offsets that are not multiples of 16, a gap, a tensor longer
 * than one 64 Ki chunk), ranks as threads over {@link InProcessCommunicator}, and the single-process run on the mean
 * of the same per-rank gradients.
 */
final class Ranks {
    /** Gradient of element {@code i} of the flat space on rank {@code rank} at step {@code step}. */
    interface Grads {
        float of(int rank, int step, int i);
    }

    static final String[] NAMES = {"emb.weight", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
    static final int[] LENGTHS = {70_001, 30_000, 37, 40_960, 5};

    /** One replica of the model: two heap buffers, the tensors placed with an offset and a gap. */
    static final class Model {
        final Storage p0;
        final Storage g0;
        final Storage p1;
        final Storage g1;
        final ParamSet set;

        Model() {
            this(Dtype.FLOAT32, Dtype.FLOAT32);
        }

        /** With parameters and gradients of the given types (16-bit ones on short[]); values rounded to them. */
        Model(Dtype params, Dtype grads) {
            p0 = heap(100_100, params);
            g0 = heap(100_100, grads);
            p1 = heap(41_000, params);
            g1 = heap(41_000, grads);
            set = ParamSet.builder()
                    .add(NAMES[0], p0, g0, 3, LENGTHS[0])           // starts off the 16-grid and the chunk grid
                    .add(NAMES[1], p0, g0, 70_004 + 50, LENGTHS[1]) // a gap of 50 before it
                    .add(NAMES[2], p1, g1, 40_963, LENGTHS[2])      // another buffer, after fc2.weight in memory
                    .add(NAMES[3], p1, g1, 0, LENGTHS[3])
                    .add(NAMES[4], p0, g0, 100_054, LENGTHS[4])
                    .build();
            int i = 0;
            for (var t : set.tensors()) {
                for (long k = 0; k < t.length(); k++) {
                    t.params().set(t.offset() + k, (float) Math.sin(0.001 * i++));
                }
            }
        }

        void setGrads(Grads grads, int rank, int step) {
            int i = 0;
            for (var t : set.tensors()) {
                for (long k = 0; k < t.length(); k++) {
                    t.grads().set(t.offset() + k, grads.of(rank, step, i++));
                }
            }
        }

        private static Storage heap(int n, Dtype type) {
            return type == Dtype.FLOAT32 ? Storage.of(new float[n]) : Storage.of(new short[n], type);
        }

        float[] flatParams() {
            float[] out = new float[(int) set.size()];
            int i = 0;
            for (var t : set.tensors()) {
                for (long k = 0; k < t.length(); k++) {
                    out[i++] = t.params().get(t.offset() + k);
                }
            }
            return out;
        }
    }

    static int total() {
        int n = 0;
        for (int l : LENGTHS) {
            n += l;
        }
        return n;
    }

    /** AdamW with decay 0.1, and no decay for the biases, with the given clipping (0: none) and threads. */
    static Function<ParamSet, Optimizer<?>> adamw(double clip, int threads) {
        return set -> {
            AdamW.Builder b = AdamW.builder(set).options(AdamOptions.LLM_PRETRAINING)
                    .group("no_decay", AdamOptions.LLM_PRETRAINING.withWeightDecay(0), t -> t.name().endsWith(".bias"))
                    .threads(threads);
            if (clip > 0) {
                b.clipGradNorm(clip);
            }
            return b.build();
        };
    }

    static double lr(int step) {
        return 1e-3 * (step + 1);
    }

    /** The outcome of a sharded run: every rank's final parameters and every rank's reports. */
    record Run(float[][] params, List<List<ZeroReport>> reports, long[] stateBytes) {
        /** Every rank ended with the same parameters and reported the same norms and decisions, bit for bit. */
        void assertRanksAgree() {
            for (int r = 1; r < params.length; r++) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(params[0], params[r], "parameters of rank " + r);
                for (int s = 0; s < reports.get(0).size(); s++) {
                    ZeroReport a = reports.get(0).get(s), b = reports.get(r).get(s);
                    org.junit.jupiter.api.Assertions.assertEquals(Double.doubleToRawLongBits(a.gradNorm()),
                            Double.doubleToRawLongBits(b.gradNorm()), "norm bits of rank " + r + " at step " + s);
                    org.junit.jupiter.api.Assertions.assertEquals(a.skipped(), b.skipped(), "skip of rank " + r);
                }
            }
        }
    }

    /** Trains {@code steps} sharded steps on {@code ranks} threads. */
    static Run zero(int ranks, int steps, Grads grads, Function<ParamSet, Optimizer<?>> optimizer) throws Exception {
        List<InProcessCommunicator> group = InProcessCommunicator.group(ranks, Duration.ofSeconds(60));
        return zero(ranks, group::get, steps, grads, optimizer);
    }

    /** Trains {@code steps} sharded steps on {@code ranks} threads, rank r over the communicator {@code connect(r)}. */
    static Run zero(int ranks, IntFunction<? extends Communicator> connect, int steps, Grads grads,
                    Function<ParamSet, Optimizer<?>> optimizer) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        try {
            List<Future<Object[]>> futures = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    Model m = new Model();
                    List<ZeroReport> reports = new ArrayList<>();
                    Communicator comm = connect.apply(rank);
                    try (comm; ZeroStep zero = ZeroStep.create(m.set, comm, optimizer)) {
                        for (int s = 0; s < steps; s++) {
                            m.setGrads(grads, rank, s);
                            reports.add(zero.step(lr(s)).copy()); // the step overwrites its report
                        }
                        return new Object[] {m.flatParams(), reports, zero.stateBytes()};
                    } // a failed rank leaves the group (closing its communicator), so its peers fail fast
                }));
            }
            float[][] params = new float[ranks][];
            List<List<ZeroReport>> reports = new ArrayList<>();
            long[] bytes = new long[ranks];
            for (int r = 0; r < ranks; r++) {
                Object[] o;
                try {
                    o = futures.get(r).get();
                } catch (ExecutionException e) {
                    throw new AssertionError("rank " + r + " failed", e.getCause());
                }
                params[r] = (float[]) o[0];
                @SuppressWarnings("unchecked")
                List<ZeroReport> rep = (List<ZeroReport>) o[1];
                reports.add(rep);
                bytes[r] = (long) o[2];
            }
            return new Run(params, reports, bytes);
        } finally {
            pool.shutdownNow();
        }
    }

    /** The mean of the ranks' gradients, as the single process is fed: summed in double, divided, rounded once. */
    static float mean(Grads grads, int ranks, int step, int i) {
        double s = 0;
        for (int r = 0; r < ranks; r++) {
            s += grads.of(r, step, i);
        }
        return (float) (s / ranks);
    }

    /** One process, the same optimizer, trained on the mean of the same per-rank gradients. */
    static float[] single(int ranks, int steps, Grads grads, Function<ParamSet, Optimizer<?>> optimizer,
                          List<double[]> reportsOut) {
        Model m = new Model();
        try (Optimizer<?> opt = optimizer.apply(m.set)) {
            for (int s = 0; s < steps; s++) {
                int step = s;
                m.setGrads((r, st, i) -> mean(grads, ranks, step, i), 0, s);
                var r = opt.step(lr(s));
                reportsOut.add(new double[] {r.skipped() ? 1 : 0, r.gradNorm(), r.clipCoef()});
            }
        }
        return m.flatParams();
    }
}
