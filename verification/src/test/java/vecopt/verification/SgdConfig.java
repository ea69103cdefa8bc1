package vecopt.verification;

import vecopt.optim.SgdOptions;

/** One SGD configuration under test. */
record SgdConfig(double momentum, double dampening, double weightDecay, boolean nesterov, double gradScale) {
    SgdOptions options() {
        return new SgdOptions(momentum, dampening, weightDecay, nesterov, 1.0);
    }
}
