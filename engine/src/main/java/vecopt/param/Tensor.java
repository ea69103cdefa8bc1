package vecopt.param;

import java.util.Objects;
import vecopt.memory.Storage;

/**
 * A named parameter: the range {@code [offset, offset + length)} of a parameter buffer, with its gradient at the
 * same range of a gradient buffer of the same layout (same length), and its {@link Shape} (row-major; 1-D
 * {@code [length]} unless declared). Optimizers that treat a matrix differently from a vector read the shape.
 *
 * <pre>{@code
 * Tensor w = new Tensor("fc.weight", params, grads, 0, 256 * 1024, Shape.of(256, 1024));
 * Tensor b = new Tensor("fc.bias", params, grads, 256 * 1024, 256);          // shape [256]
 * }</pre>
 *
 * @param name   unique within its {@link ParamSet}, e.g. {@code "layer0.attn.weight"}
 * @param params the buffer holding the parameter values, updated in place
 * @param grads  the buffer holding the gradients, same length as {@code params}
 * @param offset first element of the range
 * @param length number of elements
 * @param shape  the dimensions, whose product must be {@code length}; row-major
 */
public record Tensor(String name, Storage params, Storage grads, long offset, long length, Shape shape) {
    /** A 1-D tensor: shape {@code [length]}. */
    public Tensor(String name, Storage params, Storage grads, long offset, long length) {
        this(name, params, grads, offset, length, length >= 0 ? Shape.vector(length) : null);
    }

    public Tensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(grads, "grads");
        if (name.isBlank()) {
            throw new IllegalArgumentException("tensor name must not be blank");
        }
        if (params == grads) {
            throw new IllegalArgumentException("tensor '" + name + "': params and grads must be different buffers");
        }
        if (grads.length() != params.length()) {
            throw new IllegalArgumentException("tensor '" + name + "': grads must have the layout of params: grads length "
                    + grads.length() + " != params length " + params.length());
        }
        if (params.isNative() != grads.isNative()) {
            throw new IllegalArgumentException("tensor '" + name + "': params and grads must be the same kind of memory, got "
                    + params + " and " + grads);
        }
        if (offset < 0) {
            throw new IllegalArgumentException("tensor '" + name + "': offset must be >= 0, got " + offset);
        }
        if (length < 0) {
            throw new IllegalArgumentException("tensor '" + name + "': length must be >= 0, got " + length);
        }
        if (offset > params.length() - length) {
            throw new IllegalArgumentException("tensor '" + name + "': range [" + offset + ", " + (offset + length)
                    + ") lies outside its buffer of length " + params.length());
        }
        Objects.requireNonNull(shape, "shape");
        if (shape.elements() != length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + shape + " has " + shape.elements()
                    + " elements, but the tensor has length " + length);
        }
    }

    /** This tensor with shape {@code dims} (whose product must be its length), e.g. {@code t.withShape(out, in)}. */
    public Tensor withShape(long... dims) {
        return new Tensor(name, params, grads, offset, length, Shape.of(dims));
    }

    /**
     * This tensor's shape, checked to have at least {@code minRank} dimensions: for an optimizer that needs one
     * ({@code who} names it in the error, e.g. "Adafactor's factored second moment").
     *
     * @throws IllegalArgumentException naming the tensor, its shape and how to declare one
     */
    public Shape requireRank(int minRank, String who) {
        if (shape.rank() < minRank) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + shape + ", but " + who + " needs at"
                    + " least " + minRank + " dimensions: declare its shape, e.g. ParamSet.builder().add(\"" + name
                    + "\", params, grads, offset, length, Shape.of(out, in))");
        }
        return shape;
    }

    /** One past the last element. */
    public long end() {
        return offset + length;
    }
}
