package vecopt.clip;

/** The gradients held a NaN or an infinity and the policy was {@link NonFinite#THROW}; nothing was written. */
public final class NonFiniteGradientException extends RuntimeException {
    private final String tensor;
    private final long index;

    public NonFiniteGradientException(String tensor, long index, float value) {
        super("non-finite gradient " + value + " in tensor '" + tensor + "' at element " + index
                + "; no parameter was changed");
        this.tensor = tensor;
        this.index = index;
    }

    /** Name of the first tensor (in parameter-set order) whose gradient is not finite. */
    public String tensor() {
        return tensor;
    }

    /** Index of the first non-finite element within that tensor. */
    public long index() {
        return index;
    }
}
