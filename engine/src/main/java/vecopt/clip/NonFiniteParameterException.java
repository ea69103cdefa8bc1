package vecopt.clip;

/**
 * A parameter was NaN or infinite before an update, the optimizer was built with {@code checkParams(true)} and the
 * policy was {@link NonFinite#THROW}; nothing was written.
 */
public final class NonFiniteParameterException extends NonFiniteException {
    public NonFiniteParameterException(String tensor, long index, float value) {
        super("parameter", tensor, index, value);
    }
}
