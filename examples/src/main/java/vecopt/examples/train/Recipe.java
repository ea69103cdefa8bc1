package vecopt.examples.train;

import java.util.List;
import java.util.Objects;
import java.util.function.LongUnaryOperator;
import vecopt.optim.AdamOptions;
import vecopt.schedule.Preset;
import vecopt.schedule.Schedule;
import vecopt.schedule.Schedules;
import vecopt.schedule.WarmupSteps;

/**
 * One way to train: the lr schedule's shape (warmup length and decay, always at the run's one peak lr), whether
 * gradients are clipped to a global norm, and the AdamW hyperparameters. Only these differ between the runs of a
 * comparison; model, data, batch order and peak lr are shared.
 *
 * <p>With {@code --optimizer sgd} the AdamW hyperparameters are not used: every recipe runs SGD with momentum 0.9
 * and its own schedule and clipping.
 *
 * @param name        short name used by {@code --recipes} and in the table and chart
 * @param description one line for the table's legend
 * @param shape       the schedule for a peak lr and a run length
 * @param warmup      the warmup steps of that schedule for a run length (0 for none): the end of warmup the chart
 *                    marks, known here because here is where the schedule is built
 * @param clipNorm    global gradient-norm bound, or 0 for no clipping
 * @param adam        AdamW hyperparameters of the decayed group (the no-decay group uses the same with wd 0)
 */
public record Recipe(String name, String description, Shape shape, LongUnaryOperator warmup, double clipNorm,
                     AdamOptions adam) {
    /** A schedule family: the schedule peaking at {@code peak} over {@code total} steps. */
    @FunctionalInterface
    public interface Shape {
        Schedule at(double peak, long total);
    }

    private static final double CLIP = 1.0; // the reference material's "typical max_norm: 1.0"
    private static final LongUnaryOperator NO_WARMUP = total -> 0;
    private static final LongUnaryOperator TENTH = total -> WarmupSteps.fraction(0.10, total);

    /** The recipes of the demo, in the order of the table and chart. */
    public static final List<Recipe> ALL = List.of(
            new Recipe("constant", "no warmup, constant lr, no clipping",
                    (peak, total) -> Schedules.constant(peak), NO_WARMUP, 0, AdamOptions.ADAMW_DEFAULTS),
            new Recipe("no-warmup", "no warmup, cosine decay to 0, no clipping",
                    (peak, total) -> Schedules.warmupCosine(peak, 0, 0, total), NO_WARMUP, 0,
                    AdamOptions.ADAMW_DEFAULTS),
            new Recipe("clip", "no warmup, cosine decay to 0, clip 1.0",
                    (peak, total) -> Schedules.warmupCosine(peak, 0, 0, total), NO_WARMUP, CLIP,
                    AdamOptions.ADAMW_DEFAULTS),
            new Recipe("warmup", "10% linear warmup, cosine decay to 0, no clipping",
                    (peak, total) -> Schedules.warmupCosine(peak, 0, TENTH.applyAsLong(total), total), TENTH, 0,
                    AdamOptions.ADAMW_DEFAULTS),
            new Recipe("warmup+clip", "10% linear warmup, cosine decay to 0, clip 1.0",
                    (peak, total) -> Schedules.warmupCosine(peak, 0, TENTH.applyAsLong(total), total), TENTH, CLIP,
                    AdamOptions.ADAMW_DEFAULTS),
            new Recipe("llm-pretrain", "preset LLM pre-training: betas (0.9, 0.95), wd 0.1, 1% warmup, cosine;"
                    + " clip 1.0", preset(Preset.LLM_PRETRAINING), Preset.LLM_PRETRAINING::warmupSteps, CLIP,
                    AdamOptions.LLM_PRETRAINING),
            new Recipe("llm-finetune", "preset LLM fine-tuning: betas (0.9, 0.999), wd 0.01, 3% warmup, linear"
                    + " decay; clip 1.0", preset(Preset.LLM_FINE_TUNING), Preset.LLM_FINE_TUNING::warmupSteps, CLIP,
                    AdamOptions.FINE_TUNING));

    public Recipe {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(warmup, "warmup");
        Objects.requireNonNull(adam, "adam");
        if (!(clipNorm >= 0) || clipNorm == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("clipNorm must be finite and >= 0 (0 = off), got " + clipNorm);
        }
    }

    /** A preset's schedule shape (warmup fraction, decay), rescaled from the preset's own peak lr to ours. */
    private static Shape preset(Preset p) {
        return (peak, total) -> p.schedule(total).scaled(peak / p.peakLr());
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

    public boolean clips() {
        return clipNorm > 0;
    }

    /** Where this recipe's warmup ends in a run of {@code total} steps (0: no warmup). */
    public long warmupSteps(long total) {
        return warmup.applyAsLong(total);
    }

    /** This recipe's schedule for a run of {@code total} steps peaking at {@code peak}. */
    public Schedule schedule(double peak, long total) {
        return shape.at(peak, total);
    }
}
