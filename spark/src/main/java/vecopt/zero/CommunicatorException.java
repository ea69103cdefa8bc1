package vecopt.zero;

/**
 * A collective call failed: a peer did not join within the timeout, left the group, or the transport broke. The
 * message names the operation, this rank and, where known, the peer; the group is unusable afterwards.
 */
public final class CommunicatorException extends RuntimeException {
    public CommunicatorException(String message) {
        super(message);
    }

    public CommunicatorException(String message, Throwable cause) {
        super(message, cause);
    }
}
