package vecopt.monitor;

import java.util.List;

/**
 * What the {@link Monitor} recognises: the symptoms of the debugging table of the optimizer guide this project was
 * founded on ("loss not decreasing", "loss explodes (NaN)", "fine-tuning destroys the model"), split into the signals
 * an optimizer step can see, each with the guide's likely causes and remedies. The thresholds are stated on each
 * constant and in the {@link Monitor} class documentation.
 */
public enum Symptom {
    /** The gradient norm is exactly 0 on {@value Monitor#ZERO_STEPS} consecutive steps. */
    ZERO_GRADIENTS("gradients are all zero",
            List.of(any("the loss does not depend on these parameters (a detached graph, frozen or unused weights)"),
                    any("wrong optimizer configuration (the optimizer holds other tensors than the model trains)")),
            List.of(any("check the gradient values: they should be non-zero"),
                    any("verify that the optimizer updates the model's weights (its tensors are the model's)"))),
    /**
     * The gradient norm stays below {@value Monitor#VANISHING_FRACTION} of its median over the first
     * {@value Monitor#EARLY} steps for {@value Monitor#VANISHING_STEPS} consecutive steps.
     */
    VANISHING_GRADIENTS("gradients vanishing",
            List.of(any("learning rate too low to leave a flat region, or the model saturated (dead units)"),
                    any("a loss scale or gradient scale applied twice")),
            List.of(any("check the gradient values per layer"),
                    any("try a 10x higher lr"))),
    /**
     * One step's gradient norm is at least {@value Monitor#SPIKE_FACTOR} times the median of the previous
     * {@value Monitor#WINDOW} finite norms (with at least {@value Monitor#MIN_HISTORY} of them).
     */
    GRAD_NORM_SPIKE("gradient norm spike",
            List.of(any("learning rate too high"),
                    clip("no gradient clipping"),
                    warm("no warmup")),
            List.of(clip("add gradient clipping (max_norm=1.0)"),
                    any("reduce the lr by 10x"),
                    warm("add warmup (5% of steps)"),
                    any("check the data for numerical issues"))),
    /**
     * The median gradient norm of the last {@value Monitor#GROWTH_WINDOW} steps is at least
     * {@value Monitor#GROWTH_FACTOR} times the median of the {@value Monitor#GROWTH_WINDOW} steps before them.
     */
    GRAD_NORM_GROWING("gradient norm growing",
            List.of(any("learning rate too high"),
                    clip("no gradient clipping"),
                    warm("no warmup")),
            List.of(clip("add gradient clipping (max_norm=1.0)"),
                    any("reduce the lr by 10x"),
                    warm("add warmup (5% of steps)"))),
    /**
     * Clipping scales the gradients at this step and did on more than half of the last
     * {@value Monitor#CLIP_WINDOW} steps.
     */
    CLIPPING_MOSTLY("clipping active on most steps",
            List.of(any("learning rate too high: clipping then sets the step size, not the schedule"),
                    any("a clipping bound far below this model's usual gradient norm")),
            List.of(any("reduce the lr by 10x"),
                    any("compare the bound with the gradient norms the report shows"))),
    /**
     * At least {@value Monitor#SKIP_COUNT} of the last {@value Monitor#SKIP_WINDOW} steps were skipped as
     * non-finite.
     */
    NON_FINITE_SKIPS("repeated non-finite gradients",
            List.of(any("learning rate too high"),
                    clip("no gradient clipping"),
                    warm("no warmup"),
                    any("overflow in the data or the loss")),
            List.of(clip("add gradient clipping (max_norm=1.0)"),
                    any("reduce the lr by 10x"),
                    warm("add warmup (5% of steps)"),
                    any("check the data for numerical issues"))),
    /**
     * The median update/weight ratio ({@code ||delta p|| / ||p||}) of the last {@value Monitor#RATIO_WINDOW} steps
     * is below {@value Monitor#RATIO_LOW}, a hundredth of the usual ~1e-3 band.
     */
    UPDATES_NEGLIGIBLE("updates negligible relative to the weights",
            List.of(any("learning rate too low"),
                    any("warmup too long"),
                    any("weight decay or a schedule that reached 0")),
            List.of(any("try a 10x higher lr"),
                    any("reduce the warmup steps"))),
    /**
     * The median update/weight ratio of the last {@value Monitor#RATIO_WINDOW} steps is above
     * {@value Monitor#RATIO_HIGH}, a hundred times the usual ~1e-3 band.
     */
    UPDATES_TOO_LARGE("updates too large relative to the weights",
            List.of(any("learning rate too high"),
                    warm("no warmup")),
            List.of(any("reduce the lr by 10x"), warm("add warmup (5% of steps)"))),
    /** The loss is NaN or infinite. */
    LOSS_NAN("loss is NaN",
            List.of(any("learning rate too high"),
                    clip("missing gradient clipping"),
                    warm("no warmup")),
            List.of(clip("add gradient clipping (max_norm=1.0)"),
                    any("reduce the lr by 10x"),
                    warm("add warmup (5% of steps)"),
                    any("check the data for numerical issues"))),
    /**
     * One step's loss is at least {@value Monitor#LOSS_SPIKE_FACTOR} times the median of the previous
     * {@value Monitor#WINDOW} losses (with at least {@value Monitor#MIN_HISTORY} of them).
     */
    LOSS_SPIKE("loss spike",
            List.of(any("learning rate too high"),
                    clip("no gradient clipping"),
                    warm("no warmup"),
                    any("a bad batch")),
            List.of(clip("add gradient clipping (max_norm=1.0)"),
                    warm("add warmup (5% of steps)"),
                    any("reduce the lr by 10x"))),
    /**
     * After {@value Monitor#FLAT_STEPS} losses, the median of the last {@value Monitor#WINDOW} is above
     * {@value Monitor#FLAT_FRACTION} of the median of the first {@value Monitor#WINDOW}.
     */
    LOSS_FLAT("loss not decreasing",
            List.of(any("learning rate too low"),
                    any("warmup too long"),
                    any("wrong optimizer configuration")),
            List.of(any("try a 10x higher lr"),
                    any("reduce the warmup steps"),
                    any("check the gradient values (non-zero)"),
                    any("verify that the optimizer updates the weights"))),
    /**
     * The lr still rises after {@value Monitor#RAMP_FRACTION} of the declared run length (warmups usually take 1% to
     * 10% of the steps; the guide's default is 5%).
     */
    LR_STILL_RAMPING("lr still ramping",
            List.of(any("warmup too long for this run"),
                    any("a warmup given in steps for a run shorter than planned")),
            List.of(any("reduce the warmup steps (5% of steps is the guide's default)"))),
    /**
     * In a run declared as fine-tuning, the lr is within {@value Monitor#FINE_TUNING_RATIO}x of the pre-training lr
     * (the guide: fine-tuning lr 10-100x smaller than pre-training), or above {@value Monitor#FINE_TUNING_MAX} when
     * the pre-training lr is not known.
     */
    FINE_TUNING_LR_HIGH("fine-tuning lr in the pre-training range",
            List.of(any("learning rate too high for fine-tuning: it overwrites what pre-training learned")),
            List.of(any("use a much smaller lr (1e-5 or lower)"),
                    warm("add warmup"),
                    any("reduce the weight decay"),
                    any("consider LoRA instead of full fine-tuning")));

    private final String title;
    private final List<Advice> causes;
    private final List<Advice> remedies;

    Symptom(String title, List<Advice> causes, List<Advice> remedies) {
        this.title = title;
        this.causes = causes;
        this.remedies = remedies;
    }

    /** A cause or remedy, and whether it applies only to a run without clipping or without warmup. */
    record Advice(String text, boolean unlessClipping, boolean unlessWarmup) {
    }

    private static Advice any(String text) {
        return new Advice(text, false, false);
    }

    private static Advice clip(String text) {
        return new Advice(text, true, false);
    }

    private static Advice warm(String text) {
        return new Advice(text, false, true);
    }

    List<Advice> causeAdvice() {
        return causes;
    }

    List<Advice> remedyAdvice() {
        return remedies;
    }

    /** A short name, e.g. "gradient norm spike". */
    public String title() {
        return title;
    }

    /** The guide's likely causes, most likely first. */
    public List<String> causes() {
        return causes.stream().map(Advice::text).toList();
    }

    /** The guide's remedies, in the order it gives them. */
    public List<String> remedies() {
        return remedies.stream().map(Advice::text).toList();
    }
}
