package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one Adam/AdamW parameter group. The learning rate is not here: it comes with each
 * {@link Optimizer#step(double)} (from a schedule) and is multiplied by {@code lrScale} for this group.
 *
 * <pre>{@code
 * AdamOptions decay   = AdamOptions.LLM_PRETRAINING;                 // betas (0.9, 0.95), wd 0.1
 * AdamOptions noDecay = AdamOptions.LLM_PRETRAINING.withWeightDecay(0);
 * }</pre>
 *
 * @param beta1       decay of the first moment, in [0, 1)
 * @param beta2       decay of the second moment, in [0, 1)
 * @param eps         added to the bias-corrected {@code sqrt(v)}; finite, > 0
 * @param weightDecay decoupled ({@link AdamW}) or L2 ({@link Adam}) weight decay; finite, >= 0
 * @param amsgrad     keep the running maximum of {@code v} and divide by it (Reddi et al., PyTorch's {@code amsgrad})
 * @param lrScale     this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize    maximize the objective: PyTorch's {@code maximize}, the gradient negated before anything else
 *                    (before the L2 term of {@link Adam}); default false
 */
public record AdamOptions(double beta1, double beta2, double eps, double weightDecay, boolean amsgrad, double lrScale,
                          boolean maximize)
        implements GroupOptions {
    /** PyTorch's {@code torch.optim.AdamW} defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
    public static final AdamOptions ADAMW_DEFAULTS = new AdamOptions(0.9, 0.999, 1e-8, 0.01, false, 1.0, false);
    /** PyTorch's {@code torch.optim.Adam} defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public static final AdamOptions ADAM_DEFAULTS = new AdamOptions(0.9, 0.999, 1e-8, 0.0, false, 1.0, false);
    /**
     * LLM pre-training (the optimizer guide "Optimizers and Schedules", Common Configurations): AdamW, betas
     * (0.9, 0.95), weight decay 0.1.
     */
    public static final AdamOptions LLM_PRETRAINING = new AdamOptions(0.9, 0.95, 1e-8, 0.1, false, 1.0, false);
    /**
     * Fine-tuning (the optimizer guide "Optimizers and Schedules", Common Configurations): AdamW, betas
     * (0.9, 0.999), weight decay 0.01.
     */
    public static final AdamOptions FINE_TUNING = new AdamOptions(0.9, 0.999, 1e-8, 0.01, false, 1.0, false);

    public AdamOptions {
        Require.unitInterval("beta1", beta1);
        Require.unitInterval("beta2", beta2);
        Require.positive("eps", eps);
        Require.nonNegative("weightDecay", weightDecay);
        Require.nonNegative("lrScale", lrScale);
    }

    /** Options that minimize ({@code maximize} false). */
    public AdamOptions(double beta1, double beta2, double eps, double weightDecay, boolean amsgrad, double lrScale) {
        this(beta1, beta2, eps, weightDecay, amsgrad, lrScale, false);
    }

    public AdamOptions withBetas(double beta1, double beta2) {
        return new AdamOptions(beta1, beta2, eps, weightDecay, amsgrad, lrScale, maximize);
    }

    public AdamOptions withEps(double eps) {
        return new AdamOptions(beta1, beta2, eps, weightDecay, amsgrad, lrScale, maximize);
    }

    public AdamOptions withWeightDecay(double weightDecay) {
        return new AdamOptions(beta1, beta2, eps, weightDecay, amsgrad, lrScale, maximize);
    }

    public AdamOptions withAmsgrad(boolean amsgrad) {
        return new AdamOptions(beta1, beta2, eps, weightDecay, amsgrad, lrScale, maximize);
    }

    public AdamOptions withLrScale(double lrScale) {
        return new AdamOptions(beta1, beta2, eps, weightDecay, amsgrad, lrScale, maximize);
    }

    public AdamOptions withMaximize(boolean maximize) {
        return new AdamOptions(beta1, beta2, eps, weightDecay, amsgrad, lrScale, maximize);
    }
}
