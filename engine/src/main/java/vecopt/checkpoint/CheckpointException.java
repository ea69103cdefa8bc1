package vecopt.checkpoint;

import java.io.IOException;

/**
 * A checkpoint file that cannot be used: not safetensors, truncated, corrupted (a checksum differs), or not a
 * checkpoint of the optimizer it is being loaded into. The message names the file, the tensor or group, and what
 * differs. When it is thrown by a load, nothing in memory has been changed.
 *
 * <pre>{@code
 * try {
 *     Checkpoint.load(path, opt);
 * } catch (CheckpointException e) {
 *     if (e.damaged()) { ... try an older file ... } else throw e;   // another model or optimizer: a set-up error
 * }
 * }</pre>
 */
public class CheckpointException extends IOException {
    private final boolean damaged;

    public CheckpointException(String message) {
        this(message, false);
    }

    CheckpointException(String message, boolean damaged) {
        super(message);
        this.damaged = damaged;
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
        this.damaged = false;
    }

    /**
     * For a file whose bytes are damaged (truncated, a checksum, a broken header), rather than of another run; public
     * for the formats built on this one (the sharded checkpoints of vecopt-spark, whose manifest can be damaged too).
     */
    public static CheckpointException damage(String message) {
        return new CheckpointException(message, true);
    }

    /**
     * True when the file's bytes are damaged (truncated, a checksum that differs, a header that is not safetensors),
     * false when it is a sound file that does not fit (another optimizer, another model).
     */
    public boolean damaged() {
        return damaged;
    }
}
