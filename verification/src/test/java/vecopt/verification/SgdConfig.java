package vecopt.verification;

import vecopt.optim.SgdOptions;

/** One SGD configuration under test. */
record SgdConfig(double momentum, double dampening, double weightDecay, boolean nesterov, double gradScale,
                 boolean maximize) {
    /** The gradient factor as the kernel applies it: the float coefficient, negated under maximize (exact). */
    double signedScale() {
        return maximize ? -(float) gradScale : (float) gradScale;
    }

    SgdOptions options() {
        return new SgdOptions(momentum, dampening, weightDecay, nesterov, 1.0, maximize);
    }
}
