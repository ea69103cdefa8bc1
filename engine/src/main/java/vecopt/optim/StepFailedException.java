package vecopt.optim;

/**
 * A kernel failed part-way through an update. Input is validated before the first element is written, so this is a
 * bug (the cause says where); some chunks may have been updated and others not, so the optimizer refuses to step
 * again: rebuild it and restore parameters and state from a checkpoint.
 */
public final class StepFailedException extends RuntimeException {
    StepFailedException(Throwable cause) {
        super("a vecopt kernel failed during the update (" + cause + "); parameters and state may be partly updated",
                cause);
    }
}
