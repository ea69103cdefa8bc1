package vecopt.bench;

import vecopt.kernel.AdamStep;

/**
 * The per-step float constants of an Adam-family step, computed exactly as {@link AdamStep#set} computes them (in
 * double, rounded once to float), for the peers that do not run the engine: the native kernel and the plain Java
 * loop. The engine's own step object is kept alongside, so all implementations use bitwise the same constants.
 */
final class AdamScalars {
    final float beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, decay, l2, negStep, invBc2, gradScale;
    final AdamStep engine;
    /** The settings in double, for the scalar reference. */
    final double lr, b1, b2, epsilon, weightDecay;
    final boolean decoupled, amsgrad;
    final long t;

    /** AdamW's LLM-pretraining settings at step {@code t}: lr 3e-4, betas (0.9, 0.95), eps 1e-8, weight decay 0.1. */
    static AdamScalars of(String variant, long t) {
        return switch (variant) {
            case "adamw" -> new AdamScalars(3e-4, 0.9, 0.95, 1e-8, 0.1, true, false, t);
            case "adam_l2" -> new AdamScalars(3e-4, 0.9, 0.95, 1e-8, 0.1, false, false, t);
            case "amsgrad" -> new AdamScalars(3e-4, 0.9, 0.95, 1e-8, 0.1, true, true, t);
            default -> throw new IllegalArgumentException("variant must be adamw, adam_l2 or amsgrad, got '" + variant + "'");
        };
    }

    AdamScalars(double lr, double b1, double b2, double eps, double wd, boolean decoupled, boolean amsgrad, long t) {
        this.engine = new AdamStep().prepare(new AdamStep.Hyper(b1, b2, eps, wd, decoupled, amsgrad), lr, t, 1.0);
        this.lr = lr;
        this.b1 = b1;
        this.b2 = b2;
        this.epsilon = eps;
        this.weightDecay = wd;
        this.decoupled = decoupled;
        this.amsgrad = amsgrad;
        this.t = t;
        this.beta1 = (float) b1;
        this.oneMinusBeta1 = (float) (1.0 - b1);
        this.beta2 = (float) b2;
        this.oneMinusBeta2 = (float) (1.0 - b2);
        this.eps = (float) eps;
        this.decay = engine.decay();
        this.l2 = decoupled ? 0f : (float) wd;
        this.negStep = engine.negStepSize();
        this.invBc2 = engine.invSqrtBc2();
        this.gradScale = 1f;
    }
}
