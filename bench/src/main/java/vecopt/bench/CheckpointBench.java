package vecopt.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import vecopt.checkpoint.BackgroundSave;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.CheckpointFiles;
import vecopt.checkpoint.Extras;
import vecopt.memory.Storage;
import vecopt.optim.AdamW;
import vecopt.param.ParamSet;

/**
 * Checkpoint save and load of an AdamW training state ({@code size} parameters plus two moments: 12 bytes per
 * parameter, 768 MB at the default 64M) against ceilings measured in the same run on the same bytes:
 * <ul>
 *   <li>{@code rawWrite} / {@code rawWriteForce}: one {@code FileChannel} gather write of the three off-heap buffers
 *       to a file (then {@code force}): the ceiling of {@code save} / {@code saveForce} (vecopt's crash-safe save:
 *       temporary file, CRC-32C per tensor, rename; with {@code force}, the file and the directory forced);</li>
 *   <li>{@code rawRead}: one {@code FileChannel} read of the file into three off-heap buffers of the same size: the ceiling of
 *       {@code load} (validation, every checksum verified through a memory map, then the copy);</li>
 *   <li>{@code snapshotCopy}: one memory copy of the three buffers: the ceiling of {@code asyncStall}, the time a
 *       {@link BackgroundSave#start} holds the training loop (the write then runs in the background and is awaited
 *       outside the measurement).</li>
 * </ul>
 * Times in ms per operation (GB/s = 12 bytes x size / time). The files live in {@code -Dvecopt.bench.dir} (default
 * {@code java.io.tmpdir}): on a disk-backed file system a write without {@code force} ends in the page cache, so
 * {@code save} vs {@code rawWrite} compares CPU-side costs and {@code saveForce} vs {@code rawWriteForce} includes the
 * device; a load reads from the page cache (the file was just written).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = BenchMain.FORK_HEAP)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
public class CheckpointBench {
    @Param({"67108864"})
    public int size;

    private Arena arena;
    private AdamW opt;
    private Path dir;
    private Path file;
    private Path raw;
    private MemorySegment[] buffers;
    private MemorySegment[] copies;
    private BackgroundSave background;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        arena = Arena.ofShared();
        Storage params = Storage.allocate(arena, size), grads = Storage.allocate(arena, size);
        for (long i = 0; i < size; i++) {
            params.set(i, (float) Math.sin(i));
            grads.set(i, (float) Math.cos(i) * 1e-2f);
        }
        ParamSet set = ParamSet.builder().add("w", params, grads, 0, size).build();
        opt = AdamW.builder(set).stateArena(arena).threads(1).build();
        opt.step(1e-3);
        opt.step(1e-3); // moments non-zero, as in a run
        buffers = new MemorySegment[] {params.segment(), opt.state("w", "exp_avg"), opt.state("w", "exp_avg_sq")};
        copies = new MemorySegment[buffers.length];
        for (int i = 0; i < copies.length; i++) {
            copies[i] = arena.allocate(buffers[i].byteSize(), Storage.ALIGNMENT);
        }
        dir = Files.createTempDirectory(Path.of(System.getProperty("vecopt.bench.dir",
                System.getProperty("java.io.tmpdir"))), "vecopt-checkpoint-bench");
        file = dir.resolve("checkpoint.safetensors");
        raw = dir.resolve("raw.bin");
        Checkpoint.save(file, opt, 2);
        rawWrite(false);
        background = new BackgroundSave(opt, new CheckpointFiles(dir.resolve("bg"), 1));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        background.close();
        opt.close();
        arena.close();
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private void rawWrite(boolean force) throws IOException {
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            List<ByteBuffer> bufs = new ArrayList<>();
            for (MemorySegment s : buffers) {
                for (long at = 0; at < s.byteSize(); at += 1 << 30) {
                    bufs.add(s.asSlice(at, Math.min(1 << 30, s.byteSize() - at)).asByteBuffer());
                }
            }
            ByteBuffer[] array = bufs.toArray(new ByteBuffer[0]);
            long left = 12L * size;
            while (left > 0) {
                left -= ch.write(array);
            }
            if (force) {
                ch.force(true);
            }
        }
    }

    @Benchmark
    public void rawWrite() throws IOException {
        rawWrite(false);
    }

    @Benchmark
    public void rawWriteForce() throws IOException {
        rawWrite(true);
    }

    @Benchmark
    public void save() throws IOException {
        Checkpoint.save(file, opt, 2, Extras.none(), false);
    }

    @Benchmark
    public void saveForce() throws IOException {
        Checkpoint.save(file, opt, 2, Extras.none(), true);
    }

    @Benchmark
    public long rawRead() throws IOException {
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ)) {
            long n = 0;
            for (MemorySegment s : copies) { // the state views are read-only: read into off-heap buffers alike
                for (long at = 0; at < s.byteSize(); at += 1 << 30) {
                    ByteBuffer b = s.asSlice(at, Math.min(1 << 30, s.byteSize() - at)).asByteBuffer();
                    while (b.hasRemaining()) {
                        n += ch.read(b);
                    }
                }
            }
            return n;
        }
    }

    @Benchmark
    public long load() throws IOException {
        return Checkpoint.load(file, opt).globalStep();
    }

    @Benchmark
    public void snapshotCopy() {
        for (int i = 0; i < buffers.length; i++) {
            MemorySegment.copy(buffers[i], 0, copies[i], 0, buffers[i].byteSize());
        }
    }

    @Benchmark
    public void asyncStall() throws IOException {
        background.start(2);
    }

    /** The background write of {@code asyncStall}, awaited outside the measured time. */
    @TearDown(Level.Invocation)
    public void awaitBackground() throws IOException {
        background.await();
    }
}
