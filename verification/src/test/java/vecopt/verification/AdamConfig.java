package vecopt.verification;

import vecopt.optim.AdamOptions;

/**
 * One Adam-family configuration under test; {@code decoupled} selects AdamW (true) or Adam's L2 form (false),
 * {@code gradScale} the clipping coefficient applied inside the kernel (1 when not clipping), {@code maximize}
 * PyTorch's {@code maximize}.
 */
record AdamConfig(boolean decoupled, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad,
                  double gradScale, boolean maximize) {
    /** The gradient factor as the kernel applies it: the float coefficient, negated under maximize (exact). */
    double signedScale() {
        return maximize ? -(float) gradScale : (float) gradScale;
    }

    AdamOptions options() {
        return new AdamOptions(beta1, beta2, eps, weightDecay, amsgrad, 1.0, maximize);
    }

    @Override
    public String toString() {
        return (decoupled ? "AdamW" : "Adam") + (amsgrad ? "+AMSGrad" : "") + "(beta1=" + beta1 + ", beta2=" + beta2
                + ", eps=" + eps + ", wd=" + weightDecay + (gradScale != 1 ? ", gradScale=" + gradScale : "")
                + (maximize ? ", maximize" : "") + ")";
    }
}
