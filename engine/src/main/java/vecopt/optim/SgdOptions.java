package vecopt.optim;

import vecopt.check.Require;

/**
 * Hyperparameters of one SGD parameter group, with PyTorch's {@code torch.optim.SGD} semantics.
 *
 * <pre>{@code
 * SgdOptions nesterov = SgdOptions.MOMENTUM.withNesterov(true).withWeightDecay(5e-4);
 * }</pre>
 *
 * @param momentum    momentum factor, in [0, 1); 0 is plain SGD (no buffer is kept)
 * @param dampening   dampening of the gradient in the momentum update, in [0, 1]
 * @param weightDecay L2 penalty added to the gradient; finite, >= 0
 * @param nesterov    Nesterov momentum; needs momentum > 0 and dampening 0, as in PyTorch
 * @param lrScale     this group's multiplier of the step's learning rate; finite, >= 0
 * @param maximize    maximize the objective: PyTorch's {@code maximize}, the gradient negated before anything else
 *                    (before the L2 term); default false
 */
public record SgdOptions(double momentum, double dampening, double weightDecay, boolean nesterov, double lrScale,
                         boolean maximize)
        implements GroupOptions {
    /** Plain SGD. */
    public static final SgdOptions PLAIN = new SgdOptions(0, 0, 0, false, 1.0, false);
    /** SGD with momentum 0.9, the CNN configuration of the optimizer guide "Optimizers and Schedules". */
    public static final SgdOptions MOMENTUM = new SgdOptions(0.9, 0, 0, false, 1.0, false);

    public SgdOptions {
        Require.unitInterval("momentum", momentum);
        Require.closed("dampening", dampening, 0, 1);
        Require.nonNegative("weightDecay", weightDecay);
        Require.nonNegative("lrScale", lrScale);
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("nesterov needs momentum > 0 and dampening 0, got momentum "
                    + momentum + " and dampening " + dampening);
        }
    }

    /** Options that minimize ({@code maximize} false). */
    public SgdOptions(double momentum, double dampening, double weightDecay, boolean nesterov, double lrScale) {
        this(momentum, dampening, weightDecay, nesterov, lrScale, false);
    }

    public SgdOptions withMomentum(double momentum) {
        return new SgdOptions(momentum, dampening, weightDecay, nesterov, lrScale, maximize);
    }

    public SgdOptions withDampening(double dampening) {
        return new SgdOptions(momentum, dampening, weightDecay, nesterov, lrScale, maximize);
    }

    public SgdOptions withWeightDecay(double weightDecay) {
        return new SgdOptions(momentum, dampening, weightDecay, nesterov, lrScale, maximize);
    }

    public SgdOptions withNesterov(boolean nesterov) {
        return new SgdOptions(momentum, dampening, weightDecay, nesterov, lrScale, maximize);
    }

    public SgdOptions withLrScale(double lrScale) {
        return new SgdOptions(momentum, dampening, weightDecay, nesterov, lrScale, maximize);
    }

    public SgdOptions withMaximize(boolean maximize) {
        return new SgdOptions(momentum, dampening, weightDecay, nesterov, lrScale, maximize);
    }
}
