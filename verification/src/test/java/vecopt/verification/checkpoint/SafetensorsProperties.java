package vecopt.verification.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import vecopt.checkpoint.Dtype;
import vecopt.checkpoint.SafetensorsFile;
import vecopt.checkpoint.SafetensorsWriter;
import vecopt.checkpoint.TensorEntry;

/**
 * The safetensors writer and reader are inverses: any tensors (names of any characters, quotes, backslashes, control
 * characters and non-ASCII included; shapes of 0 to 4 dimensions, empty ones too; any float bits, NaN payloads
 * included), any metadata strings, heap or off-heap, come back with the same names, shapes, bits and strings, every
 * checksum verifying; and the file's layout is the format's: the data starts on an 8-byte boundary and the tensors
 * tile it in the order written.
 */
class SafetensorsProperties {
    @Provide
    Arbitrary<String> names() {
        return text().ofMinLength(1).ofMaxLength(12).filter(s -> !s.equals("__metadata__"));
    }

    /** Any Unicode text: every code point but unpaired surrogates (which UTF-8, so a header, cannot hold). */
    static net.jqwik.api.arbitraries.StringArbitrary text() {
        return Arbitraries.strings().all().excludeChars(surrogates());
    }

    static char[] surrogates() {
        char[] c = new char[Character.MAX_SURROGATE - Character.MIN_SURROGATE + 1];
        for (int i = 0; i < c.length; i++) {
            c[i] = (char) (Character.MIN_SURROGATE + i);
        }
        return c;
    }

    @Provide
    Arbitrary<Map<String, String>> metadata() {
        return Arbitraries.maps(text().ofMaxLength(10)
                        .filter(k -> !k.startsWith(SafetensorsWriter.CHECKSUM_PREFIX)),
                text().ofMaxLength(20)).ofMaxSize(5);
    }

    @Property(tries = 200)
    void whatIsWrittenIsReadBack(@ForAll("tensorNames") List<String> names, @ForAll("metadata") Map<String, String> meta,
                                 @ForAll long seed, @ForAll boolean offHeap) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        List<SafetensorsWriter.Source> sources = new ArrayList<>();
        List<int[]> bits = new ArrayList<>();
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            for (String name : names) {
                long[] shape = new long[r.nextInt(5)];
                int n = 1;
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = r.nextInt(r.nextInt(8) == 0 ? 1 : 6); // now and then an empty dimension
                    n *= (int) shape[d];
                }
                int[] b = new int[n];
                for (int i = 0; i < n; i++) {
                    b[i] = r.nextInt(); // any bits: NaN payloads, infinities, subnormals
                }
                bits.add(b);
                MemorySegment seg = offHeap ? arena.allocate((long) n * Float.BYTES, 4)
                        : MemorySegment.ofArray(new float[n]);
                MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_INT, 0, n);
                sources.add(new SafetensorsWriter.Source(name, shape, seg));
            }
            Path file = Files.createTempFile("props", ".safetensors");
            try {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    SafetensorsWriter.write(ch, sources, meta);
                }
                try (SafetensorsFile f = SafetensorsFile.open(file)) {
                    assertEquals(0, f.dataStart() % 8, "data aligned to 8 bytes");
                    assertEquals(names, f.tensors().stream().map(TensorEntry::name).toList());
                    Map<String, String> back = new LinkedHashMap<>(f.metadata());
                    long at = 0;
                    for (int k = 0; k < names.size(); k++) {
                        TensorEntry e = f.tensors().get(k);
                        assertEquals(Dtype.F32, e.dtype());
                        assertArrayEquals(sources.get(k).shape(), e.shape(), names.get(k));
                        assertEquals(at, e.begin(), "tensors tile the data in order");
                        at = e.end();
                        int[] read = f.bytes(e).toArray(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                        assertArrayEquals(bits.get(k), read, "bits of '" + names.get(k) + "'");
                        String crc = back.remove(SafetensorsWriter.CHECKSUM_PREFIX + names.get(k));
                        assertEquals(String.format("crc32c:%08x", f.crc32c(e)), crc);
                    }
                    assertEquals(escaped(meta), escaped(back), "metadata");
                    assertEquals(Files.size(file), f.dataStart() + at, "no byte after the last tensor");
                }
            } finally {
                Files.delete(file);
            }
        }
    }

    /** A map's text with every character outside printable ASCII as a Java escape, for a readable failure. */
    static String escaped(Map<String, String> m) {
        StringBuilder b = new StringBuilder();
        for (char c : m.toString().toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return b.toString();
    }

    @Provide
    Arbitrary<List<String>> tensorNames() {
        return names().list().ofMinSize(0).ofMaxSize(6).uniqueElements();
    }
}
