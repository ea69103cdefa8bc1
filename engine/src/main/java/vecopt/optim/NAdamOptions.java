package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one {@link NAdam} parameter group, with PyTorch's {@code torch.optim.NAdam} names (in Java
 * case) and defaults. The learning rate comes with each {@link Optimizer#step(double)}, times {@code lrScale}.
 *
 * <pre>{@code
 * NAdamOptions o = NAdamOptions.DEFAULTS.withWeightDecay(0.01).withDecoupledWeightDecay(true);   // NAdamW
 * }</pre>
 *
 * @param beta1                decay of {@code exp_avg}, in [0, 1)
 * @param beta2                decay of {@code exp_avg_sq}, in [0, 1)
 * @param eps                  added to the root of the bias-corrected {@code exp_avg_sq}; finite, > 0
 *                             (PyTorch accepts 0, which divides 0 by 0 for a zero gradient on fresh state)
 * @param weightDecay          L2 penalty added to the gradient, or decoupled decay (below); finite, >= 0
 * @param momentumDecay        PyTorch's {@code momentum_decay} (psi in {@code mu_t = beta1 (1 - 0.5 0.96^(t psi))});
 *                             finite, >= 0
 * @param decoupledWeightDecay PyTorch's {@code decoupled_weight_decay}: {@code p *= 1 - lr * weightDecay} as AdamW
 *                             (NAdamW) instead of the L2 term
 * @param lrScale              this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize             maximize the objective (PyTorch's {@code maximize}: the gradient negated first)
 */
public record NAdamOptions(double beta1, double beta2, double eps, double weightDecay, double momentumDecay,
                           boolean decoupledWeightDecay, double lrScale, boolean maximize) implements GroupOptions {
    /**
     * PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0, momentum_decay 4e-3, L2 decay (its default
     * lr, 2e-3, is the caller's).
     */
    public static final NAdamOptions DEFAULTS = new NAdamOptions(0.9, 0.999, 1e-8, 0, 4e-3, false, 1.0, false);

    public NAdamOptions {
        Require.unitInterval("beta1", beta1);
        Require.unitInterval("beta2", beta2);
        Require.positive("eps", eps);
        Require.nonNegative("weightDecay", weightDecay);
        Require.nonNegative("momentumDecay", momentumDecay);
        Require.nonNegative("lrScale", lrScale);
    }

    public NAdamOptions withBetas(double beta1, double beta2) {
        return new NAdamOptions(beta1, beta2, eps, weightDecay, momentumDecay, decoupledWeightDecay, lrScale, maximize);
    }

    public NAdamOptions withEps(double eps) {
        return new NAdamOptions(beta1, beta2, eps, weightDecay, momentumDecay, decoupledWeightDecay, lrScale, maximize);
    }

    public NAdamOptions withWeightDecay(double weightDecay) {
        return new NAdamOptions(beta1, beta2, eps, weightDecay, momentumDecay, decoupledWeightDecay, lrScale, maximize);
    }

    public NAdamOptions withMomentumDecay(double momentumDecay) {
        return new NAdamOptions(beta1, beta2, eps, weightDecay, momentumDecay, decoupledWeightDecay, lrScale, maximize);
    }

    public NAdamOptions withDecoupledWeightDecay(boolean decoupledWeightDecay) {
        return new NAdamOptions(beta1, beta2, eps, weightDecay, momentumDecay, decoupledWeightDecay, lrScale, maximize);
    }

    public NAdamOptions withLrScale(double lrScale) {
        return new NAdamOptions(beta1, beta2, eps, weightDecay, momentumDecay, decoupledWeightDecay, lrScale, maximize);
    }

    public NAdamOptions withMaximize(boolean maximize) {
        return new NAdamOptions(beta1, beta2, eps, weightDecay, momentumDecay, decoupledWeightDecay, lrScale, maximize);
    }
}
