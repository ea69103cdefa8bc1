package vecopt.bench;

import vecopt.kernel.SgdStep;

/**
 * The per-step float constants of SGD with momentum, as {@link SgdStep#set} computes them, for the native and plain
 * Java peers; the engine's step object alongside. Always a step after the first (the momentum buffer exists), which
 * is the steady state of training.
 */
final class SgdScalars {
    final float negLr, momentum, oneMinusDampening, weightDecay, gradScale;
    final boolean nesterov;
    final SgdStep engine;
    /** The settings in double, for the scalar reference. */
    final double lr, momentumD, dampening, weightDecayD;

    /** lr 0.01, momentum 0.9, no dampening, weight decay 1e-4; "momentum" or "nesterov". */
    static SgdScalars of(String variant) {
        boolean nesterov = switch (variant) {
            case "momentum" -> false;
            case "nesterov" -> true;
            default -> throw new IllegalArgumentException("variant must be momentum or nesterov, got '" + variant + "'");
        };
        return new SgdScalars(0.01, 0.9, 0.0, 1e-4, nesterov);
    }

    SgdScalars(double lr, double momentum, double dampening, double wd, boolean nesterov) {
        this.engine = new SgdStep().prepare(new SgdStep.Hyper(momentum, dampening, wd, nesterov), lr, 2, 1.0); // a later step
        this.lr = lr;
        this.momentumD = momentum;
        this.dampening = dampening;
        this.weightDecayD = wd;
        this.negLr = (float) -lr;
        this.momentum = (float) momentum;
        this.oneMinusDampening = (float) (1.0 - dampening);
        this.weightDecay = (float) wd;
        this.gradScale = 1f;
        this.nesterov = nesterov;
    }
}
