package vecopt.examples.train;

/**
 * The settings shared by every recipe of one comparison.
 *
 * @param hidden       width of the model's hidden layers
 * @param steps        optimizer steps per recipe
 * @param batch        examples per step
 * @param peakLr       the peak learning rate every recipe's schedule reaches
 * @param seed         seeds the data, the initial parameters and the batch order
 * @param threads      worker threads of the optimizer step
 * @param optimizer    AdamW or SGD with momentum
 * @param evalEvery    steps between held-out evaluations
 * @param trainCount   training examples
 * @param heldOutCount held-out examples
 */
public record TrainConfig(int hidden, int steps, int batch, double peakLr, long seed, int threads,
                          OptimizerKind optimizer, int evalEvery, int trainCount, int heldOutCount) {
    public TrainConfig {
        positive("hidden", hidden);
        positive("steps", steps);
        positive("batch", batch);
        positive("threads", threads);
        positive("evalEvery", evalEvery);
        positive("trainCount", trainCount);
        positive("heldOutCount", heldOutCount);
        if (!(peakLr > 0) || peakLr == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("peakLr must be finite and > 0, got " + peakLr);
        }
        if (batch > trainCount) {
            throw new IllegalArgumentException("batch must be <= trainCount " + trainCount + ", got " + batch);
        }
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
        }
    }

    public Mlp.Shape shape(TeacherTask task) {
        return new Mlp.Shape(task.features(), hidden, task.classes());
    }
}
