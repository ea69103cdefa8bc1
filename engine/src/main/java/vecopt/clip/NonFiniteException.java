package vecopt.clip;

/**
 * A NaN or infinity was found before an update under policy {@link NonFinite#THROW}; nothing was written. The two
 * kinds, {@link NonFiniteGradientException} and {@link NonFiniteParameterException}, name the first tensor (in
 * parameter-set order) and element affected.
 */
public abstract sealed class NonFiniteException extends RuntimeException
        permits NonFiniteGradientException, NonFiniteParameterException {
    private final String tensor;
    private final long index;

    NonFiniteException(String what, String tensor, long index, float value) {
        super("non-finite " + what + " " + value + " in tensor '" + tensor + "' at element " + index
                + "; no parameter was changed");
        this.tensor = tensor;
        this.index = index;
    }

    /** Name of the first tensor (in parameter-set order) holding a non-finite value. */
    public String tensor() {
        return tensor;
    }

    /** Index of the first non-finite element within that tensor. */
    public long index() {
        return index;
    }
}
