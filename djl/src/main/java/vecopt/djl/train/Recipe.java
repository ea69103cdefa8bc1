package vecopt.djl.train;

import java.util.List;
import java.util.Objects;
import vecopt.djl.gpt.GptConfig;
import vecopt.schedule.Schedule;
import vecopt.schedule.HuggingFace;
import vecopt.schedule.Schedules;
import vecopt.schedule.WarmupSteps;

/**
 * One way to train the demo's transformer: where its LayerNorms sit, the warmup (a fraction of the run, 0 for none),
 * the decay after it, and global-norm clipping. Only these differ between the runs of a comparison; model size,
 * initial weights, data, batch order, AdamW's hyperparameters and the peak lr are shared.
 *
 * <pre>{@code
 * Recipe r = Recipe.named("warmup");
 * Schedule s = r.schedule(6e-3, 200);    // Hugging Face's get_cosine_schedule_with_warmup, 20 warmup steps
 * }</pre>
 *
 * @param name         short name used by {@code --recipes} and in the table and chart
 * @param description  one line for the table's legend
 * @param norm         pre-LN or post-LN blocks
 * @param warmupFraction linear warmup over {@code int(fraction * steps)} steps ({@link WarmupSteps#fraction}), 0 for
 *                     none
 * @param decay        what follows the warmup
 * @param clipNorm     global gradient-norm bound, or 0 for no clipping
 */
public record Recipe(String name, String description, GptConfig.Norm norm, double warmupFraction, Decay decay,
                     double clipNorm) {
    /** The lr after the warmup, down to 0 at the last step: Hugging Face's cosine and linear schedules. */
    public enum Decay {
        /** {@code get_cosine_schedule_with_warmup}: half a cosine from the peak to 0. */
        COSINE,
        /** {@code get_linear_schedule_with_warmup}: a straight line from the peak to 0. */
        LINEAR,
        /**
         * No schedule at all: the peak lr at every step, warmup included. For an optimizer that warms up and anneals
         * by itself (schedule-free AdamW: its {@code warmup_steps} and its iterate averaging), whose warmup is then
         * {@link #warmupFraction} of the run, given to the optimizer, not to the schedule.
         */
        CONSTANT
    }

    /** The optimizer guide's "typical max_norm: 1.0". */
    static final double CLIP = 1.0;
    /** The warmup of the recipes that have one: 10% of the run, a common choice for short runs. */
    static final double WARMUP = 0.10;

    /** The recipes of the demo, in the order of the table and chart. */
    public static final List<Recipe> ALL = List.of(
            new Recipe("no-warmup", "pre-LN, no warmup, cosine decay, no clipping", GptConfig.Norm.PRE, 0,
                    Decay.COSINE, 0),
            new Recipe("no-warmup+clip", "pre-LN, no warmup, cosine decay, clip 1.0", GptConfig.Norm.PRE, 0,
                    Decay.COSINE, CLIP),
            new Recipe("warmup", "pre-LN, 10% linear warmup, cosine decay, no clipping", GptConfig.Norm.PRE, WARMUP,
                    Decay.COSINE, 0),
            new Recipe("warmup+clip", "pre-LN, 10% linear warmup, cosine decay, clip 1.0", GptConfig.Norm.PRE, WARMUP,
                    Decay.COSINE, CLIP),
            new Recipe("warmup-linear", "pre-LN, 10% linear warmup, linear decay, no clipping", GptConfig.Norm.PRE,
                    WARMUP, Decay.LINEAR, 0),
            new Recipe("post-ln", "post-LN, no warmup, cosine decay, no clipping", GptConfig.Norm.POST, 0,
                    Decay.COSINE, 0),
            new Recipe("post-ln+warmup", "post-LN, 10% linear warmup, cosine decay, no clipping", GptConfig.Norm.POST,
                    WARMUP, Decay.COSINE, 0));

    public Recipe {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(norm, "norm");
        Objects.requireNonNull(decay, "decay");
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

    public boolean clips() {
        return clipNorm > 0;
    }

    /** Where this recipe's warmup ends in a run of {@code total} steps (0: no warmup). */
    public long warmupSteps(long total) {
        return warmupFraction == 0 ? 0 : WarmupSteps.fraction(warmupFraction, total);
    }

    /**
     * This recipe's schedule for a run of {@code total} steps peaking at {@code peak}, reaching 0 at the end
     * ({@link Decay#CONSTANT}: {@code peak} throughout).
     */
    public Schedule schedule(double peak, long total) {
        long w = warmupSteps(total);
        return switch (decay) {
            case COSINE -> HuggingFace.cosineScheduleWithWarmup(peak, w, total);
            case LINEAR -> HuggingFace.linearScheduleWithWarmup(peak, w, total);
            case CONSTANT -> Schedules.constant(peak); // the warmup, if any, is the optimizer's own
        };
    }
}
