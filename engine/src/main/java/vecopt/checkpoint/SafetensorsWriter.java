package vecopt.checkpoint;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Writes tensors (F32, or any safetensors dtype) straight from memory (heap or off-heap) to a safetensors file
 * (https://huggingface.co/docs/safetensors, "Format"): the 8-byte little-endian header size, the JSON header padded
 * with spaces so that the data starts on an 8-byte boundary (as the reference writer pads it), then each tensor's
 * bytes in the order given, little-endian, with no gaps.
 *
 * <p>Each tensor's CRC-32C is computed while its bytes go out and recorded in {@code __metadata__} under
 * {@code "checksum:<tensor name>"} as {@code "crc32c:<8 hex digits>"}; the header is written last, over space reserved
 * for it (the checksums have a fixed width, so its size is known before the data is written). So the data is read
 * from memory once, in 1 MB pieces that stay in cache between the checksum and the write. Off-heap tensors on a
 * little-endian machine are written from their memory directly; heap arrays (which a file channel cannot read) go
 * through one 1 MB staging buffer, as does any tensor on a big-endian machine, where it is byte-swapped.
 *
 * <pre>{@code
 * try (FileChannel ch = FileChannel.open(path, CREATE_NEW, WRITE)) {
 *     SafetensorsWriter.write(ch, List.of(new SafetensorsWriter.Source("w", new long[] {n}, storage.segment())),
 *             Map.of("note", "hello"));
 * }
 * }</pre>
 */
public final class SafetensorsWriter {
    /** Prefix of the metadata keys holding each tensor's checksum. */
    public static final String CHECKSUM_PREFIX = "checksum:";
    private static final int CHUNK = 1 << 20;

    private SafetensorsWriter() {
    }

    /**
     * One tensor to write: its name, dtype, shape, and its elements in native byte order.
     *
     * @param dtype the elements' type; vecopt's buffers are {@link Dtype#F32}, {@link Dtype#BF16} or
     *              {@link Dtype#F16} (16-bit values as their bits), but any safetensors dtype is written as given
     * @param data  exactly the tensor's elements (product of the shape times the dtype's size in bytes)
     */
    public record Source(String name, Dtype dtype, long[] shape, MemorySegment data) {
        public Source {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(dtype, "dtype");
            shape = shape.clone();
            long n = 1;
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("tensor '" + name + "': negative dimension in "
                            + Arrays.toString(shape));
                }
                n = Math.multiplyExact(n, d);
            }
            if (data.byteSize() != n * dtype.bytes()) {
                throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " of "
                        + dtype + " needs " + n * dtype.bytes() + " bytes, the segment has " + data.byteSize());
            }
        }

        /** An F32 tensor: {@code floats} in native order. */
        public Source(String name, long[] shape, MemorySegment floats) {
            this(name, Dtype.F32, shape, floats);
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }
    }

    /**
     * Writes {@code tensors} and {@code metadata} (plus a checksum per tensor) to {@code channel} from position 0, and
     * returns the number of bytes written. Names must be unique and not {@code __metadata__}; metadata keys must not
     * start with {@link #CHECKSUM_PREFIX}. Does not force the channel.
     */
    public static long write(FileChannel channel, List<Source> tensors, Map<String, String> metadata)
            throws IOException {
        Map<String, Boolean> seen = new LinkedHashMap<>();
        for (Source s : tensors) {
            Json.wellFormed("tensor name", s.name());
            if (s.name().equals("__metadata__") || seen.put(s.name(), Boolean.TRUE) != null) {
                throw new IllegalArgumentException("tensor name '" + s.name() + "' is reserved or used twice");
            }
        }
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            String k = Json.wellFormed("metadata key", e.getKey());
            Json.wellFormed("metadata value of '" + k + "'", e.getValue());
            if (k.startsWith(CHECKSUM_PREFIX)) {
                throw new IllegalArgumentException("metadata key '" + k + "' is reserved for checksums");
            }
        }
        int[] crcs = new int[tensors.size()];
        byte[] placeholder = header(tensors, metadata, crcs);
        long at = placeholder.length;
        ByteBuffer staging = null;
        for (int i = 0; i < tensors.size(); i++) {
            MemorySegment src = tensors.get(i).data();
            ValueLayout[] swap = layouts(tensors.get(i).dtype().bytes());
            CRC32C crc = new CRC32C();
            boolean direct = src.isNative() && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
            for (long off = 0; off < src.byteSize(); off += CHUNK) {
                long len = Math.min(CHUNK, src.byteSize() - off);
                ByteBuffer b;
                if (direct) {
                    b = src.asSlice(off, len).asByteBuffer();
                } else {
                    if (staging == null) {
                        staging = ByteBuffer.allocateDirect(CHUNK);
                    }
                    staging.clear(); // the last write left it drained: position == limit
                    MemorySegment.copy(src, swap[0], off, MemorySegment.ofBuffer(staging), swap[1], 0,
                            len / swap[0].byteSize());
                    b = staging.limit((int) len);
                }
                crc.update(b.duplicate());
                at = writeFully(channel, b, at);
            }
            crcs[i] = (int) crc.getValue();
        }
        byte[] header = header(tensors, metadata, crcs);
        if (header.length != placeholder.length) {
            throw new AssertionError("header size changed with the checksums");
        }
        writeFully(channel, ByteBuffer.wrap(header), 0);
        return at;
    }

    /** The 8-byte size and the padded JSON header. */
    private static byte[] header(List<Source> tensors, Map<String, String> metadata, int[] crcs) {
        StringBuilder b = new StringBuilder("{\"__metadata__\":{");
        boolean first = true;
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            b.append(first ? "" : ",").append(Json.quote(e.getKey())).append(':').append(Json.quote(e.getValue()));
            first = false;
        }
        for (int i = 0; i < tensors.size(); i++) {
            b.append(first ? "" : ",").append(Json.quote(CHECKSUM_PREFIX + tensors.get(i).name())).append(':')
                    .append(Json.quote(checksum(crcs[i])));
            first = false;
        }
        b.append('}');
        long at = 0;
        for (Source s : tensors) {
            long end = at + s.data().byteSize();
            b.append(',').append(Json.quote(s.name())).append(":{\"dtype\":\"").append(s.dtype().name())
                    .append("\",\"shape\":[");
            long[] shape = s.shape;
            for (int d = 0; d < shape.length; d++) {
                b.append(d == 0 ? "" : ",").append(shape[d]);
            }
            b.append("],\"data_offsets\":[").append(at).append(',').append(end).append("]}");
            at = end;
        }
        b.append('}');
        byte[] json = b.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7; // 8 + padded is a multiple of 8: the data is 8-byte aligned
        byte[] out = new byte[8 + padded];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(json, 0, out, 8, json.length);
        Arrays.fill(out, 8 + json.length, out.length, (byte) ' ');
        return out;
    }

    /**
     * The layouts to copy elements of {@code bytes} bytes with, from native order to little-endian: an element is
     * swapped as a whole (the chunk size, a power of two, is a whole number of elements of any size).
     */
    static ValueLayout[] layouts(int bytes) {
        ValueLayout nat = switch (bytes) {
            case 1 -> ValueLayout.JAVA_BYTE;
            case 2 -> ValueLayout.JAVA_SHORT_UNALIGNED;
            case 4 -> ValueLayout.JAVA_INT_UNALIGNED;
            case 8 -> ValueLayout.JAVA_LONG_UNALIGNED;
            default -> throw new IllegalArgumentException("no element type of " + bytes + " bytes");
        };
        return new ValueLayout[] {nat, nat.withOrder(ByteOrder.LITTLE_ENDIAN)};
    }

    /** The metadata value recording CRC-32C {@code crc}. */
    static String checksum(int crc) {
        return String.format("crc32c:%08x", crc);
    }

    private static long writeFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            position += ch.write(b, position);
        }
        return position;
    }
}
