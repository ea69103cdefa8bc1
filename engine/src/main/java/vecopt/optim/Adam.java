package vecopt.optim;

import vecopt.param.ParamSet;

/**
 * Adam (Kingma and Ba) with PyTorch's {@code torch.optim.Adam} semantics. Weight decay here is the classic L2 form,
 * {@code g += wd * p} before the moments, which the adaptive denominator then rescales (so high-variance parameters
 * are decayed less); use {@link AdamW} for decoupled decay. With weight decay 0 the two are bitwise identical.
 *
 * <pre>{@code
 * try (Adam opt = Adam.builder(params).options(AdamOptions.ADAM_DEFAULTS.withWeightDecay(1e-4)).build()) {
 *     opt.step(1e-3);
 * }
 * }</pre>
 */
public final class Adam extends AdamFamily {
    private Adam(Builder b) {
        super(b, false);
    }

    /** A builder whose default group has {@link AdamOptions#ADAM_DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    public static final class Builder extends Optimizer.Builder<AdamOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, AdamOptions.ADAM_DEFAULTS);
        }

        public Adam build() {
            return new Adam(this);
        }
    }
}
