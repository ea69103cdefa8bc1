package vecopt.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.util.Pair;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;

/**
 * The DJL parameters bound to one vecopt optimizer: a {@link ParamSet} over the tensors' own memory (each parameter
 * its own pair of buffers, as PyTorch allocates them) and the optimizer built over it.
 *
 * <p>Built from the model as it is now: every parameter that requires a gradient and has one is bound; one without
 * a gradient yet (not reached by the backward pass) is left out, as PyTorch's optimizers skip a parameter whose
 * {@code grad} is None. Every parameter is checked (float32, CPU, contiguous, PyTorch) before the optimizer is built.
 *
 * <p>Under a 16-bit {@link Precision} the optimizer's gradient and/or parameter buffers are the binding's own
 * (off-heap, freed with it) instead of PyTorch's: {@link #narrowGradients()} fills the former before a step,
 * {@link #widenParameters()} copies the latter into PyTorch's memory after it.
 */
final class Binding implements AutoCloseable {
    private final List<BoundTensor> bound;
    private final List<Pair<String, Parameter>> unbound; // requires a gradient but had none when bound
    private final Optimizer<?> optimizer;
    private final Precision precision;
    private final Arena copies; // the 16-bit buffers; null when vecopt works on PyTorch's memory directly

    private Binding(List<BoundTensor> bound, List<Pair<String, Parameter>> unbound, Optimizer<?> optimizer,
                    Precision precision, Arena copies) {
        this.bound = List.copyOf(bound);
        this.unbound = List.copyOf(unbound);
        this.optimizer = optimizer;
        this.precision = precision;
        this.copies = copies;
    }

    /**
     * Binds {@code parameters} (DJL's names and parameters) and builds the optimizer with {@code build}; when
     * {@code previous} is given, the new optimizer takes over its state and counters
     * ({@link Optimizer#continueFrom}) and {@code previous} is closed. On failure nothing is closed but what was built
     * here, and {@code previous} is left as it was. Under 16-bit parameters, PyTorch's values are rounded to the
     * 16-bit type and written back (exactly what a 16-bit buffer holds; values already 16-bit, as after a
     * rebinding, are unchanged) once every parameter has been checked.
     */
    static Binding bind(List<Pair<String, Parameter>> parameters, Function<ParamSet, ? extends Optimizer<?>> build,
                        Binding previous, Precision precision) {
        Arena copies = precision.direct() ? null : Arena.ofShared(); // shared: the pool's threads read them
        List<BoundTensor> bound = new ArrayList<>();
        List<Pair<String, Parameter>> unbound = new ArrayList<>();
        ParamSet.Builder set = ParamSet.builder();
        for (Pair<String, Parameter> entry : parameters) {
            String name = entry.getKey();
            Parameter parameter = entry.getValue();
            if (!parameter.requiresGradient()) {
                continue; // e.g. BatchNorm's running statistics: not trained by an optimizer
            }
            PtNDArray grad = null;
            try {
                NDArray raw = parameter.isInitialized() ? parameter.getArray() : null;
                PtNDArray array = TensorMemory.checkedArray(name, raw);
                grad = TensorMemory.gradientOrNull(array);
                if (grad == null) {
                    unbound.add(entry);
                    continue;
                }
                MemorySegment values = TensorMemory.of("parameter '" + name + "'", array);
                MemorySegment grads = TensorMemory.of("the gradient of parameter '" + name + "'", grad);
                if (grads.byteSize() != values.byteSize()) {
                    throw new IllegalStateException("the gradient of parameter '" + name + "' has shape "
                            + grad.getShape() + ", the parameter " + array.getShape());
                }
                Storage p = precision.parameters() == Dtype.FLOAT32 ? Storage.wrap(values)
                        : Storage.allocate(copies, array.size(), precision.parameters());
                Storage g = precision.gradients() == Dtype.FLOAT32 ? Storage.wrap(grads)
                        : Storage.allocate(copies, array.size(), precision.gradients());
                bound.add(new BoundTensor(name, array, grad, values, grads, p, g));
                set.add(name, p, g, 0, array.size());
            } catch (RuntimeException e) { // the handles taken so far are not kept (closing twice is harmless)
                if (grad != null) {
                    grad.close();
                }
                closeHandles(bound);
                if (copies != null) {
                    copies.close();
                }
                throw e;
            }
        }
        if (precision.parameters() != Dtype.FLOAT32) { // every parameter checked: now PyTorch's may be written
            for (BoundTensor t : bound) {
                narrow(t.values(), t.params(), precision.parameters());
                widen(t.params(), t.values(), precision.parameters());
            }
        }
        Optimizer<?> optimizer = null;
        try {
            if (bound.isEmpty()) {
                throw new IllegalStateException("no parameter has a gradient: run the backward pass (e.g."
                        + " EasyTrain.trainBatch) before the step");
            }
            optimizer = build.apply(set.build());
            if (optimizer == null) {
                throw new IllegalArgumentException("the optimizer function returned null");
            }
            if (previous != null) {
                optimizer.continueFrom(previous.optimizer);
            }
        } catch (RuntimeException e) {
            if (optimizer != null) {
                optimizer.close();
            }
            closeHandles(bound);
            if (copies != null) {
                copies.close();
            }
            throw e;
        }
        if (previous != null) {
            previous.close();
        }
        return new Binding(bound, unbound, optimizer, precision, copies);
    }

    /** Before a step, under 16-bit gradients: PyTorch's float32 gradients rounded (nearest even) into vecopt's. */
    void narrowGradients() {
        if (precision.gradients() != Dtype.FLOAT32) {
            for (BoundTensor t : bound) {
                narrow(t.grads(), t.gradStorage(), precision.gradients());
            }
        }
    }

    /** After a step, under 16-bit parameters: vecopt's parameters widened (exactly) into PyTorch's memory. */
    void widenParameters() {
        if (precision.parameters() != Dtype.FLOAT32) {
            for (BoundTensor t : bound) {
                widen(t.params(), t.values(), precision.parameters());
            }
        }
    }

    private static void narrow(MemorySegment from, Storage to, Dtype type) {
        MemorySegment out = to.segment();
        long n = to.length();
        for (long i = 0; i < n; i++) {
            out.setAtIndex(ValueLayout.JAVA_SHORT, i,
                    Precision.round(type, from.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
        }
    }

    private static void widen(Storage from, MemorySegment to, Dtype type) {
        MemorySegment in = from.segment();
        long n = from.length();
        for (long i = 0; i < n; i++) {
            to.setAtIndex(ValueLayout.JAVA_FLOAT, i, Precision.widen(type, in.getAtIndex(ValueLayout.JAVA_SHORT, i)));
        }
    }

    /**
     * True when a bound tensor or its gradient moved, or a parameter left out for want of a gradient has one now:
     * then the model must be bound again before a step. A few JNI calls per parameter, nothing copied.
     */
    boolean stale() {
        for (BoundTensor t : bound) {
            if (t.moved()) {
                return true;
            }
        }
        for (Pair<String, Parameter> p : unbound) {
            NDArray array = p.getValue().getArray();
            if (array instanceof PtNDArray pt && !pt.isReleased()) {
                try (PtNDArray grad = TensorMemory.gradientOrNull(pt)) {
                    if (grad != null) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static void closeHandles(List<BoundTensor> bound) {
        for (BoundTensor t : bound) {
            t.grad().close();
        }
    }

    /** The name of the first bound parameter whose array was closed (its model was), or null. */
    String released() {
        for (BoundTensor t : bound) {
            if (t.released()) {
                return t.name();
            }
        }
        return null;
    }

    /** Sets every bound gradient to zero in place, as DJL's optimizers do after their update ({@code grad.zero_()}). */
    void zeroGradients() {
        for (BoundTensor t : bound) {
            t.grads().fill((byte) 0);
        }
    }

    List<BoundTensor> bound() {
        return bound;
    }

    List<String> unboundNames() {
        List<String> names = new ArrayList<>();
        for (Pair<String, Parameter> p : unbound) {
            names.add(p.getKey());
        }
        return names;
    }

    Optimizer<?> optimizer() {
        return optimizer;
    }

    /**
     * Closes the optimizer (freeing its state), the gradient handles and the 16-bit buffers; DJL's tensors are not
     * touched.
     */
    @Override
    public void close() {
        optimizer.close();
        closeHandles(bound);
        if (copies != null) {
            copies.close();
        }
    }
}
