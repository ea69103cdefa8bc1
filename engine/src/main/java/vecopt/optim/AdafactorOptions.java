package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one {@link Adafactor} parameter group, with the names (in Java case) and defaults of Hugging
 * Face's {@code transformers.optimization.Adafactor} ({@code src/transformers/optimization.py}); HF's pair
 * {@code eps=(1e-30, 1e-3)} is {@code eps1}, {@code eps2}, and HF's optional {@code lr} and {@code beta1} are
 * {@code null} for Python's {@code None}.
 *
 * <p>The learning rate: HF's {@code lr} (with {@code relativeStep} false) or HF's relative step size
 * {@code min(1e-2, 1/sqrt(step))} (with {@code relativeStep}, {@code 1e-6 * step} in place of {@code 1e-2} under
 * {@code warmupInit}), times the {@link Optimizer#step(double)} argument and this group's {@code lrScale}, which
 * are factors here (pass 1.0 for HF's behaviour; a schedule's value to scale it), then, with
 * {@code scaleParameter}, times {@code max(eps2, RMS(p))}.
 *
 * <pre>{@code
 * AdafactorOptions hf = AdafactorOptions.DEFAULTS;                    // relative step, scale_parameter, no beta1
 * AdafactorOptions t5 = AdafactorOptions.DEFAULTS.manual(1e-3).withScaleParameter(false);
 * }</pre>
 *
 * @param lr             HF's external learning rate, or null (HF's None); must be null with {@code relativeStep}
 *                       (HF: "Cannot combine manual lr and relative_step=True"), and given, finite and >= 0
 *                       without it (HF fails at its first step then)
 * @param eps1           HF's {@code eps[0]}: added to {@code grad^2}; finite, >= 0
 * @param eps2           HF's {@code eps[1]}: the least parameter scale under {@code scaleParameter}; finite, >= 0
 * @param clipThreshold  HF's {@code clip_threshold}: the update is divided by {@code max(1, RMS(update) /
 *                       clipThreshold)}; finite, > 0
 * @param decayRate      HF's {@code decay_rate}: {@code beta2t = 1 - step^decayRate}; finite, at most 0
 * @param beta1          HF's {@code beta1}: decay of the first moment {@code exp_avg}, or null for none (the
 *                       default); in [0, 1]
 * @param weightDecay    HF's {@code weight_decay}: {@code p -= weightDecay * lr * p} before the update; finite, >= 0
 * @param scaleParameter HF's {@code scale_parameter}: the learning rate times {@code max(eps2, RMS(p))}
 * @param relativeStep   HF's {@code relative_step}: the time-dependent step size instead of {@code lr}
 * @param warmupInit     HF's {@code warmup_init}: the relative step grows as {@code 1e-6 * step}; needs
 *                       {@code relativeStep} (HF: "warmup_init=True requires relative_step=True")
 * @param lrScale        this group's factor of the learning rate; finite, >= 0 (not HF's)
 * @param maximize       maximize the objective (the gradient negated first; not HF's)
 */
public record AdafactorOptions(Double lr, double eps1, double eps2, double clipThreshold, double decayRate,
                               Double beta1, double weightDecay, boolean scaleParameter, boolean relativeStep,
                               boolean warmupInit, double lrScale, boolean maximize) implements GroupOptions {
    /**
     * HF's defaults: lr None, eps (1e-30, 1e-3), clip_threshold 1.0, decay_rate -0.8, beta1 None, weight_decay 0,
     * scale_parameter, relative_step, no warmup_init. HF checks only the two combinations of {@code lr},
     * {@code relative_step} and {@code warmup_init}; the ranges above are checked here too (a deliberate difference:
     * outside them HF's formula is meaningless, e.g. a positive decay_rate makes {@code beta2t} negative).
     */
    public static final AdafactorOptions DEFAULTS = new AdafactorOptions(null, 1e-30, 1e-3, 1.0, -0.8, null, 0.0,
            true, true, false, 1.0, false);

    public AdafactorOptions {
        if (lr != null && relativeStep) {
            throw new IllegalArgumentException("lr: cannot combine a manual lr (" + lr + ") with relativeStep=true"
                    + " (HF's relative_step); set relativeStep(false) or lr null");
        }
        if (warmupInit && !relativeStep) {
            throw new IllegalArgumentException("warmupInit=true requires relativeStep=true, got relativeStep=false");
        }
        if (lr == null && !relativeStep) {
            throw new IllegalArgumentException("lr: relativeStep=false needs an lr, got null");
        }
        if (lr != null) {
            Require.nonNegative("lr", lr);
        }
        Require.nonNegative("eps1", eps1);
        Require.nonNegative("eps2", eps2);
        Require.positive("clipThreshold", clipThreshold);
        if (!(decayRate <= 0) || decayRate == Double.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("decayRate must be finite and <= 0, got " + decayRate);
        }
        if (beta1 != null) {
            Require.closed("beta1", beta1, 0, 1);
        }
        Require.nonNegative("weightDecay", weightDecay);
        Require.nonNegative("lrScale", lrScale);
    }

    public AdafactorOptions withLr(Double lr) {
        return new AdafactorOptions(lr, eps1, eps2, clipThreshold, decayRate, beta1, weightDecay, scaleParameter,
                relativeStep, warmupInit, lrScale, maximize);
    }

    public AdafactorOptions withEps(double eps1, double eps2) {
        return new AdafactorOptions(lr, eps1, eps2, clipThreshold, decayRate, beta1, weightDecay, scaleParameter,
                relativeStep, warmupInit, lrScale, maximize);
    }

    public AdafactorOptions withClipThreshold(double clipThreshold) {
        return new AdafactorOptions(lr, eps1, eps2, clipThreshold, decayRate, beta1, weightDecay, scaleParameter,
                relativeStep, warmupInit, lrScale, maximize);
    }

    public AdafactorOptions withDecayRate(double decayRate) {
        return new AdafactorOptions(lr, eps1, eps2, clipThreshold, decayRate, beta1, weightDecay, scaleParameter,
                relativeStep, warmupInit, lrScale, maximize);
    }

    public AdafactorOptions withBeta1(Double beta1) {
        return new AdafactorOptions(lr, eps1, eps2, clipThreshold, decayRate, beta1, weightDecay, scaleParameter,
                relativeStep, warmupInit, lrScale, maximize);
    }

    public AdafactorOptions withWeightDecay(double weightDecay) {
        return new AdafactorOptions(lr, eps1, eps2, clipThreshold, decayRate, beta1, weightDecay, scaleParameter,
                relativeStep, warmupInit, lrScale, maximize);
    }

    public AdafactorOptions withScaleParameter(boolean scaleParameter) {
        return new AdafactorOptions(lr, eps1, eps2, clipThreshold, decayRate, beta1, weightDecay, scaleParameter,
                relativeStep, warmupInit, lrScale, maximize);
    }

    /** HF's relative_step; turning it off without an lr in the same call is refused: use {@link #manual(double)}. */
    public AdafactorOptions withRelativeStep(boolean relativeStep) {
        return new AdafactorOptions(lr, eps1, eps2, clipThreshold, decayRate, beta1, weightDecay, scaleParameter,
                relativeStep, warmupInit, lrScale, maximize);
    }

    public AdafactorOptions withWarmupInit(boolean warmupInit) {
        return new AdafactorOptions(lr, eps1, eps2, clipThreshold, decayRate, beta1, weightDecay, scaleParameter,
                relativeStep, warmupInit, lrScale, maximize);
    }

    /** HF's {@code relative_step=False, lr=lr} (warmup_init off), the rest of these options kept. */
    public AdafactorOptions manual(double lr) {
        return new AdafactorOptions(lr, eps1, eps2, clipThreshold, decayRate, beta1, weightDecay, scaleParameter,
                false, false, lrScale, maximize);
    }

    public AdafactorOptions withLrScale(double lrScale) {
        return new AdafactorOptions(lr, eps1, eps2, clipThreshold, decayRate, beta1, weightDecay, scaleParameter,
                relativeStep, warmupInit, lrScale, maximize);
    }

    public AdafactorOptions withMaximize(boolean maximize) {
        return new AdafactorOptions(lr, eps1, eps2, clipThreshold, decayRate, beta1, weightDecay, scaleParameter,
                relativeStep, warmupInit, lrScale, maximize);
    }
}
