package vecopt.checkpoint;

import java.util.Arrays;

/**
 * One tensor of a safetensors header: its name, element type, shape, and where its bytes lie, as offsets
 * {@code [begin, end)} from the start of the data section (the byte after the header).
 *
 * <pre>{@code
 * TensorEntry e = file.tensor("param/fc1.weight");   // F32 [8192] [0, 32768)
 * }</pre>
 *
 * @param name  the tensor's key in the header, e.g. {@code param/fc1.weight}
 * @param dtype element type
 * @param shape dimensions, outermost first; {@code []} for a scalar
 * @param begin first byte, relative to the data section
 * @param end   one past the last byte
 */
public record TensorEntry(String name, Dtype dtype, long[] shape, long begin, long end) {
    public TensorEntry {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements: the product of the shape. */
    public long elements() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long byteLength() {
        return end - begin;
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry e && name.equals(e.name) && dtype == e.dtype && Arrays.equals(shape, e.shape)
                && begin == e.begin && end == e.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Long.hashCode(begin);
    }
}
