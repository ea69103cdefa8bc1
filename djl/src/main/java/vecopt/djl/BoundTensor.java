package vecopt.djl;

import ai.djl.pytorch.engine.PtNDArray;
import java.lang.foreign.MemorySegment;
import vecopt.memory.Storage;

/**
 * One DJL parameter as vecopt sees it: its name, its PyTorch array and a handle on its gradient, and the memory of
 * both at the addresses they had when bound. The segments alias the tensors (no copy); they are only written after
 * {@link #moved()} said both addresses are still the tensors' own.
 *
 * <p>The gradient handle ({@code JniUtils.getGradient}: a second reference to the tensor PyTorch keeps in
 * {@code param.grad}) is held while bound, so the gradient's memory cannot be freed under the bridge, and asking
 * for its address each step costs no new array. DJL runs every backward pass with {@code create_graph=false}, so
 * PyTorch accumulates into that same tensor in place ({@code AccumulateGrad}) and DJL's optimizers zero it in place:
 * it stays {@code param.grad} for the life of the parameter.
 *
 * @param name   DJL's parameter name (the key of {@code Block.getParameters()}), also its name in vecopt
 * @param array  the parameter's array, the one DJL's forward pass reads
 * @param grad   the handle on its gradient, closed with the binding
 * @param values the parameter's memory
 * @param grads  its gradient's memory
 * @param params      what vecopt stores as the parameter: {@code values} itself, or a 16-bit buffer of the binding's
 * @param gradStorage what vecopt reads as the gradient: {@code grads} itself, or a 16-bit buffer of the binding's
 */
record BoundTensor(String name, PtNDArray array, PtNDArray grad, MemorySegment values, MemorySegment grads,
                   Storage params, Storage gradStorage) {
    /**
     * True when the parameter's values or its gradient no longer live where they were bound (PyTorch swapped a
     * storage: {@code NDArray.set}, {@code copyTo}). One JNI round per array, nothing copied, no array created.
     */
    boolean moved() {
        return TensorMemory.address(array) != values.address() || TensorMemory.address(grad) != grads.address();
    }

    /** True when the parameter or the gradient handle was closed (their model was). */
    boolean released() {
        return array.isReleased() || grad.isReleased();
    }
}
