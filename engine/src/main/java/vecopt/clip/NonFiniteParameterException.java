package vecopt.clip;

/**
 * A parameter was NaN or infinite before an update, the optimizer was built with {@code checkParams(true)} and the
 * policy was {@link NonFinite#THROW}; nothing was written.
 */
public final class NonFiniteParameterException extends RuntimeException {
    private final String tensor;
    private final long index;

    public NonFiniteParameterException(String tensor, long index, float value) {
        super("non-finite parameter " + value + " in tensor '" + tensor + "' at element " + index
                + "; no parameter was changed");
        this.tensor = tensor;
        this.index = index;
    }

    /** Name of the first tensor (in parameter-set order) holding a non-finite parameter. */
    public String tensor() {
        return tensor;
    }

    /** Index of the first non-finite element within that tensor. */
    public long index() {
        return index;
    }
}
