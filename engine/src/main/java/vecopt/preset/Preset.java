package vecopt.preset;

import java.util.Optional;
import vecopt.check.Require;
import vecopt.optim.AdamOptions;
import vecopt.optim.SgdOptions;
import vecopt.schedule.HuggingFace;
import vecopt.schedule.Schedule;
import vecopt.schedule.Schedules;
import vecopt.schedule.WarmupSteps;

/**
 * The quick-reference table of the optimizer guide "Optimizers and Schedules" (its "Common Configurations" and
 * "Quick Reference": pre-training an LLM, fine-tuning an LLM or BERT, training a CNN) as presets that give the
 * optimizer settings and the schedule together. Where the table gives a range, the preset takes the value named in
 * the comment; change it with {@link Schedule#scaled(double)} or by building the schedule yourself.
 *
 * <p>This package sits above both {@code vecopt.optim} and {@code vecopt.schedule}, which know nothing of each
 * other: a schedule is a function of the step, the optimizer takes the value.
 *
 * <pre>{@code
 * Preset p = Preset.BERT_FINE_TUNING;
 * Schedule schedule = p.schedule(totalSteps);               // linear decay, 10% warmup, peak 5e-5
 * try (AdamW opt = AdamW.builder(params).options(p.adamOptions().orElseThrow()).build()) {
 *     for (long step = 0; step < totalSteps; step++) {
 *         // ... forward, backward ...
 *         opt.step(schedule.lr(step));
 *     }
 * }
 * }</pre>
 */
public enum Preset {
    /** Pre-training an LLM: AdamW (0.9, 0.95), wd 0.1; lr 3e-4 (range 1e-4..3e-4); cosine decay; warmup 1%. */
    LLM_PRETRAINING("pre-training LLM", 3e-4, 0.01),
    /** Fine-tuning an LLM: AdamW (0.9, 0.999), wd 0.01; lr 2e-5 (range 1e-5..5e-5); linear decay; warmup 3%. */
    LLM_FINE_TUNING("fine-tuning LLM", 2e-5, 0.03),
    /** Fine-tuning BERT: AdamW (0.9, 0.999), wd 0.01; lr 5e-5 (range 2e-5..5e-5); linear decay; warmup 10%. */
    BERT_FINE_TUNING("fine-tuning BERT", 5e-5, 0.10),
    /**
     * Training a CNN: SGD with momentum 0.9; lr 1e-3; step decay, no warmup. The table does not say how the steps
     * fall: here x0.1 at each third of the run (the classic 30/60/90-epoch ImageNet recipe).
     */
    CNN("training CNN", 1e-3, 0.0);

    private final String title;
    private final double peakLr;
    private final double warmupFraction;

    Preset(String title, double peakLr, double warmupFraction) {
        this.title = title;
        this.peakLr = peakLr;
        this.warmupFraction = warmupFraction;
    }

    /** The row name of the table, e.g. {@code "fine-tuning BERT"}. */
    public String title() {
        return title;
    }

    /** The learning rate the schedule peaks at. */
    public double peakLr() {
        return peakLr;
    }

    /**
     * Warmup steps for a run of {@code totalSteps}: {@code int(fraction * totalSteps)}, as
     * {@link WarmupSteps#fraction(double, long)} counts them; 0 for {@link #CNN}. The schedule of
     * {@link #schedule(long)} reaches its peak at this step.
     */
    public long warmupSteps(long totalSteps) {
        return WarmupSteps.fraction(warmupFraction, totalSteps);
    }

    /**
     * The preset's schedule over a run of {@code totalSteps} (at least 3 for the CNN's thirds): for the LLM
     * pre-training row {@link Schedules#warmupCosine} to 0, for the fine-tuning rows Hugging Face's
     * {@link HuggingFace#linearScheduleWithWarmup}, for the CNN {@link Schedules#stepDecay}.
     */
    public Schedule schedule(long totalSteps) {
        Require.positive("totalSteps", totalSteps);
        long w = warmupSteps(totalSteps);
        return switch (this) {
            case LLM_PRETRAINING -> Schedules.warmupCosine(peakLr, 0.0, w, totalSteps);
            case LLM_FINE_TUNING, BERT_FINE_TUNING -> HuggingFace.linearScheduleWithWarmup(peakLr, w, totalSteps);
            case CNN -> Schedules.stepDecay(peakLr, 0.1, (totalSteps + 2) / 3); // two decays inside the run
        };
    }

    /** The AdamW options for the Adam-family presets, empty for {@link #CNN}. */
    public Optional<AdamOptions> adamOptions() {
        return switch (this) {
            case LLM_PRETRAINING -> Optional.of(AdamOptions.LLM_PRETRAINING);
            case LLM_FINE_TUNING, BERT_FINE_TUNING -> Optional.of(AdamOptions.FINE_TUNING);
            case CNN -> Optional.empty();
        };
    }

    /** The SGD options for {@link #CNN}, empty otherwise. */
    public Optional<SgdOptions> sgdOptions() {
        return this == CNN ? Optional.of(SgdOptions.MOMENTUM) : Optional.empty();
    }
}
