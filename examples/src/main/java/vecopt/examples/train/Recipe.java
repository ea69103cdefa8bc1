package vecopt.examples.train;

import java.util.List;
import java.util.function.LongToDoubleFunction;
import vecopt.optim.AdamOptions;

/**
 * One way to train: the lr schedule's shape (warmup length and decay kind, all at the run's one peak lr), whether
 * gradients are clipped to a global norm, and the AdamW hyperparameters. Only these differ between the runs of a
 * comparison; model, data, batch order and peak lr are shared.
 *
 * <p>With {@code --optimizer sgd} the AdamW hyperparameters are not used: every recipe runs SGD with momentum 0.9
 * and its own schedule and clipping.
 *
 * @param name           short name used by {@code --recipes} and in the table and chart
 * @param description    one line for the table's legend
 * @param decay          the schedule after warmup
 * @param warmupFraction fraction of the steps spent in linear warmup, in [0, 1)
 * @param clipNorm       global gradient-norm bound, or 0 for no clipping
 * @param adam           AdamW hyperparameters of the decayed group (the no-decay group uses the same with wd 0)
 */
public record Recipe(String name, String description, Decay decay, double warmupFraction, double clipNorm,
                     AdamOptions adam) {
    /** What the lr does after warmup. */
    public enum Decay { CONSTANT, COSINE, LINEAR }

    /** The recipes of the demo, in the order of the table and chart. */
    public static final List<Recipe> ALL = List.of(
            new Recipe("constant", "no warmup, constant lr, no clipping", Decay.CONSTANT, 0, 0,
                    AdamOptions.ADAMW_DEFAULTS),
            new Recipe("no-warmup", "no warmup, cosine decay, no clipping", Decay.COSINE, 0, 0,
                    AdamOptions.ADAMW_DEFAULTS),
            new Recipe("warmup", "10% linear warmup, cosine decay, no clipping", Decay.COSINE, 0.10, 0,
                    AdamOptions.ADAMW_DEFAULTS),
            new Recipe("warmup+clip", "10% linear warmup, cosine decay, clip 1.0", Decay.COSINE, 0.10, 1.0,
                    AdamOptions.ADAMW_DEFAULTS),
            new Recipe("llm-pretrain", "reference pre-training preset: betas (0.9, 0.95), wd 0.1, 2% warmup, cosine,"
                    + " clip 1.0", Decay.COSINE, 0.02, 1.0, AdamOptions.LLM_PRETRAINING),
            new Recipe("fine-tune", "reference fine-tuning preset: betas (0.9, 0.999), wd 0.01, 5% warmup, linear"
                    + " decay, clip 1.0", Decay.LINEAR, 0.05, 1.0, AdamOptions.FINE_TUNING));

    public Recipe {
        if (!(warmupFraction >= 0 && warmupFraction < 1)) {
            throw new IllegalArgumentException("warmupFraction must be in [0, 1), got " + warmupFraction);
        }
        if (!(clipNorm >= 0) || clipNorm == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("clipNorm must be finite and >= 0 (0 = off), got " + clipNorm);
        }
    }

    /** The recipe called {@code name}; the message lists the known ones. */
    public static Recipe named(String name) {
        for (Recipe r : ALL) {
            if (r.name().equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown recipe '" + name + "'; known: "
                + ALL.stream().map(Recipe::name).toList());
    }

    /** Warmup steps for a run of {@code total} steps. */
    public long warmupSteps(long total) {
        return Math.round(warmupFraction * total);
    }

    public boolean clips() {
        return clipNorm > 0;
    }

    /** This recipe's lr at each step of a run of {@code total} steps peaking at {@code peak}. */
    public LongToDoubleFunction schedule(double peak, long total) {
        long warmup = warmupSteps(total);
        return switch (decay) {
            case CONSTANT -> s -> s < warmup ? peak * s / warmup : peak;
            case COSINE -> LocalSchedules.warmupCosine(peak, warmup, total);
            case LINEAR -> LocalSchedules.warmupLinear(peak, warmup, total);
        };
    }
}
