package vecopt.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import vecopt.check.Require;

/**
 * A flat buffer of floats: a heap {@code float[]} or an off-heap {@link MemorySegment}, indexed by {@code long}, whose
 * elements are stored as float32 or, for parameters and gradients, as bfloat16 or float16 ({@link Dtype}: a heap
 * {@code short[]} then). {@link #get} widens and {@link #set} rounds to nearest even, as PyTorch's conversions do.
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
 *     Storage half   = Storage.allocate(arena, 1L << 20, Dtype.BFLOAT16);   // 2 bytes per element
 * }
 * }</pre>
 */
public final class Storage {
    /** Alignment of every off-heap buffer vecopt allocates: one cache line, one 512-bit vector. */
    public static final long ALIGNMENT = 64;

    private final MemorySegment segment;
    private final Object array; // the heap array behind segment (float[] or short[]), or null when off-heap
    private final long length;
    private final Dtype dtype;

    private Storage(MemorySegment segment, Object array, Dtype dtype) {
        this.segment = segment;
        this.array = array;
        this.dtype = dtype;
        this.length = segment.byteSize() / dtype.bytes();
    }

    /** Wraps a heap array; the storage writes through to it. */
    public static Storage of(float[] array) {
        Objects.requireNonNull(array, "array");
        return new Storage(MemorySegment.ofArray(array), array, Dtype.FLOAT32);
    }

    /**
     * Wraps a heap array of 16-bit values of {@code dtype} ({@link Dtype#BFLOAT16} or {@link Dtype#FLOAT16}: their
     * bits, as {@link BFloat16#round} gives them); the storage writes through to it.
     */
    public static Storage of(short[] array, Dtype dtype) {
        Objects.requireNonNull(array, "array");
        Objects.requireNonNull(dtype, "dtype");
        if (dtype.bytes() != Short.BYTES) {
            throw new IllegalArgumentException("a short[] holds bfloat16 or float16, not " + dtype);
        }
        return new Storage(MemorySegment.ofArray(array), array, dtype);
    }

    /**
     * Wraps an existing segment of floats (native or heap). It must be writable, alive, a whole number of floats,
     * and aligned to 4 bytes.
     */
    public static Storage wrap(MemorySegment segment) {
        return wrap(segment, Dtype.FLOAT32);
    }

    /**
     * Wraps an existing segment of elements of {@code dtype} (native or heap). It must be writable, alive, a whole
     * number of elements, and aligned to the element size; a heap segment must cover a whole {@code float[]}
     * (float32) or {@code short[]} (16-bit types).
     */
    public static Storage wrap(MemorySegment segment, Dtype dtype) {
        Objects.requireNonNull(segment, "segment");
        Objects.requireNonNull(dtype, "dtype");
        final int size = dtype.bytes();
        if (segment.byteSize() % size != 0) {
            throw new IllegalArgumentException("segment byteSize must be a multiple of " + size + " (" + dtype
                    + " elements), got " + segment.byteSize());
        }
        if (segment.isNative() && segment.address() % size != 0) {
            throw new IllegalArgumentException("segment address must be " + size + "-byte aligned for " + dtype
                    + ", got 0x" + Long.toHexString(segment.address()));
        }
        if (segment.isReadOnly()) {
            throw new IllegalArgumentException("segment is read-only; vecopt updates buffers in place");
        }
        if (!segment.scope().isAlive()) {
            throw new IllegalStateException("segment's arena is already closed");
        }
        final Class<?> arrayType = size == Float.BYTES ? float[].class : short[].class;
        Object array = segment.heapBase().filter(arrayType::isInstance).orElse(null);
        if (!segment.isNative() && (array == null
                || segment.byteSize() != (long) java.lang.reflect.Array.getLength(array) * size)) {
            // A heap slice or a heap segment over another array type: copy semantics would surprise, so refuse.
            throw new IllegalArgumentException("heap segments must cover a whole " + arrayType.getSimpleName()
                    + " for " + dtype + "; use Storage.of");
        }
        return new Storage(segment, array, dtype);
    }

    /** Allocates {@code length} zeroed floats off-heap from {@code arena}, 64-byte aligned. */
    public static Storage allocate(Arena arena, long length) {
        return allocate(arena, length, Dtype.FLOAT32);
    }

    /** Allocates {@code length} zeroed elements of {@code dtype} off-heap from {@code arena}, 64-byte aligned. */
    public static Storage allocate(Arena arena, long length, Dtype dtype) {
        Objects.requireNonNull(arena, "arena");
        Objects.requireNonNull(dtype, "dtype");
        Require.nonNegative("length", length);
        if (length > Long.MAX_VALUE / dtype.bytes()) {
            throw new IllegalArgumentException("length is too large for a segment, got " + length);
        }
        return new Storage(arena.allocate(length * dtype.bytes(), ALIGNMENT), null, dtype);
    }

    /**
     * Allocates a zeroed buffer of {@code length} float32 values of the same kind as this one, whatever this one's
     * dtype: a new heap array when this one is on the heap, else off-heap from {@code arena}. Optimizer state
     * (and the float32 master copy of 16-bit parameters) is allocated this way.
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

    /** Number of elements. */
    public long length() {
        return length;
    }

    /** The element type. */
    public Dtype dtype() {
        return dtype;
    }

    /** True for off-heap memory. */
    public boolean isNative() {
        return segment.isNative();
    }

    /** The segment the kernels read and write (a heap segment for arrays). */
    public MemorySegment segment() {
        return segment;
    }

    /** The element at {@code index}, widened exactly to float. */
    public float get(long index) {
        if (dtype == Dtype.FLOAT32) {
            return segment.getAtIndex(ValueLayout.JAVA_FLOAT, index);
        }
        return dtype.widen(segment.getAtIndex(ValueLayout.JAVA_SHORT, index));
    }

    /** Stores {@code value} at {@code index}, rounded to nearest even where this storage is 16-bit. */
    public void set(long index, float value) {
        if (dtype == Dtype.FLOAT32) {
            segment.setAtIndex(ValueLayout.JAVA_FLOAT, index, value);
        } else {
            segment.setAtIndex(ValueLayout.JAVA_SHORT, index, (short) dtype.round(value));
        }
    }

    /** Copies {@code count} elements from this storage, starting at {@code from}, into a new array (widened). */
    public float[] toArray(long from, int count) {
        float[] out = new float[count];
        if (dtype == Dtype.FLOAT32) {
            MemorySegment.copy(segment, ValueLayout.JAVA_FLOAT, from * Float.BYTES, out, 0, count);
        } else {
            for (int i = 0; i < count; i++) {
                out[i] = get(from + i);
            }
        }
        return out;
    }

    /** Copies all of {@code values} into this storage starting at {@code at} (rounded where 16-bit). */
    public void copyFrom(float[] values, long at) {
        if (dtype == Dtype.FLOAT32) {
            MemorySegment.copy(values, 0, segment, ValueLayout.JAVA_FLOAT, at * Float.BYTES, values.length);
        } else {
            Objects.checkFromIndexSize(at, values.length, length);
            for (int i = 0; i < values.length; i++) {
                set(at + i, values[i]);
            }
        }
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
        return (isNative() ? "off-heap" : "heap") + " Storage[" + length
                + (dtype == Dtype.FLOAT32 ? " floats]" : " " + dtype.torchName() + "]");
    }
}
