package vecopt.param;

import java.util.Objects;
import vecopt.memory.Storage;

/**
 * A named parameter: the range {@code [offset, offset + length)} of a parameter buffer, with its gradient at the
 * same range of a gradient buffer of the same layout (same length).
 *
 * @param name   unique within its {@link ParamSet}, e.g. {@code "layer0.attn.weight"}
 * @param params the buffer holding the parameter values, updated in place
 * @param grads  the buffer holding the gradients, same length as {@code params}
 * @param offset first element of the range
 * @param length number of elements
 */
public record Tensor(String name, Storage params, Storage grads, long offset, long length) {
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
    }

    /** One past the last element. */
    public long end() {
        return offset + length;
    }
}
