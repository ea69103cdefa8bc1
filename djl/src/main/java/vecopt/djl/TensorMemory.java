package vecopt.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * Where a DJL PyTorch tensor's values live, as a {@link MemorySegment} over the tensor's own memory (no copy), and the
 * checks that make that safe.
 *
 * <p>{@link NDArray#toByteBuffer(boolean) toByteBuffer(true)} on a contiguous CPU tensor is a direct buffer over
 * {@code tensor.data_ptr()} (DJL's {@code JniUtils.getByteBuffer}, PyTorch's {@code NewDirectByteBuffer}); on a
 * non-contiguous, sparse or MKL-DNN tensor it silently returns a fresh contiguous copy instead, so writes would be
 * lost. A copy is told apart by asking twice: the same tensor's memory has one address, two copies have two.
 */
final class TensorMemory {
    private TensorMemory() {
    }

    /** The PyTorch array of parameter {@code name}, checked to be a float32 CPU tensor that vecopt may update. */
    static PtNDArray checkedArray(String name, NDArray array) {
        if (array == null) {
            throw new IllegalStateException("parameter '" + name + "' has no array: initialize the model (e.g."
                    + " trainer.initialize(shape)) and run a forward and backward pass before the first step");
        }
        if (array.isReleased()) {
            throw new IllegalStateException("parameter '" + name + "' is closed: its model was closed");
        }
        if (!(array instanceof PtNDArray pt)) {
            throw new IllegalArgumentException("parameter '" + name + "' is a " + array.getClass().getSimpleName()
                    + " of DJL's " + array.getManager().getEngine().getEngineName() + " engine: the vecopt bridge"
                    + " works with DJL's PyTorch engine only (its toByteBuffer(true) is what aliases a tensor's"
                    + " memory)");
        }
        if (array.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("parameter '" + name + "' is " + array.getDataType()
                    + ": vecopt updates float32 tensors only (keep the model in float32, or make this parameter"
                    + " not require a gradient)");
        }
        if (!Device.Type.CPU.equals(array.getDevice().getDeviceType())) {
            throw new IllegalArgumentException("parameter '" + name + "' is on " + array.getDevice()
                    + ": vecopt updates CPU memory only");
        }
        return pt;
    }

    /** The memory of {@code array}, which holds the values of {@code what}; refuses an array that would be copied. */
    static MemorySegment of(String what, PtNDArray array) {
        long bytes = array.size() * Float.BYTES;
        ByteBuffer first = array.toByteBuffer(true);
        MemorySegment segment = MemorySegment.ofBuffer(first);
        if (segment.byteSize() != bytes) {
            throw new IllegalArgumentException(what + ": the tensor's buffer holds " + segment.byteSize()
                    + " bytes, its shape " + array.getShape() + " needs " + bytes);
        }
        long again = MemorySegment.ofBuffer(array.toByteBuffer(true)).address();
        if (again != segment.address()) {
            throw new IllegalArgumentException(what + " is not contiguous (shape " + array.getShape() + "): DJL hands"
                    + " out a copy of it, which vecopt would update in vain; make it contiguous before training");
        }
        return segment;
    }

    /** The address of {@code array}'s memory now: one JNI call and a direct buffer, no copy and no check. */
    static long address(PtNDArray array) {
        return MemorySegment.ofBuffer(array.toByteBuffer(true)).address();
    }

    /**
     * The gradient of {@code parameter}, or null when PyTorch has none for it yet (not reached by a backward pass).
     * {@link NDArray#getGradient()} is not asked: for a parameter without a gradient it returns a temporary array of
     * zeros, freed when closed, which would leave the bridge writing to freed memory.
     */
    static PtNDArray gradientOrNull(PtNDArray parameter) {
        return JniUtils.getGradient(parameter);
    }
}
