package vecopt.param;

import java.util.Arrays;

/**
 * The dimensions of a tensor, outermost first, row-major (C order, as PyTorch's contiguous tensors and safetensors
 * store them): element {@code (i, j)} of an {@code [out, in]} weight is at {@code i * in + j} of its range. A tensor
 * declared without one is 1-D, {@code [length]}.
 *
 * <pre>{@code
 * Shape s = Shape.of(256, 1024);     // a Linear(1024, 256) weight, PyTorch's [out_features, in_features]
 * s.rank();          // 2
 * s.elements();      // 262144
 * }</pre>
 */
public final class Shape {
    private final long[] dims;

    private Shape(long[] dims) {
        this.dims = dims;
    }

    /**
     * A shape of these dimensions, each >= 1 (a tensor of length 0 keeps its implicit 1-D shape {@code [0]}).
     *
     * @throws IllegalArgumentException when there are no dimensions, a dimension is below 1, or the product
     *         overflows a long
     */
    public static Shape of(long... dims) {
        if (dims == null || dims.length == 0) {
            throw new IllegalArgumentException("a shape needs at least one dimension, got "
                    + (dims == null ? "null" : "[]"));
        }
        long[] d = dims.clone();
        long n = 1;
        for (long x : d) {
            if (x < 1) {
                throw new IllegalArgumentException("shape " + Arrays.toString(d) + ": every dimension must be >= 1, got "
                        + x);
            }
            try {
                n = Math.multiplyExact(n, x);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + Arrays.toString(d) + " has more elements than a long holds");
            }
        }
        return new Shape(d);
    }

    /** The 1-D shape {@code [length]} every tensor has unless it declares another ({@code length} may be 0). */
    public static Shape vector(long length) {
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + length);
        }
        return new Shape(new long[] {length});
    }

    /** Number of dimensions. */
    public int rank() {
        return dims.length;
    }

    /** Dimension {@code i}, outermost first. */
    public long dim(int i) {
        return dims[i];
    }

    /** The dimensions, outermost first (a copy). */
    public long[] dims() {
        return dims.clone();
    }

    /** The product of the dimensions. */
    public long elements() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** The product of every dimension but the last: the rows of the row-major matrix view ({@code [rows, cols]}). */
    public long rows() {
        return elements() / cols();
    }

    /** The last dimension: the columns of the row-major matrix view, contiguous in memory. */
    public long cols() {
        return dims[dims.length - 1];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** {@code [out, in]}, as safetensors and PyTorch print shapes. */
    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
