package vecopt.optim;

import vecopt.param.ParamSet;

/**
 * AdamW (Loshchilov and Hutter): Adam with decoupled weight decay, {@code p *= 1 - lr * wd} beside the adaptive
 * update rather than inside the gradient, with PyTorch's {@code torch.optim.AdamW} semantics (bias correction, eps
 * added after {@code sqrt(v) / sqrt(1 - beta2^t)}, optional AMSGrad).
 *
 * <pre>{@code
 * try (AdamW opt = AdamW.builder(params)
 *         .options(AdamOptions.LLM_PRETRAINING)
 *         .group("no_decay", AdamOptions.LLM_PRETRAINING.withWeightDecay(0), t -> t.name().endsWith(".bias"))
 *         .build()) {
 *     for (long step = 0; step < total; step++) {
 *         // ... backward pass fills the gradient buffers ...
 *         opt.step(schedule.lr(step));
 *     }
 * }
 * }</pre>
 */
public final class AdamW extends AdamFamily {
    private AdamW(Builder b) {
        super(b, true);
    }

    /** A builder whose default group has {@link AdamOptions#ADAMW_DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    public static final class Builder extends Optimizer.Builder<AdamOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, AdamOptions.ADAMW_DEFAULTS);
        }

        public AdamW build() {
            return new AdamW(this);
        }
    }
}
