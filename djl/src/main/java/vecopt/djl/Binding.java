package vecopt.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.util.Pair;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
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
 */
final class Binding implements AutoCloseable {
    private final List<BoundTensor> bound;
    private final List<Pair<String, Parameter>> unbound; // requires a gradient but had none when bound
    private final Optimizer<?> optimizer;

    private Binding(List<BoundTensor> bound, List<Pair<String, Parameter>> unbound, Optimizer<?> optimizer) {
        this.bound = List.copyOf(bound);
        this.unbound = List.copyOf(unbound);
        this.optimizer = optimizer;
    }

    /**
     * Binds {@code parameters} (DJL's names and parameters) and builds the optimizer with {@code build}; when
     * {@code previous} is given, the new optimizer takes over its state and counters
     * ({@link Optimizer#continueFrom}) and {@code previous} is closed. On failure nothing is closed but what was built
     * here, and {@code previous} is left as it was.
     */
    static Binding bind(List<Pair<String, Parameter>> parameters, Function<ParamSet, ? extends Optimizer<?>> build,
                        Binding previous) {
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
                bound.add(new BoundTensor(name, array, grad, values, grads));
                set.add(name, Storage.wrap(values), Storage.wrap(grads), 0, array.size());
            } catch (RuntimeException e) { // the handles taken so far are not kept (closing twice is harmless)
                if (grad != null) {
                    grad.close();
                }
                closeHandles(bound);
                throw e;
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
            throw e;
        }
        if (previous != null) {
            previous.close();
        }
        return new Binding(bound, unbound, optimizer);
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

    /** Closes the optimizer (freeing its state) and the gradient handles; DJL's tensors are not touched. */
    @Override
    public void close() {
        optimizer.close();
        closeHandles(bound);
    }
}
