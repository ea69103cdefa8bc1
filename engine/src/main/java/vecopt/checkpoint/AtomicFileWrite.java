package vecopt.checkpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Replaces a file so that a crash at any moment leaves either the old file or the complete new one under its name:
 * the content goes to a temporary file in the same directory (same file system, so the rename is atomic), which is
 * forced to disk, atomically renamed over the target, and then the directory is forced so the rename itself is
 * durable. The temporary file's name starts with a dot and ends in {@code .tmp}; a crash may leave one behind, which
 * no reader mistakes for a checkpoint.
 */
final class AtomicFileWrite {
    static final String TEMP_SUFFIX = ".tmp";

    /** Writes the file's content to the channel from position 0. */
    interface Body {
        void write(FileChannel channel) throws IOException;
    }

    private AtomicFileWrite() {
    }

    /**
     * Writes {@code target} through {@code body}. With {@code force} false, neither the file nor the directory is
     * forced: the rename is still atomic for other processes, but a power failure may lose the file (or, on some
     * file systems, leave it empty).
     */
    static void write(Path target, Body body, boolean force) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        // A fresh name, created exclusively, with the process's usual permissions (Files.createTempFile would make
        // the checkpoint owner-only).
        Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toUnsignedString(java.util.concurrent.ThreadLocalRandom.current().nextLong(), 36)
                + TEMP_SUFFIX);
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.write(ch);
                if (force) {
                    ch.force(true);
                }
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(dir + ": this file system cannot rename atomically; checkpoints need it", e);
            }
            done = true;
            if (force) {
                forceDirectory(dir);
            }
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /**
     * Forces a directory's entries to disk (an fsync of the directory, which on Linux makes a rename durable). Where
     * the platform cannot open a directory as a channel (Windows), there is nothing to do: its renames are journaled.
     */
    static void forceDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            if (!System.getProperty("os.name", "").startsWith("Windows")) {
                throw e;
            }
        }
    }
}
