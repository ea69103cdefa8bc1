package vecopt.djl.train;

import vecopt.djl.gpt.GptConfig;

/**
 * The settings shared by every recipe of one comparison (the recipe adds the LayerNorm placement).
 *
 * <pre>{@code
 * TrainConfig cfg = new TrainConfig(32, 32, 128, 4, 4, 200, 8, 6e-3, 42, 1, 10, 8192, 128);
 * MarkovTask.Split data = cfg.task().generate(cfg.trainCount(), cfg.heldOutCount(), cfg.context(), cfg.seed());
 * }</pre>
 *
 * @param vocab        tokens of the task and the model
 * @param context      tokens per training sequence (the model's context)
 * @param width        model width
 * @param heads        attention heads
 * @param layers       transformer layers
 * @param steps        optimizer steps per recipe
 * @param batch        sequences per step
 * @param peakLr       the peak learning rate every recipe's schedule reaches
 * @param seed         seeds the task's source, the data, the initial weights and the batch order
 * @param threads      vecopt's optimizer threads
 * @param evalEvery    steps between held-out evaluations
 * @param trainCount   training sequences
 * @param heldOutCount held-out sequences
 */
public record TrainConfig(int vocab, int context, int width, int heads, int layers, int steps, int batch,
                          double peakLr, long seed, int threads, int evalEvery, int trainCount, int heldOutCount) {
    /** Allowed next tokens per context of the task's Markov source. */
    public static final int SUCCESSORS = 4;

    public TrainConfig {
        positive("vocab", vocab);
        positive("context", context);
        positive("width", width);
        positive("heads", heads);
        positive("layers", layers);
        positive("steps", steps);
        positive("batch", batch);
        positive("threads", threads);
        positive("evalEvery", evalEvery);
        positive("trainCount", trainCount);
        positive("heldOutCount", heldOutCount);
        if (vocab < SUCCESSORS) {
            throw new IllegalArgumentException("vocab must be >= " + SUCCESSORS + ", got " + vocab);
        }
        if (width % heads != 0) {
            throw new IllegalArgumentException("width must be a multiple of heads " + heads + ", got " + width);
        }
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

    /** The model of a recipe: these settings, the LayerNorms placed as {@code norm} says, GPT-2's 4x MLP. */
    public GptConfig model(GptConfig.Norm norm) {
        return new GptConfig(vocab, context, width, heads, layers, 4, norm);
    }

    /** The task's source (seeded by {@code seed}). */
    public MarkovTask task() {
        return new MarkovTask(vocab, SUCCESSORS, seed);
    }
}
