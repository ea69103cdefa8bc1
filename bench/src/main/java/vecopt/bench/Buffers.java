package vecopt.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The float arrays one benchmark works on: {@code count} buffers of {@code n} floats, on the heap or off-heap, placed
 * so that they do not alias modulo 4 KiB.
 *
 * <p>Why the placement matters: a loop that loads from one array and stores to another whose addresses are equal
 * modulo 4096 stalls on false store-to-load forwarding (4K aliasing), 15-20% in cache. Off-heap buffers sit at a
 * 4 KiB-aligned base plus {@code k * 192} bytes (three cache lines: still 64-byte aligned for full-width vectors);
 * heap arrays get {@code k * 48} floats of padding in front, since large arrays land region-aligned in G1 and would
 * otherwise all start at the same offset. {@code layout = "aliased"} drops the stagger, to measure the effect.
 *
 * <pre>{@code
 * try (Buffers b = Buffers.allocate("offheap", "staggered", 1 << 20, 4)) {
 *     MemorySegment p = b.segment(0);
 * }
 * }</pre>
 */
final class Buffers implements AutoCloseable {
    /** Bytes between the 4 KiB offsets of consecutive buffers. */
    static final int STAGGER_BYTES = 192;
    private static final int PATTERN = 1 << 16;

    private final Arena arena;
    private final MemorySegment[] segments;
    private final float[][] arrays;  // heap only: the array behind each segment
    private final int[] bases;       // heap only: index of element 0 in arrays[k]
    private final int n;

    private Buffers(Arena arena, MemorySegment[] segments, float[][] arrays, int[] bases, int n) {
        this.arena = arena;
        this.segments = segments;
        this.arrays = arrays;
        this.bases = bases;
        this.n = n;
    }

    /**
     * Allocates {@code count} buffers of {@code n} floats.
     *
     * @param memory "heap" or "offheap"
     * @param layout "staggered" (no 4K aliasing) or "aliased" (every buffer at the same offset modulo 4 KiB)
     */
    static Buffers allocate(String memory, String layout, int n, int count) {
        if (n <= 0) {
            throw new IllegalArgumentException("n must be > 0, got " + n);
        }
        if (count <= 0 || count > 16) {
            throw new IllegalArgumentException("count must be in [1, 16], got " + count);
        }
        boolean staggered = switch (layout) {
            case "staggered" -> true;
            case "aliased" -> false;
            default -> throw new IllegalArgumentException("layout must be staggered or aliased, got '" + layout + "'");
        };
        MemorySegment[] segs = new MemorySegment[count];
        switch (memory) {
            case "offheap" -> {
                Arena arena = Arena.ofShared();
                for (int k = 0; k < count; k++) {
                    long shift = staggered ? (long) k * STAGGER_BYTES : 0;
                    segs[k] = arena.allocate((long) n * Float.BYTES + shift, 4096).asSlice(shift, (long) n * Float.BYTES);
                }
                return new Buffers(arena, segs, null, null, n);
            }
            case "heap" -> {
                float[][] arrays = new float[count][];
                int[] bases = new int[count];
                for (int k = 0; k < count; k++) {
                    bases[k] = staggered ? k * (STAGGER_BYTES / Float.BYTES) : 0;
                    arrays[k] = new float[n + bases[k]];
                    segs[k] = MemorySegment.ofArray(arrays[k]).asSlice((long) bases[k] * Float.BYTES, (long) n * Float.BYTES);
                }
                return new Buffers(null, segs, arrays, bases, n);
            }
            default -> throw new IllegalArgumentException("memory must be heap or offheap, got '" + memory + "'");
        }
    }

    /**
     * Fills buffer {@code k} with values in {@code [lo, hi)} from a fixed pseudo-random pattern (computed for 64 Ki
     * elements and repeated, so that filling 64M elements takes milliseconds, not seconds).
     */
    Buffers fill(int k, float lo, float hi, long seed) {
        fill(segments[k], lo, hi, seed);
        return this;
    }

    /** Fills a whole segment of floats the way {@link #fill(int, float, float, long)} fills a buffer. */
    static void fill(MemorySegment s, float lo, float hi, long seed) {
        long n = s.byteSize() / Float.BYTES;
        int len = (int) Math.min(n, PATTERN);
        float[] pattern = new float[len];
        long x = seed * 0x9E3779B97F4A7C15L + 1;
        for (int i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            pattern[i] = lo + (hi - lo) * ((x >>> 40) / (float) (1 << 24));
        }
        for (long at = 0; at < n; at += len) {
            int c = (int) Math.min(len, n - at);
            MemorySegment.copy(pattern, 0, s, ValueLayout.JAVA_FLOAT, at * Float.BYTES, c);
        }
    }

    int length() {
        return n;
    }

    MemorySegment segment(int k) {
        return segments[k];
    }

    boolean isHeap() {
        return arrays != null;
    }

    /** The heap array behind buffer {@code k}; element 0 is at {@link #base(int)}. */
    float[] array(int k) {
        if (arrays == null) {
            throw new IllegalStateException("buffers are off-heap; there is no array");
        }
        return arrays[k];
    }

    int base(int k) {
        return bases[k];
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }
}
