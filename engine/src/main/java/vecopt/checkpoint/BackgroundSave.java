package vecopt.checkpoint;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import vecopt.access.Access;
import vecopt.access.OptimizerAccess;
import vecopt.amp.GradScaler;
import vecopt.memory.Storage;
import vecopt.optim.Optimizer;

/**
 * Saves checkpoints without stalling training for the write: {@link #start} copies the parameters and state into a
 * snapshot (one copy at memory bandwidth, the only time the training loop waits), then a background thread writes the
 * snapshot to {@link CheckpointFiles} (crash-safe, forced, old ones pruned) while the next steps run.
 *
 * <pre>{@code
 * try (BackgroundSave saves = new BackgroundSave(opt, new CheckpointFiles(dir, 3))) {
 *     for (long step = start; step < total; step++) {
 *         ... opt.step(schedule.lr(step));
 *         if ((step + 1) % 500 == 0) saves.start(step + 1);   // waits only for the snapshot
 *     }
 *     saves.await();                                         // the last file, or the failure
 * }
 * }</pre>
 *
 * <p>One save is in flight at a time: {@code start} first waits for the previous write (so saving more often than
 * the disk can write slows the loop to the disk's pace rather than queueing snapshots). A failed write is never
 * swallowed: {@link #await()} throws it, and if nobody awaited it, the next {@code start} (or {@link #close()})
 * throws it instead of starting. A failed write cannot damage an earlier checkpoint (it never reaches its name).
 *
 * <p>The snapshot memory (the size of the parameters plus the state, off-heap) is allocated once, here, and reused;
 * the optimizer's step is untouched and allocates nothing. {@code start} takes the optimizer's one-thread-at-a-time
 * guard while it copies. A {@code BackgroundSave} is driven by one thread (the training loop's): its own methods are
 * not meant to be called from several threads at once.
 */
public final class BackgroundSave implements AutoCloseable {
    private static final OptimizerAccess ACCESS = Access.optimizer();
    private final Optimizer<?> opt;
    private final CheckpointFiles files;
    private final Arena arena = Arena.ofShared();
    private final List<TrainingState.Part> live;
    private final MemorySegment[] snapshot;
    private final ExecutorService writer;
    private Future<Path> inFlight;
    private boolean outcomeSeen = true;
    private long lastSnapshotNanos;

    /** Allocates the snapshot for {@code opt}'s parameters and state and starts the (idle) writer thread. */
    public BackgroundSave(Optimizer<?> opt, CheckpointFiles files) {
        this.opt = opt;
        this.files = files;
        ACCESS.enter(opt);
        try {
            this.live = TrainingState.parts(opt);
        } finally {
            ACCESS.leave(opt);
        }
        this.snapshot = new MemorySegment[live.size()];
        try {
            for (int i = 0; i < snapshot.length; i++) {
                snapshot[i] = arena.allocate(live.get(i).segment().byteSize(), Storage.ALIGNMENT);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
        this.writer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vecopt-checkpoint-writer");
            t.setDaemon(true);
            return t;
        });
    }

    /** Snapshots the training state at trainer step {@code globalStep} and starts writing it. */
    public void start(long globalStep) throws IOException {
        start(globalStep, Extras.none());
    }

    /**
     * Waits for the previous save (throwing its failure if nobody has seen it), snapshots the training state and
     * {@code extras} at trainer step {@code globalStep}, and starts writing them in the background.
     *
     * @throws CheckpointException carrying the previous save's failure; this save is then not started
     * @throws IllegalStateException when another thread is inside the optimizer
     */
    public void start(long globalStep, Extras extras) throws IOException {
        start(globalStep, extras, null);
    }

    /**
     * As {@link #start(long, Extras)}, with {@code scaler}'s state and options (read now, with the snapshot) when it
     * is not null: the file then resumes an AMP run with {@link Checkpoint#load(Path, Optimizer, GradScaler)}.
     */
    public void start(long globalStep, Extras extras, GradScaler scaler) throws IOException {
        Path path = files.pathFor(globalStep);
        awaitPrevious();
        long t0 = System.nanoTime();
        Map<String, String> meta;
        ACCESS.enter(opt);
        try {
            for (int i = 0; i < snapshot.length; i++) {
                MemorySegment.copy(live.get(i).segment(), 0, snapshot[i], 0, snapshot[i].byteSize());
            }
            meta = TrainingState.metadata(opt, globalStep, extras.strings(), scaler);
        } finally {
            ACCESS.leave(opt);
        }
        List<SafetensorsWriter.Source> sources = new ArrayList<>(snapshot.length + extras.tensors().size());
        for (int i = 0; i < snapshot.length; i++) {
            sources.add(new SafetensorsWriter.Source(live.get(i).name(), live.get(i).dtype(), live.get(i).shape(),
                    snapshot[i]));
        }
        for (Map.Entry<String, float[]> e : extras.tensors().entrySet()) {
            float[] copy = e.getValue().clone();
            sources.add(new SafetensorsWriter.Source(TrainingState.EXTRA + e.getKey(), new long[] {copy.length},
                    MemorySegment.ofArray(copy)));
        }
        lastSnapshotNanos = System.nanoTime() - t0;
        outcomeSeen = false;
        inFlight = writer.submit(() -> {
            Files.createDirectories(files.directory());
            AtomicFileWrite.write(path, ch -> SafetensorsWriter.write(ch, sources, meta), true);
            files.prune();
            return path;
        });
    }

    /** How long the last {@link #start} held the training loop for its snapshot, in nanoseconds. */
    public long lastSnapshotNanos() {
        return lastSnapshotNanos;
    }

    /** True when no save is being written. */
    public boolean idle() {
        return inFlight == null || inFlight.isDone();
    }

    /**
     * Waits for the save in flight and returns its file (or the last one's, or null when none was started).
     *
     * @throws CheckpointException when it failed (the cause is the original exception)
     */
    public Path await() throws IOException {
        if (inFlight == null) {
            return null;
        }
        outcomeSeen = true;
        return outcome(inFlight);
    }

    private void awaitPrevious() throws IOException {
        if (inFlight != null && !outcomeSeen) {
            outcomeSeen = true;
            outcome(inFlight);
        } else if (inFlight != null) {
            try {
                inFlight.get(); // already reported: wait only
            } catch (ExecutionException e) {
                // seen by an earlier await
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the previous checkpoint write", e);
            }
        }
    }

    private static Path outcome(Future<Path> f) throws IOException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw new CheckpointException("background checkpoint write failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the checkpoint write", e);
        }
    }

    /**
     * Waits for the save in flight, stops the writer thread and frees the snapshot.
     *
     * @throws CheckpointException when the last save failed and nobody had awaited it
     */
    @Override
    public void close() throws IOException {
        try {
            if (inFlight != null && !outcomeSeen) {
                outcomeSeen = true;
                outcome(inFlight);
            } else if (inFlight != null) {
                awaitPrevious();
            }
        } finally {
            writer.shutdown();
            arena.close();
        }
    }
}
