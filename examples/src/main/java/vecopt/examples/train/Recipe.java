package vecopt.examples.train;

import java.util.List;
import java.util.Objects;
import vecopt.optim.AdamOptions;
import vecopt.preset.Preset;
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
 * @param warmup      the warmup length for a run length (0: none); the shape's schedule peaks there
 * @param shape       the schedule for a peak lr and a run length
 * @param clipNorm    global gradient-norm bound, or 0 for no clipping
 * @param adam        AdamW hyperparameters of the decayed group (the no-decay group uses the same with wd 0)
 */
public record Recipe(String name, String description, Warmup warmup, Shape shape, double clipNorm,
                     AdamOptions adam) {
    /**
     * How many warmup steps a run of {@code total} steps has. The recipe states it beside its schedule (a schedule is
     * only a function of the step) so that the table and chart can mark where each warmup ends.
     */
    @FunctionalInterface
    public interface Warmup {
        long steps(long total);

        /** No warmup. */
        Warmup NONE = total -> 0;

        /** {@code int(fraction * total)}. */
        static Warmup fraction(double fraction) {
            return total -> WarmupSteps.fraction(fraction, total);
        }
    }

    /** A schedule family: the schedule peaking at {@code peak} over {@code total} steps with {@code warmup} steps. */
    @FunctionalInterface
    public interface Shape {
        Schedule at(double peak, long warmup, long total);
    }

    private static final double CLIP = 1.0; // the optimizer guide's "typical max_norm: 1.0"

    /** The recipes of the demo, in the order of the table and chart. */
    public static final List<Recipe> ALL = List.of(
            new Recipe("constant", "no warmup, constant lr, no clipping", Warmup.NONE,
                    (peak, warmup, total) -> Schedules.constant(peak), 0, AdamOptions.ADAMW_DEFAULTS),
            new Recipe("no-warmup", "no warmup, cosine decay to 0, no clipping", Warmup.NONE, Recipe::cosine, 0,
                    AdamOptions.ADAMW_DEFAULTS),
            new Recipe("clip", "no warmup, cosine decay to 0, clip 1.0", Warmup.NONE, Recipe::cosine, CLIP,
                    AdamOptions.ADAMW_DEFAULTS),
            new Recipe("warmup", "10% linear warmup, cosine decay to 0, no clipping", Warmup.fraction(0.10),
                    Recipe::cosine, 0, AdamOptions.ADAMW_DEFAULTS),
            new Recipe("warmup+clip", "10% linear warmup, cosine decay to 0, clip 1.0", Warmup.fraction(0.10),
                    Recipe::cosine, CLIP, AdamOptions.ADAMW_DEFAULTS),
            new Recipe("llm-pretrain", "preset LLM pre-training: betas (0.9, 0.95), wd 0.1, 1% warmup, cosine;"
                    + " clip 1.0", Preset.LLM_PRETRAINING::warmupSteps, preset(Preset.LLM_PRETRAINING), CLIP,
                    AdamOptions.LLM_PRETRAINING),
            new Recipe("llm-finetune", "preset LLM fine-tuning: betas (0.9, 0.999), wd 0.01, 3% warmup, linear"
                    + " decay; clip 1.0", Preset.LLM_FINE_TUNING::warmupSteps, preset(Preset.LLM_FINE_TUNING), CLIP,
                    AdamOptions.FINE_TUNING));

    public Recipe {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(warmup, "warmup");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(adam, "adam");
        if (!(clipNorm >= 0) || clipNorm == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("clipNorm must be finite and >= 0 (0 = off), got " + clipNorm);
        }
    }

    /** Linear warmup, then cosine decay to 0. */
    private static Schedule cosine(double peak, long warmup, long total) {
        return Schedules.warmupCosine(peak, 0, warmup, total);
    }

    /**
     * A preset's schedule shape (its own warmup fraction and decay), rescaled from the preset's own peak lr to ours;
     * its warmup is the preset's, which the recipe states as its {@link #warmup()}.
     */
    private static Shape preset(Preset p) {
        return (peak, warmup, total) -> p.schedule(total).scaled(peak / p.peakLr());
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
        return warmup.steps(total);
    }

    /** This recipe's schedule for a run of {@code total} steps peaking at {@code peak}. */
    public Schedule schedule(double peak, long total) {
        return shape.at(peak, warmupSteps(total), total);
    }
}
