package vecopt.djl;

import java.util.Objects;
import vecopt.memory.BFloat16;
import vecopt.memory.Dtype;
import vecopt.memory.Float16;

/**
 * What the optimizer sees of a float32 PyTorch model: a 16-bit training stack emulated at the optimizer boundary.
 * The model stays float32 (DJL's PyTorch engine), but
 * <ul>
 *   <li>with 16-bit {@code gradients}, each step first rounds PyTorch's float32 gradients to the 16-bit type (nearest
 *       even, as {@code grad.to(torch.bfloat16)}) into a buffer of the bridge's own, which vecopt reads as its
 *       gradient buffer: the step sees exactly what a bf16 backward pass would hand it, at 2 bytes a value;</li>
 *   <li>with 16-bit {@code parameters}, vecopt stores the parameters in 16-bit buffers of the bridge's own (with or
 *       without its float32 master copy, {@code stochasticRounding}, {@code bfloat16State}: the optimizer function
 *       decides) and after each step widens them (exactly) into PyTorch's float32 memory, so the next forward pass
 *       computes with exactly the 16-bit values. When bound, PyTorch's values are rounded to the 16-bit type once
 *       and written back, so the forward passes see 16-bit values from the first step on.</li>
 * </ul>
 * The forward and backward passes themselves stay float32: this emulates the optimizer's side of mixed precision
 * (what is stored, what is rounded where), not a bf16 matmul.
 *
 * <pre>{@code
 * VecoptStep step = VecoptStep.builder(trainer)
 *         .precision(Precision.BFLOAT16)     // bf16 gradients and parameters
 *         .optimizer(p -> AdamW.builder(p).stochasticRounding(42).build())   // no master copy
 *         .schedule(schedule).build();
 * }</pre>
 *
 * @param gradients  what vecopt reads as the gradient: float32 (PyTorch's own memory) or a 16-bit copy
 * @param parameters what vecopt stores as the parameters: float32 (PyTorch's own memory) or 16-bit buffers
 */
public record Precision(Dtype gradients, Dtype parameters) {
    /** PyTorch's memory, no copy: the default. */
    public static final Precision FLOAT32 = new Precision(Dtype.FLOAT32, Dtype.FLOAT32);
    /** bfloat16 gradients, float32 parameters (PyTorch's memory). */
    public static final Precision BFLOAT16_GRADIENTS = new Precision(Dtype.BFLOAT16, Dtype.FLOAT32);
    /** bfloat16 gradients and parameters. */
    public static final Precision BFLOAT16 = new Precision(Dtype.BFLOAT16, Dtype.BFLOAT16);

    public Precision {
        Objects.requireNonNull(gradients, "gradients");
        Objects.requireNonNull(parameters, "parameters");
    }

    /** True when vecopt works on PyTorch's memory directly, with no copy. */
    public boolean direct() {
        return gradients == Dtype.FLOAT32 && parameters == Dtype.FLOAT32;
    }

    /** The 16-bit bits of {@code value} in {@code type}, rounded to nearest even. */
    static short round(Dtype type, float value) {
        return switch (type) {
            case BFLOAT16 -> BFloat16.round(value);
            case FLOAT16 -> Float16.round(value);
            case FLOAT32 -> throw new IllegalArgumentException("float32 is not a 16-bit type");
        };
    }

    /** The value of the 16-bit {@code bits} of {@code type}, exactly. */
    static float widen(Dtype type, short bits) {
        return switch (type) {
            case BFLOAT16 -> BFloat16.widen(bits);
            case FLOAT16 -> Float16.widen(bits);
            case FLOAT32 -> throw new IllegalArgumentException("float32 is not a 16-bit type");
        };
    }
}
