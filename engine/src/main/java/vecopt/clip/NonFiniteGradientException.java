package vecopt.clip;

/** The gradients held a NaN or an infinity and the policy was {@link NonFinite#THROW}; nothing was written. */
public final class NonFiniteGradientException extends NonFiniteException {
    public NonFiniteGradientException(String tensor, long index, float value) {
        super("gradient", tensor, index, value);
    }
}
