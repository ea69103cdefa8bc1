package vecopt.zero;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.CheckpointException;
import vecopt.checkpoint.Extras;
import vecopt.checkpoint.PieceFile;
import vecopt.checkpoint.Restored;
import vecopt.param.Tensor;

/**
 * Checkpoints of a sharded (ZeRO-1) run, one directory per save, and the resume of a run with any number of ranks
 * from them. A save of N ranks at trainer step S is the directory {@code step-<S, 12 digits>/} holding
 * <ul>
 * <li>{@code rank-<r>-of-<N>.safetensors}, one per rank: the rank's optimizer (master parameters and state of its
 *     slice, counters, options) in the engine's checkpoint format ({@link Checkpoint#save}, crash-safe: temporary
 *     file, forced, renamed atomically);</li>
 * <li>{@code manifest.properties}, written by rank 0 last, once every rank's file is in place, atomically (temporary
 *     file, forced, renamed, directory forced): N, the slice boundaries in the flat parameter space, the step, the
 *     steps skipped for a non-finite norm, the model's tensors (names and lengths, in order) and a CRC-32C of each
 *     rank's whole file.</li>
 * </ul>
 * A save is complete exactly when its manifest exists: a run killed mid-save leaves a directory without one, which
 * resuming never uses and a later save of the same step replaces.
 *
 * <p><b>Resume with another N.</b> Each rank of the new run reads only the files whose slices overlap its own, and
 * {@link Checkpoint#loadPieces} copies the overlapping ranges of the master parameters and every state variable into
 * its shard (checked first: checksums, optimizer kind, groups, coverage); the counters come along, the model's
 * parameter buffers are filled by one all-gather. The state is the saved state bit for bit, whatever the two N, so
 * the run continues exactly as a run of the new N that had reached this state would.
 *
 * <pre>{@code
 * ShardedCheckpoints ckpt = new ShardedCheckpoints(Path.of("/shared/ckpt"), 3);
 * try (ZeroStep zero = ZeroStep.create(model, comm, factory)) {
 *     long start = ckpt.resume(zero).map(Restored::globalStep).orElse(0L);   // any N saved before
 *     for (long step = start; step < total; step++) {
 *         // ... forward, backward ...
 *         zero.step(schedule.lr(step));
 *         if ((step + 1) % 100 == 0) ckpt.save(zero, step + 1, Extras.none());
 *     }
 * }
 * }</pre>
 *
 * <p>Every rank calls {@link #save} and {@link #resume} (they are collective), and every rank sees the directory (a
 * shared file system: NFS, a mounted bucket, or one machine's disk for local runs).
 */
public final class ShardedCheckpoints {
    static final String MANIFEST = "manifest.properties";
    static final String FORMAT = "vecopt-zero-checkpoint";
    private static final Pattern STEP_DIR = Pattern.compile("step-(\\d{12,19})");

    private final Path directory;
    private final int keep;

    /** Saves in {@code directory} (created at the first save), keeping the newest {@code keep} complete ones. */
    public ShardedCheckpoints(Path directory, int keep) {
        if (directory == null) {
            throw new IllegalArgumentException("directory must not be null");
        }
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be >= 1, got " + keep);
        }
        this.directory = directory;
        this.keep = keep;
    }

    public Path directory() {
        return directory;
    }

    /** The directory of the save at trainer step {@code globalStep}. */
    public Path pathFor(long globalStep) {
        if (globalStep < 0) {
            throw new IllegalArgumentException("globalStep must be >= 0, got " + globalStep);
        }
        return directory.resolve(String.format(Locale.ROOT, "step-%012d", globalStep));
    }

    /**
     * Saves every rank's shard at trainer step {@code globalStep} (collective: every rank calls it with the same
     * step); returns when the save is complete on every rank (its manifest written), and then deletes all but the
     * newest {@code keep} complete saves.
     *
     * @param extras the trainer's strings and tensors, kept in every rank's file (e.g. the data position)
     */
    public Path save(ZeroStep zero, long globalStep, Extras extras) throws IOException {
        if (zero == null || extras == null) {
            throw new IllegalArgumentException("zero and extras must not be null");
        }
        Path dir = pathFor(globalStep);
        Communicator comm = zero.comm();
        int rank = comm.rank(), n = comm.size();
        if (rank == 0) {
            Files.createDirectories(dir);
            // A save of this step may exist from an attempt that was killed or resumed from earlier: it stops being
            // complete before any of its files is replaced.
            if (Files.deleteIfExists(dir.resolve(MANIFEST))) {
                forceDirectory(dir);
            }
        }
        comm.barrier(); // the directory exists and holds no manifest
        Path file = dir.resolve(shardName(rank, n));
        Checkpoint.save(file, zero.optimizer(), globalStep, extras, true);
        double[] crcs = comm.allGather(new double[] {crc32c(file)}); // also: every rank's file is in place
        if (rank == 0) {
            writeManifest(dir, manifest(zero, globalStep, crcs));
        }
        comm.barrier(); // complete everywhere before anyone goes on
        if (rank == 0) {
            prune();
        }
        return dir;
    }

    /**
     * Restores {@code zero}'s shard from the newest complete save, whatever number of ranks wrote it (collective:
     * every rank calls it, before its first step); empty when there is no complete save.
     *
     * @return the restored trainer step, strings and tensors (the first step to run is {@code globalStep()})
     * @throws CheckpointException when the newest saves are of another model, or the ranks cannot agree on a save
     */
    public Optional<Restored> resume(ZeroStep zero) throws IOException {
        if (zero == null) {
            throw new IllegalArgumentException("zero must not be null");
        }
        Communicator comm = zero.comm();
        List<String> rejected = new ArrayList<>();
        long mine = -1;
        for (Path dir : complete()) {
            try {
                Manifest m = readManifest(dir);
                m.checkModel(zero.slices());
                for (int q : m.overlapping(zero.slices(), comm.rank())) {
                    m.verify(dir, q);
                }
                mine = m.step;
                break;
            } catch (CheckpointException e) {
                if (!e.damaged()) {
                    throw e;
                }
                rejected.add(e.getMessage());
            }
        }
        // Every rank loads the same save: the oldest of the ranks' newest usable ones (a rank that found a newer one
        // usable checks the older one again below).
        double[] all = comm.allGather(new double[] {mine});
        long chosen = Long.MAX_VALUE;
        for (double d : all) {
            chosen = Math.min(chosen, (long) d);
        }
        if (chosen < 0) {
            if (mine >= 0 || !rejected.isEmpty()) {
                throw new CheckpointException("rank " + comm.rank() + ": no save in " + directory + " is usable by"
                        + " every rank" + (rejected.isEmpty() ? "" : " (" + String.join("; ", rejected) + ")"));
            }
            return Optional.empty();
        }
        Path dir = pathFor(chosen);
        Manifest m = readManifest(dir);
        m.checkModel(zero.slices());
        List<PieceFile> files = new ArrayList<>();
        for (int q : m.overlapping(zero.slices(), comm.rank())) {
            m.verify(dir, q);
            files.add(new PieceFile(dir.resolve(m.files[q]), m.starts(zero.slices(), q)));
        }
        Map<String, Long> starts = new HashMap<>();
        for (RankSlices.Piece p : zero.slices().pieces(comm.rank())) {
            starts.put(p.tensor().name(), p.from());
        }
        Restored r = Checkpoint.loadPieces(files, zero.optimizer(), starts);
        zero.restored(m.skipped);
        return Optional.of(r);
    }

    /** The complete saves (with a manifest), newest first. */
    public List<Path> complete() throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(directory)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory)) {
            for (Path p : ds) {
                if (step(p) >= 0 && Files.isRegularFile(p.resolve(MANIFEST))) {
                    out.add(p);
                }
            }
        }
        out.sort(Comparator.comparingLong(ShardedCheckpoints::step).reversed());
        return out;
    }

    static String shardName(int rank, int ranks) {
        return "rank-" + rank + "-of-" + ranks + ".safetensors";
    }

    private static long step(Path p) {
        Matcher m = STEP_DIR.matcher(p.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Deletes the saves older than the newest {@code keep} complete ones, complete or not. */
    private void prune() throws IOException {
        List<Path> done = complete();
        if (done.size() <= keep) {
            return;
        }
        long oldestKept = step(done.get(keep - 1));
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory)) {
            for (Path p : ds) {
                long s = step(p);
                if (s >= 0 && s < oldestKept) {
                    // the manifest first: a save stops being complete before any of its files goes
                    Files.deleteIfExists(p.resolve(MANIFEST));
                    try (DirectoryStream<Path> files = Files.newDirectoryStream(p)) {
                        for (Path f : files) {
                            Files.deleteIfExists(f);
                        }
                    }
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static Properties manifest(ZeroStep zero, long globalStep, double[] crcs) {
        RankSlices s = zero.slices();
        Properties p = new Properties();
        p.setProperty("format", FORMAT);
        p.setProperty("format_version", "1");
        p.setProperty("ranks", Integer.toString(s.ranks()));
        p.setProperty("step", Long.toString(globalStep));
        p.setProperty("skipped_steps", Long.toString(zero.skippedSteps()));
        p.setProperty("total", Long.toString(s.total()));
        p.setProperty("slice_length", Long.toString(s.sliceLength()));
        List<Tensor> tensors = s.params().tensors();
        p.setProperty("tensors", Integer.toString(tensors.size()));
        for (int i = 0; i < tensors.size(); i++) {
            p.setProperty("tensor." + i + ".name", tensors.get(i).name());
            p.setProperty("tensor." + i + ".length", Long.toString(tensors.get(i).length()));
        }
        for (int q = 0; q < s.ranks(); q++) {
            p.setProperty("shard." + q + ".file", shardName(q, s.ranks()));
            p.setProperty("shard." + q + ".from", Long.toString(Math.min(s.total(), q * s.sliceLength())));
            p.setProperty("shard." + q + ".to", Long.toString(Math.min(s.total(), (q + 1) * s.sliceLength())));
            p.setProperty("shard." + q + ".crc32c", String.format(Locale.ROOT, "%08x", (long) crcs[q]));
        }
        return p;
    }

    /** Writes the manifest crash-safely: temporary file, forced, renamed atomically over the name, directory forced. */
    private static void writeManifest(Path dir, Properties p) throws IOException {
        StringWriter w = new StringWriter();
        p.store(w, "vecopt sharded checkpoint: complete when this file exists");
        byte[] bytes = w.toString().getBytes(StandardCharsets.ISO_8859_1);
        Path tmp = dir.resolve("." + MANIFEST + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36)
                + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            Files.move(tmp, dir.resolve(MANIFEST), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        forceDirectory(dir);
    }

    private static void forceDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            if (!System.getProperty("os.name", "").startsWith("Windows")) { // Windows journals its renames
                throw e;
            }
        }
    }

    /** The CRC-32C of a whole file, read in 1 MB pieces. */
    static long crc32c(Path file) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(b.clear()) > 0) {
                crc.update(b.flip());
            }
        }
        return crc.getValue();
    }

    static Manifest readManifest(Path dir) throws IOException {
        String name = dir.getFileName() + "/" + MANIFEST;
        Properties p = new Properties();
        try {
            p.load(new StringReader(Files.readString(dir.resolve(MANIFEST), StandardCharsets.ISO_8859_1)));
        } catch (IllegalArgumentException e) {
            throw CheckpointException.damage(name + ": not a properties file: " + e.getMessage());
        }
        return new Manifest(name, p);
    }

    /** A save's manifest, read and checked. */
    static final class Manifest {
        final String name;
        final int ranks;
        final long step;
        final long skipped;
        final long total;
        final long sliceLength;
        final String[] tensorNames;
        final long[] tensorLengths;
        final String[] files;
        final long[] from;
        final long[] to;
        final long[] crcs;

        Manifest(String name, Properties p) throws CheckpointException {
            this.name = name;
            if (!FORMAT.equals(p.getProperty("format"))) {
                throw CheckpointException.damage(name + ": 'format' is " + p.getProperty("format") + ", expected "
                        + FORMAT);
            }
            if (!"1".equals(p.getProperty("format_version"))) {
                throw new CheckpointException(name + ": format_version '" + p.getProperty("format_version")
                        + "' is not one this vecopt reads (1)");
            }
            ranks = (int) number(p, "ranks");
            step = number(p, "step");
            skipped = number(p, "skipped_steps");
            total = number(p, "total");
            sliceLength = number(p, "slice_length");
            int count = (int) number(p, "tensors");
            tensorNames = new String[count];
            tensorLengths = new long[count];
            for (int i = 0; i < count; i++) {
                tensorNames[i] = text(p, "tensor." + i + ".name");
                tensorLengths[i] = number(p, "tensor." + i + ".length");
            }
            files = new String[ranks];
            from = new long[ranks];
            to = new long[ranks];
            crcs = new long[ranks];
            for (int q = 0; q < ranks; q++) {
                files[q] = text(p, "shard." + q + ".file");
                if (files[q].contains("/") || files[q].contains("\\") || files[q].startsWith(".")) {
                    throw CheckpointException.damage(name + ": shard." + q + ".file '" + files[q] + "' is not a plain"
                            + " file name");
                }
                from[q] = number(p, "shard." + q + ".from");
                to[q] = number(p, "shard." + q + ".to");
                try {
                    crcs[q] = Long.parseLong(text(p, "shard." + q + ".crc32c"), 16);
                } catch (NumberFormatException e) {
                    throw CheckpointException.damage(name + ": shard." + q + ".crc32c is not 8 hex digits");
                }
                if (from[q] != (q == 0 ? 0 : to[q - 1]) || to[q] < from[q]) {
                    throw CheckpointException.damage(name + ": slice " + q + " is [" + from[q] + ", " + to[q]
                            + "), not contiguous with the slices before it");
                }
            }
            if (ranks < 1 || to[ranks - 1] != total) {
                throw CheckpointException.damage(name + ": the " + ranks + " slices do not cover the " + total
                        + " elements");
            }
        }

        /** The save must be of this model: the same tensors, in the same order, of the same lengths. */
        void checkModel(RankSlices here) throws CheckpointException {
            List<Tensor> tensors = here.params().tensors();
            if (tensors.size() != tensorNames.length) {
                throw new CheckpointException(name + ": the save has " + tensorNames.length + " tensors, this model "
                        + tensors.size());
            }
            for (int i = 0; i < tensorNames.length; i++) {
                Tensor t = tensors.get(i);
                if (!t.name().equals(tensorNames[i]) || t.length() != tensorLengths[i]) {
                    throw new CheckpointException(name + ": tensor " + i + " is '" + tensorNames[i] + "' of "
                            + tensorLengths[i] + " elements in the save, '" + t.name() + "' of " + t.length()
                            + " here");
                }
            }
        }

        /** The saved ranks whose slices overlap rank {@code rank}'s slice of {@code here}. */
        List<Integer> overlapping(RankSlices here, int rank) {
            long a = Math.min(here.total(), rank * here.sliceLength());
            long b = Math.min(here.total(), a + here.sliceLength());
            List<Integer> out = new ArrayList<>();
            for (int q = 0; q < ranks; q++) {
                if (from[q] < b && a < to[q]) {
                    out.add(q);
                }
            }
            return out;
        }

        /** Where each tensor's piece in saved rank {@code q}'s file begins, in the whole tensor. */
        Map<String, Long> starts(RankSlices here, int q) {
            Map<String, Long> out = new HashMap<>();
            List<Tensor> tensors = here.params().tensors();
            for (int i = 0; i < tensors.size(); i++) {
                long t0 = here.flatOffset(i), t1 = t0 + tensors.get(i).length();
                if (from[q] < t1 && t0 < to[q]) {
                    out.put(tensors.get(i).name(), Math.max(from[q], t0) - t0);
                }
            }
            return out;
        }

        /** Rank {@code q}'s file is there and has the CRC-32C the manifest recorded. */
        void verify(Path dir, int q) throws IOException {
            Path f = dir.resolve(files[q]);
            if (!Files.isRegularFile(f)) {
                throw CheckpointException.damage(name + ": shard " + q + " (" + files[q] + ") is missing");
            }
            long crc = crc32c(f);
            if (crc != crcs[q]) {
                throw CheckpointException.damage(name + ": shard " + q + " (" + files[q] + ") has crc32c "
                        + String.format(Locale.ROOT, "%08x", crc) + " but the manifest recorded "
                        + String.format(Locale.ROOT, "%08x", crcs[q]));
            }
        }

        private long number(Properties p, String key) throws CheckpointException {
            String v = text(p, key);
            try {
                long n = Long.parseLong(v);
                if (n < 0) {
                    throw new NumberFormatException();
                }
                return n;
            } catch (NumberFormatException e) {
                throw CheckpointException.damage(name + ": '" + key + "' must be an integer >= 0, got '" + v + "'");
            }
        }

        private String text(Properties p, String key) throws CheckpointException {
            String v = p.getProperty(key);
            if (v == null) {
                throw CheckpointException.damage(name + ": '" + key + "' is missing");
            }
            return v;
        }
    }
}
