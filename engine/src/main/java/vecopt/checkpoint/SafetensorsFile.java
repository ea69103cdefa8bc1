package vecopt.checkpoint;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A safetensors file opened for reading, its header parsed and checked against the file before any tensor is read.
 * The format (https://huggingface.co/docs/safetensors, "Format"; https://github.com/huggingface/safetensors): an
 * 8-byte little-endian unsigned header size N, N bytes of UTF-8 JSON (an object whose keys are tensor names, each
 * {@code {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}}, plus an optional {@code "__metadata__"}
 * object of string values), then the data: little-endian tensors, offsets relative to the byte after the header.
 *
 * <p>Checked on open, each failure a {@link CheckpointException} naming the file and the tensor: the header size is
 * within the file and at most {@link #MAX_HEADER_BYTES}; the header is valid UTF-8 JSON of the shape above; every
 * dtype is a safetensors dtype; every shape times the dtype's size is the tensor's byte length; and the tensors cover
 * the data section exactly, in order of their offsets, with no overlap, gap, or byte past the end of the file (the
 * spec's "entirely indexed, no holes" rule, which also catches a file truncated inside its data).
 *
 * <p>Tensor bytes are read with positional reads, into off-heap memory directly or through one 1 MB buffer, so
 * verifying and copying a tensor never copies the file into the Java heap ({@link #bytes} maps it instead). The file
 * must not be changed while it is open.
 *
 * <pre>{@code
 * try (SafetensorsFile f = SafetensorsFile.open(Path.of("model.safetensors"))) {
 *     for (TensorEntry t : f.tensors()) System.out.println(t);
 * }
 * }</pre>
 */
public final class SafetensorsFile implements AutoCloseable {
    /**
     * The largest header accepted: 100 MB, the limit of the reference implementation (a header that size describes
     * about a million tensors); a bigger size is taken for corruption rather than allocated.
     */
    public static final long MAX_HEADER_BYTES = 100_000_000;
    private static final int CHUNK = 1 << 20; // bytes checksummed at a time: stays in cache, amortizes the call

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final long dataLength;
    private final List<TensorEntry> tensors;
    private final Map<String, TensorEntry> byName;
    private final Map<String, String> metadata;
    private Arena arena;
    private MemorySegment data;
    private ByteBuffer staging;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, long dataLength, List<TensorEntry> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.dataLength = dataLength;
        this.tensors = List.copyOf(tensors);
        Map<String, TensorEntry> m = new LinkedHashMap<>();
        for (TensorEntry t : tensors) {
            m.put(t.name(), t);
        }
        this.byName = Collections.unmodifiableMap(m);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Opens {@code path} and validates its header against the file (see the class comment). */
    public static SafetensorsFile open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return read(path, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static SafetensorsFile read(Path path, FileChannel ch) throws IOException {
        String file = path.getFileName().toString();
        long size = ch.size();
        if (size < 8) {
            throw CheckpointException.damage(file + ": truncated: " + size
                    + " bytes, not even the 8-byte header size of a safetensors file");
        }
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, len, 0);
        long n = len.getLong(0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw CheckpointException.damage(file + ": header size " + Long.toUnsignedString(n) + " bytes is over the limit of "
                    + MAX_HEADER_BYTES + " (not a safetensors file, or a corrupted one)");
        }
        if (n > size - 8) {
            throw CheckpointException.damage(file + ": truncated inside the header: the header is " + n
                    + " bytes but the file holds only " + (size - 8) + " after the size");
        }
        if (n < 2) {
            throw CheckpointException.damage(file + ": header of " + n + " bytes cannot hold a JSON object");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(ch, hb, 8);
        String header;
        try {
            header = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(hb.flip()).toString();
        } catch (CharacterCodingException e) {
            throw CheckpointException.damage(file + ": header is not UTF-8 text (" + e.getMessage() + ")");
        }
        Object root;
        try {
            root = Json.parse(header);
        } catch (Json.ParseException e) {
            throw CheckpointException.damage(file + ": header is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> top)) {
            throw CheckpointException.damage(file + ": header is JSON but not an object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorEntry> entries = new ArrayList<>();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                if (!(e.getValue() instanceof Map<?, ?> meta)) {
                    throw CheckpointException.damage(file + ": __metadata__ must be an object of strings");
                }
                for (Map.Entry<?, ?> m : meta.entrySet()) {
                    if (!(m.getValue() instanceof String v)) {
                        throw CheckpointException.damage(file + ": __metadata__ value of '" + m.getKey()
                                + "' must be a string, got " + m.getValue());
                    }
                    metadata.put((String) m.getKey(), v);
                }
                continue;
            }
            entries.add(entry(file, name, e.getValue()));
        }
        long dataLength = size - 8 - n;
        checkCoverage(file, entries, dataLength);
        return new SafetensorsFile(path, ch, 8 + n, dataLength, entries, metadata);
    }

    private static TensorEntry entry(String file, String name, Object value) throws CheckpointException {
        String where = file + ": tensor '" + name + "'";
        if (!(value instanceof Map<?, ?> m)) {
            throw CheckpointException.damage(where + ": must be an object with dtype, shape and data_offsets");
        }
        for (Object k : m.keySet()) {
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
                throw CheckpointException.damage(where + ": unknown field '" + k + "'");
            }
        }
        if (!(m.get("dtype") instanceof String dtypeName)) {
            throw CheckpointException.damage(where + ": dtype missing or not a string");
        }
        Dtype dtype = Dtype.named(dtypeName);
        if (dtype == null) {
            throw CheckpointException.damage(where + ": unknown dtype '" + dtypeName + "' (safetensors dtypes: "
                    + Arrays.toString(Dtype.values()) + ")");
        }
        long[] shape = longs(where, "shape", m.get("shape"), -1);
        long[] offsets = longs(where, "data_offsets", m.get("data_offsets"), 2);
        if (offsets[0] > offsets[1]) {
            throw CheckpointException.damage(where + ": data_offsets [" + offsets[0] + ", " + offsets[1]
                    + "] end before they begin");
        }
        long elements = 1;
        try {
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            long bytes = Math.multiplyExact(elements, dtype.bytes());
            if (bytes != offsets[1] - offsets[0]) {
                throw CheckpointException.damage(where + ": shape " + Arrays.toString(shape) + " of " + dtype + " is "
                        + bytes + " bytes but data_offsets [" + offsets[0] + ", " + offsets[1] + "] hold "
                        + (offsets[1] - offsets[0]));
            }
        } catch (ArithmeticException e) {
            throw CheckpointException.damage(where + ": shape " + Arrays.toString(shape) + " overflows a 64-bit size");
        }
        return new TensorEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] longs(String where, String field, Object value, int count) throws CheckpointException {
        if (!(value instanceof List<?> list) || (count >= 0 && list.size() != count)) {
            throw CheckpointException.damage(where + ": " + field + " must be "
                    + (count >= 0 ? "an array of " + count + " integers" : "an array of integers") + ", got " + value);
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Json.Num num) || !num.isLong() || num.longValue() < 0) {
                throw CheckpointException.damage(where + ": " + field + " must hold integers >= 0, got " + value);
            }
            out[i] = num.longValue();
        }
        return out;
    }

    /** The tensors, sorted by offset, must tile [0, dataLength) exactly. */
    private static void checkCoverage(String file, List<TensorEntry> entries, long dataLength)
            throws CheckpointException {
        List<TensorEntry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(TensorEntry::begin).thenComparingLong(TensorEntry::end));
        long at = 0;
        TensorEntry previous = null;
        for (TensorEntry t : sorted) {
            if (t.begin() < at) {
                throw CheckpointException.damage(file + ": tensor '" + t.name() + "' data_offsets [" + t.begin() + ", "
                        + t.end() + "] overlap tensor '" + previous.name() + "' [" + previous.begin() + ", "
                        + previous.end() + "]");
            }
            if (t.begin() > at) {
                throw CheckpointException.damage(file + ": tensor '" + t.name() + "' begins at data byte " + t.begin()
                        + " but the data before it ends at " + at + " (a gap: safetensors data must be entirely"
                        + " indexed)");
            }
            at = t.end();
            previous = t;
        }
        if (at > dataLength) {
            throw CheckpointException.damage(file + ": truncated inside the data: tensor '" + previous.name()
                    + "' ends at data byte " + at + " but the file holds only " + dataLength + " bytes of data");
        }
        if (at < dataLength) {
            throw CheckpointException.damage(file + ": " + (dataLength - at) + " bytes after the last tensor's data"
                    + " (safetensors data must be entirely indexed)");
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, position);
            if (r < 0) {
                throw new EOFException("end of file at byte " + position);
            }
            position += r;
        }
    }

    public Path path() {
        return path;
    }

    /** The tensors, in header order. */
    public List<TensorEntry> tensors() {
        return tensors;
    }

    /** The tensor called {@code name}, or null when the header has none. */
    public TensorEntry tensor(String name) {
        return byName.get(name);
    }

    /** The {@code __metadata__} strings (empty when the header has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Byte offset of the data section in the file: 8 plus the header size. */
    public long dataStart() {
        return dataStart;
    }

    /** A read-only view of {@code t}'s bytes, mapped from the file (valid until {@link #close()}). */
    public MemorySegment bytes(TensorEntry t) throws IOException {
        if (data == null) {
            arena = Arena.ofShared();
            data = dataLength == 0 ? MemorySegment.NULL
                    : channel.map(FileChannel.MapMode.READ_ONLY, dataStart, dataLength, arena);
        }
        return t.byteLength() == 0 ? MemorySegment.NULL : data.asSlice(t.begin(), t.byteLength()).asReadOnly();
    }

    /**
     * The CRC-32C of {@code t}'s bytes as stored (little-endian), read through one 1 MB buffer (positional reads:
     * faster than faulting in a memory map page by page, and the bytes stay in cache for the checksum).
     */
    public int crc32c(TensorEntry t) throws IOException {
        ByteBuffer buf = staging();
        CRC32C crc = new CRC32C();
        long pos = dataStart + t.begin();
        for (long left = t.byteLength(); left > 0; ) {
            int n = (int) Math.min(CHUNK, left);
            buf.clear().limit(n);
            readFully(channel, buf, pos);
            crc.update(buf.flip());
            pos += n;
            left -= n;
        }
        return (int) crc.getValue();
    }

    /**
     * Copies F32 tensor {@code t} into {@code dst} (floats in native order) starting at float index {@code at}:
     * read by the file channel straight into off-heap memory on a little-endian machine, else through a 1 MB buffer
     * (a heap array cannot be a channel's target; a big-endian machine swaps the bytes).
     */
    public void copyFloats(TensorEntry t, MemorySegment dst, long at) throws IOException {
        copyFloats(t, 0, t.elements(), dst, at);
    }

    /**
     * Copies {@code count} floats of F32 tensor {@code t}, from its element {@code from} on, into {@code dst}
     * starting at float index {@code at} (as {@link #copyFloats(TensorEntry, MemorySegment, long)} for a range).
     */
    public void copyFloats(TensorEntry t, long from, long count, MemorySegment dst, long at) throws IOException {
        if (t.dtype() != Dtype.F32) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' is " + t.dtype() + ", not F32");
        }
        copy(t, from, count, dst, vecopt.memory.Dtype.FLOAT32, at);
    }

    /**
     * Copies {@code count} elements of tensor {@code t}, from its element {@code from} on, into {@code dst}, a
     * buffer of element type {@code type} (native order), starting at its element {@code at}. The tensor's dtype must
     * {@linkplain Dtype#loadsExactlyInto load exactly} into {@code type}: the same type is copied as it is (read
     * straight into off-heap memory on a little-endian machine, else through a 1 MB buffer); BF16 or F16 into a
     * float32 buffer is widened, exactly, through the 1 MB buffer.
     *
     * <pre>{@code
     * f.copy(f.tensor("param/fc.weight"), 0, n, storage.segment(), storage.dtype(), offset);
     * }</pre>
     */
    public void copy(TensorEntry t, long from, long count, MemorySegment dst, vecopt.memory.Dtype type, long at)
            throws IOException {
        if (!t.dtype().loadsExactlyInto(type)) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' is " + t.dtype() + ": it does not load"
                    + " exactly into a " + type.torchName() + " buffer");
        }
        if (from < 0 || count < 0 || from + count > t.elements()) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' has " + t.elements() + " elements: no range ["
                    + from + ", " + (from + count) + ")");
        }
        final int size = t.dtype().bytes();
        long pos = dataStart + t.begin() + from * size;
        boolean widen = size != type.bytes();
        long off = at * type.bytes();
        boolean direct = !widen && dst.isNative() && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
        ValueLayout[] swap = SafetensorsWriter.layouts(size);
        for (long left = count * size; left > 0; ) {
            int n = (int) Math.min(direct ? 1 << 30 : CHUNK, left);
            if (direct) {
                readFully(channel, dst.asSlice(off, n).asByteBuffer(), pos);
                off += n;
            } else {
                ByteBuffer buf = staging();
                buf.clear().limit(n);
                readFully(channel, buf, pos);
                MemorySegment in = MemorySegment.ofBuffer(buf.flip());
                if (widen) {
                    off = widen(t.dtype(), in, n / size, dst, off);
                } else {
                    MemorySegment.copy(in, swap[1], 0, dst, swap[0], off, n / size);
                    off += n;
                }
            }
            pos += n;
            left -= n;
        }
    }

    /** Widens {@code count} little-endian 16-bit floats of {@code from} into floats of {@code dst} at byte {@code off}. */
    private static long widen(Dtype dtype, MemorySegment from, int count, MemorySegment dst, long off) {
        ValueLayout.OfShort le = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++, off += Float.BYTES) {
            short h = from.getAtIndex(le, i);
            dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED, off, dtype == Dtype.BF16 ? vecopt.memory.BFloat16.widen(h)
                    : vecopt.memory.Float16.widen(h));
        }
        return off;
    }

    private ByteBuffer staging() {
        if (staging == null) {
            staging = ByteBuffer.allocateDirect(CHUNK);
        }
        return staging;
    }

    /** Unmaps the data and closes the file. */
    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            if (arena != null) {
                arena.close();
            }
        }
    }
}
