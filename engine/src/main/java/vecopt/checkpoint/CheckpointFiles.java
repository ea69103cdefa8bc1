package vecopt.checkpoint;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import vecopt.amp.GradScaler;
import vecopt.optim.Optimizer;

/**
 * A directory of checkpoints, one file per trainer step ({@code checkpoint-<step>.safetensors}, the step
 * zero-padded to 12 digits so a listing sorts), of which the newest {@code keep} are kept, so that a bad newest file
 * never leaves a run without a fallback.
 *
 * <pre>{@code
 * CheckpointFiles files = new CheckpointFiles(Path.of("ckpt"), 3);
 * long start = files.newest().isPresent() ? files.loadNewest(opt).globalStep() : 0;
 * for (long step = start; step < total; step++) {
 *     ... opt.step(schedule.lr(step));
 *     if ((step + 1) % 500 == 0) files.save(opt, step + 1);
 * }
 * }</pre>
 *
 * <p><b>Crash safety</b>: each file is written by {@link Checkpoint#save}: to a temporary file in this directory
 * (named {@code .checkpoint-<step>.safetensors.<random>.tmp}), forced to disk, atomically renamed into place, and
 * the directory forced. A crash at any moment leaves the previous checkpoints intact and at worst a temporary file,
 * which {@link #list()} never returns and the next {@link #save} deletes. Old checkpoints are deleted only after the
 * new one is durably in place. One process writes a directory at a time.
 */
public final class CheckpointFiles {
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d{1,19})\\.safetensors");
    private static final Pattern TEMP = Pattern.compile("\\.checkpoint-\\d{1,19}\\.safetensors\\..*\\.tmp");
    private final Path directory;
    private final int keep;

    /**
     * Checkpoints in {@code directory} (created if absent when the first is saved), keeping the newest {@code keep}.
     */
    public CheckpointFiles(Path directory, int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be >= 1, got " + keep);
        }
        this.directory = directory;
        this.keep = keep;
    }

    public Path directory() {
        return directory;
    }

    public int keep() {
        return keep;
    }

    /** The file of the checkpoint at trainer step {@code globalStep}. */
    public Path pathFor(long globalStep) {
        if (globalStep < 0) {
            throw new IllegalArgumentException("globalStep must be >= 0, got " + globalStep);
        }
        return directory.resolve(String.format("checkpoint-%012d.safetensors", globalStep));
    }

    /** Saves a checkpoint at {@code globalStep} (durably) and deletes all but the newest {@code keep}. */
    public Path save(Optimizer<?> opt, long globalStep) throws IOException {
        return save(opt, globalStep, Extras.none());
    }

    /** Saves a checkpoint with the trainer's extras at {@code globalStep} and deletes all but the newest {@code keep}. */
    public Path save(Optimizer<?> opt, long globalStep, Extras extras) throws IOException {
        return save(opt, globalStep, extras, null);
    }

    /**
     * As {@link #save(Optimizer, long, Extras)}, with {@code scaler}'s state when it is not null (an AMP run: load
     * with {@link #loadNewest(Optimizer, GradScaler)}).
     */
    public Path save(Optimizer<?> opt, long globalStep, Extras extras, GradScaler scaler) throws IOException {
        Files.createDirectories(directory);
        Path p = pathFor(globalStep);
        Checkpoint.save(p, opt, globalStep, extras, scaler, true);
        prune();
        return p;
    }

    /** The complete checkpoints here, newest (highest step) first; temporary files are never listed. */
    public List<Path> list() throws IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory)) {
            for (Path p : ds) {
                if (step(p) >= 0 && Files.isRegularFile(p)) {
                    out.add(p);
                }
            }
        }
        out.sort(Comparator.comparingLong(CheckpointFiles::step).reversed());
        return out;
    }

    /** The newest complete checkpoint, if any. */
    public Optional<Path> newest() throws IOException {
        List<Path> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
    }

    /**
     * Loads the newest checkpoint that passes validation, trying older ones when a newer one is corrupted
     * ({@link Restored#rejected()} says which and why). A file of another optimizer or model is not skipped: that
     * is a mistake in the run's set-up, and it throws at once.
     *
     * @throws CheckpointException when there is no checkpoint here, or none usable (the message gives each reason)
     */
    public Restored loadNewest(Optimizer<?> opt) throws IOException {
        return loadNewest(opt, null);
    }

    /**
     * As {@link #loadNewest(Optimizer)}, restoring {@code scaler} too when it is not null
     * ({@link Checkpoint#load(Path, Optimizer, GradScaler)}).
     *
     * <pre>{@code
     * Restored r = files.loadNewest(opt, scaler);   // an AMP run: the scaler's scale and growth tracker too
     * }</pre>
     */
    public Restored loadNewest(Optimizer<?> opt, GradScaler scaler) throws IOException {
        List<String> rejected = new ArrayList<>();
        for (Path p : list()) {
            try {
                return Checkpoint.load(p, opt, scaler).withRejected(rejected);
            } catch (CheckpointException e) {
                if (!e.damaged()) {
                    throw e;
                }
                rejected.add(e.getMessage());
            }
        }
        throw new CheckpointException(rejected.isEmpty() ? "no checkpoint in " + directory
                : "no usable checkpoint in " + directory + ": " + String.join("; ", rejected));
    }

    /** Deletes all but the newest {@code keep} checkpoints, and temporary files left by crashed saves. */
    void prune() throws IOException {
        List<Path> all = list();
        for (int i = keep; i < all.size(); i++) {
            Files.deleteIfExists(all.get(i));
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory)) {
            for (Path p : ds) {
                if (TEMP.matcher(p.getFileName().toString()).matches()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The step in a checkpoint's file name, or -1 for any other file. */
    static long step(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        if (!m.matches()) {
            return -1;
        }
        try {
            return Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
