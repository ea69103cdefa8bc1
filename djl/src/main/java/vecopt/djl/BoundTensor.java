package vecopt.djl;

import ai.djl.pytorch.engine.PtNDArray;
import java.lang.foreign.MemorySegment;

/**
 * One DJL parameter as vecopt sees it: its name, its PyTorch array, and the memory of its values and of its gradient
 * at the addresses they had when bound. The segments alias the tensors (no copy); they are only written after
 * {@link #moved()} said both addresses are still the tensors' own.
 *
 * @param name   DJL's parameter name (the key of {@code Block.getParameters()}), also its name in vecopt
 * @param array  the parameter's array, the one DJL's forward pass reads
 * @param values the parameter's memory
 * @param grads  its gradient's memory
 */
record BoundTensor(String name, PtNDArray array, MemorySegment values, MemorySegment grads) {
    /**
     * True when the parameter's values or its gradient no longer live where they were bound (PyTorch swapped the
     * storage: {@code NDArray.set}, {@code copyTo}, a new gradient). Two JNI calls; nothing is copied.
     */
    boolean moved() {
        if (TensorMemory.address(array) != values.address()) {
            return true;
        }
        try (PtNDArray grad = TensorMemory.gradientOrNull(array)) {
            return grad == null || TensorMemory.address(grad) != grads.address();
        }
    }
}
