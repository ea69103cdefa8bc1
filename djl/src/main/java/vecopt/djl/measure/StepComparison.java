package vecopt.djl.measure;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import vecopt.djl.VecoptStep;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.schedule.Schedules;

/**
 * Optimizer time per step of DJL's own {@code Adam} ({@link Trainer#step()}: DJL's {@code ParameterStore}, one
 * PyTorch {@code adamUpdate} per parameter, zeroing) against vecopt's AdamW through {@link VecoptStep}, on the same
 * model, initial weights and batches, measured the same way ({@link System#nanoTime()} around the call, after a
 * warmup), with the whole training step (forward, backward, optimizer) beside it.
 *
 * <pre>
 *   OMP_WAIT_POLICY=passive ./vecopt djl-compare --torch-threads 1 --threads 1,2 --hidden 1024 --layers 3
 * </pre>
 *
 * <p>Options: {@code --hidden H} (1024) and {@code --layers L} (3): an MLP 256-H-...-H-10 with ReLU, softmax
 * cross-entropy; {@code --batch B} (64); {@code --warmup W} (100) and {@code --steps S} (100) per optimizer (the
 * kernels must be JIT-compiled before measuring: a smoke run with 10 warmup steps had vecopt on one thread 5x slower
 * than on two); {@code --threads 1,2}: vecopt pool sizes; {@code --torch-threads N} (1): PyTorch's intra-op threads
 * (set {@code OMP_NUM_THREADS} to the same). Prints a Markdown table of medians and means.
 */
public final class StepComparison {
    private StepComparison() {
    }

    private record Result(String name, int threads, long params, double[] optMs, double[] stepMs) {
    }

    public static void main(String[] args) {
        int hidden = 1024, layers = 3, batch = 64, warmup = 100, steps = 100, torchThreads = 1;
        int[] threads = {1, 2};
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--hidden" -> hidden = Integer.parseInt(v);
                case "--layers" -> layers = Integer.parseInt(v);
                case "--batch" -> batch = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--steps" -> steps = Integer.parseInt(v);
                case "--threads" -> threads = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
                case "--torch-threads" -> torchThreads = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (see the class javadoc)");
            }
            i++;
        }
        // Before DJL's engine starts: it reads these once.
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(torchThreads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        List<Result> results = new ArrayList<>();
        results.add(run("DJL Adam", 0, hidden, layers, batch, warmup, steps));
        for (int t : threads) {
            results.add(run("vecopt AdamW", t, hidden, layers, batch, warmup, steps));
        }
        double djlOpt = median(results.get(0).optMs());
        System.out.printf(Locale.ROOT, "%nMLP 256-%d x%d-10, batch %d, PyTorch threads %d (OMP_NUM_THREADS=%s,"
                        + " OMP_WAIT_POLICY=%s), %d warmup + %d measured steps each%n%n", hidden, layers, batch,
                torchThreads, System.getenv("OMP_NUM_THREADS"), System.getenv("OMP_WAIT_POLICY"), warmup, steps);
        System.out.println("| optimizer | threads | params | opt ms/step median (mean) | ns/param | training step ms"
                + " median (mean) | opt vs DJL Adam |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (Result r : results) {
            double opt = median(r.optMs());
            System.out.printf(Locale.ROOT, "| %s | %s | %,d | %.3f (%.3f) | %.2f | %.2f (%.2f) | %.1fx |%n", r.name(),
                    r.threads() == 0 ? "PyTorch's" : String.valueOf(r.threads()), r.params(), opt, mean(r.optMs()),
                    opt * 1e6 / r.params(), median(r.stepMs()), mean(r.stepMs()), djlOpt / opt);
        }
    }

    private static Result run(String name, int threads, int hidden, int layers, int batch, int warmup, int steps) {
        SequentialBlock block = new SequentialBlock();
        for (int l = 0; l < layers; l++) {
            block.add(Linear.builder().setUnits(hidden).build()).add(Activation::relu);
        }
        block.add(Linear.builder().setUnits(10).build());
        DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss());
        if (threads == 0) { // DJL's Adam at the same lr and betas; its eps placement differs (see the README)
            config.optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(1e-3f)).build());
        }
        Engine.getEngine("PyTorch").setRandomSeed(42);
        try (Model model = Model.newInstance("compare", "PyTorch")) {
            model.setBlock(block);
            try (Trainer trainer = model.newTrainer(config);
                 VecoptStep vecopt = threads == 0 ? null : VecoptStep.builder(trainer)
                         .optimizer(p -> AdamW.builder(p).options(AdamOptions.ADAM_DEFAULTS).threads(threads).build())
                         .schedule(Schedules.constant(1e-3))
                         .build()) {
                trainer.initialize(new Shape(batch, 256));
                long params = 0;
                for (var p : model.getBlock().getParameters()) {
                    params += p.getValue().getArray().size();
                }
                SplittableRandom random = new SplittableRandom(42);
                double[] optMs = new double[steps], stepMs = new double[steps];
                for (int s = 0; s < warmup + steps; s++) {
                    long t0 = System.nanoTime();
                    try (NDManager scratch = trainer.getManager().newSubManager()) {
                        float[] x = new float[batch * 256];
                        float[] y = new float[batch];
                        for (int i = 0; i < x.length; i++) {
                            x[i] = (float) random.nextGaussian();
                        }
                        for (int i = 0; i < batch; i++) {
                            y[i] = random.nextInt(10);
                        }
                        NDArray xs = scratch.create(x, new Shape(batch, 256));
                        NDArray ys = scratch.create(y, new Shape(batch));
                        t0 = System.nanoTime(); // data generation is not part of the step
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDList pred = trainer.forward(new NDList(xs));
                            gc.backward(trainer.getLoss().evaluate(new NDList(ys), pred));
                        }
                    }
                    long t1 = System.nanoTime();
                    if (vecopt == null) {
                        trainer.step();
                    } else {
                        vecopt.step();
                    }
                    long t2 = System.nanoTime();
                    if (s >= warmup) {
                        optMs[s - warmup] = (t2 - t1) / 1e6;
                        stepMs[s - warmup] = (t2 - t0) / 1e6;
                    }
                }
                System.err.printf(Locale.ROOT, "%s (%s threads): done%n", name, threads == 0 ? "PyTorch's" : threads);
                return new Result(name, threads, params, optMs, stepMs);
            }
        }
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double mean(double[] a) {
        return Arrays.stream(a).average().orElse(Double.NaN);
    }
}
