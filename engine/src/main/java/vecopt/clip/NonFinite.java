package vecopt.clip;

/**
 * What a step does when the gradients hold a NaN or an infinity (found by the norm pass, tails included): the
 * optimizer guide's "loss explodes (NaN)" ("Optimizers and Schedules", Debugging).
 */
public enum NonFinite {
    /** Throw {@link NonFiniteGradientException} naming the first tensor affected; nothing is written. */
    THROW,
    /**
     * Skip the step: parameters, state and step counters stay exactly as they were, and the report says
     * {@code skipped()}, as AMP's GradScaler does on found-inf. The default.
     */
    SKIP,
    /**
     * Proceed as PyTorch's {@code clip_grad_norm_(error_if_nonfinite=False)} then {@code step()} do: the coefficient
     * becomes NaN (or 0 for an infinite norm) and the non-finite values flow into parameters and state.
     */
    PROCEED
}
