package vecopt.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import vecopt.check.Require;

/**
 * A flat buffer of floats: a heap {@code float[]} or an off-heap {@link MemorySegment}, indexed by {@code long}.
 *
 * <p>Both kinds are seen by the kernels as a {@code MemorySegment} (a heap array through
 * {@link MemorySegment#ofArray(float[])}), so one kernel body serves both and heap and off-heap results are
 * bitwise identical by construction. Off-heap buffers allocated here are 64-byte aligned (one cache line, one
 * AVX-512 vector); an off-heap buffer may hold more than 2^31 floats.
 *
 * <pre>{@code
 * try (Arena arena = Arena.ofShared()) {
 *     Storage params = Storage.allocate(arena, 1L << 20);   // off-heap, zeroed, 64-byte aligned
 *     Storage grads  = Storage.of(new float[1 << 20]);        // heap
 * }
 * }</pre>
 */
public final class Storage {
    /** Alignment of every off-heap buffer vecopt allocates: one cache line, one 512-bit vector. */
    public static final long ALIGNMENT = 64;

    private final MemorySegment segment;
    private final float[] array; // the heap array behind segment, or null when off-heap
    private final long length;

    private Storage(MemorySegment segment, float[] array) {
        this.segment = segment;
        this.array = array;
        this.length = segment.byteSize() / Float.BYTES;
    }

    /** Wraps a heap array; the storage writes through to it. */
    public static Storage of(float[] array) {
        Objects.requireNonNull(array, "array");
        return new Storage(MemorySegment.ofArray(array), array);
    }

    /**
     * Wraps an existing segment of floats (native or heap). It must be writable, alive, a whole number of floats,
     * and aligned to 4 bytes.
     */
    public static Storage wrap(MemorySegment segment) {
        Objects.requireNonNull(segment, "segment");
        if (segment.byteSize() % Float.BYTES != 0) {
            throw new IllegalArgumentException(
                    "segment byteSize must be a multiple of 4 (floats), got " + segment.byteSize());
        }
        if (segment.isNative() && segment.address() % Float.BYTES != 0) {
            throw new IllegalArgumentException(
                    "segment address must be 4-byte aligned, got 0x" + Long.toHexString(segment.address()));
        }
        if (segment.isReadOnly()) {
            throw new IllegalArgumentException("segment is read-only; vecopt updates buffers in place");
        }
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException("segment's arena is already closed");
        }
        float[] array = segment.heapBase().filter(float[].class::isInstance).map(float[].class::cast).orElse(null);
        if (!segment.isNative() && (array == null || segment.byteSize() != (long) array.length * Float.BYTES)) {
            // A heap slice or a heap segment over another array type: copy semantics would surprise, so refuse.
            throw new IllegalArgumentException("heap segments must cover a whole float[]; use Storage.of(float[])");
        }
        return new Storage(segment, array);
    }

    /** Allocates {@code length} zeroed floats off-heap from {@code arena}, 64-byte aligned. */
    public static Storage allocate(Arena arena, long length) {
        Objects.requireNonNull(arena, "arena");
        Require.nonNegative("length", length);
        if (length > Long.MAX_VALUE / Float.BYTES) {
            throw new IllegalArgumentException("length is too large for a segment, got " + length);
        }
        return new Storage(arena.allocate(length * Float.BYTES, ALIGNMENT), null);
    }

    /**
     * Allocates a zeroed buffer of {@code length} floats of the same kind as this one: a new heap array when this
     * one is on the heap, else off-heap from {@code arena}. Optimizer state is allocated this way.
     */
    public Storage allocateLike(Arena arena, long length) {
        if (isNative()) {
            return allocate(arena, length);
        }
        if (length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a heap buffer holds at most 2^31-9 floats, got " + length);
        }
        return of(new float[(int) length]);
    }

    /** Number of floats. */
    public long length() {
        return length;
    }

    /** True for off-heap memory. */
    public boolean isNative() {
        return segment.isNative();
    }

    /** The segment the kernels read and write (a heap segment for arrays). */
    public MemorySegment segment() {
        return segment;
    }

    public float get(long index) {
        return segment.getAtIndex(ValueLayout.JAVA_FLOAT, index);
    }

    public void set(long index, float value) {
        segment.setAtIndex(ValueLayout.JAVA_FLOAT, index, value);
    }

    /** Copies {@code count} floats from this storage, starting at {@code from}, into a new array. */
    public float[] toArray(long from, int count) {
        float[] out = new float[count];
        MemorySegment.copy(segment, ValueLayout.JAVA_FLOAT, from * Float.BYTES, out, 0, count);
        return out;
    }

    /** Copies all of {@code values} into this storage starting at {@code at}. */
    public void copyFrom(float[] values, long at) {
        MemorySegment.copy(values, 0, segment, ValueLayout.JAVA_FLOAT, at * Float.BYTES, values.length);
    }

    /**
     * Throws, naming {@code role}, unless this buffer can be read and written now: its arena is open, it is
     * writable, and {@code thread} (the one that will touch it) may access it.
     */
    public void checkUsable(String role, Thread thread) {
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException(role + ": the arena of this buffer is closed");
        }
        if (!segment.isAccessibleBy(thread)) {
            throw new IllegalStateException(role + ": buffer is confined to another thread than " + thread.getName()
                    + " (allocate it from a shared arena to use a worker pool)");
        }
    }

    /** True when this storage and {@code other} share any memory (the same array, or intersecting addresses). */
    public boolean overlaps(Storage other) {
        if (this == other) {
            return true;
        }
        if (array != null || other.array != null) {
            return array != null && array == other.array;
        }
        long a = segment.address(), b = other.segment.address();
        return a < b + other.segment.byteSize() && b < a + segment.byteSize()
                && segment.byteSize() > 0 && other.segment.byteSize() > 0;
    }

    @Override
    public String toString() {
        return (isNative() ? "off-heap" : "heap") + " Storage[" + length + " floats]";
    }
}
