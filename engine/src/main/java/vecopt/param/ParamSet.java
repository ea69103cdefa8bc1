package vecopt.param;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import vecopt.memory.Storage;

/**
 * The parameters a trainer optimizes: named tensors, each a range of a flat parameter buffer with its gradient at
 * the same range of a gradient buffer. Tensors may share buffers (one flat buffer for a whole model) or live in
 * separate ones (shards); ranges in one buffer must not overlap. A tensor may declare its {@link Shape}
 * (1-D by default): optimizers with per-row or per-column statistics read it, checkpoints record it.
 *
 * <pre>{@code
 * ParamSet set = ParamSet.builder()
 *         .add("fc.weight", params, grads, 0, 4096, Shape.of(64, 64))   // row-major [out, in]
 *         .add("fc.bias", params, grads, 4096, 64)                      // 1-D: [64]
 *         .build();
 * }</pre>
 */
public final class ParamSet {
    private final List<Tensor> tensors;
    private final Map<String, Tensor> byName;
    private final List<Storage> paramBuffers;

    private ParamSet(List<Tensor> tensors) {
        this.tensors = List.copyOf(tensors);
        // Maps sized for the count up front: with 100,000 tensors, rehashing was a visible part of construction.
        Map<String, Tensor> names = HashMap.newHashMap(tensors.size());
        for (Tensor t : tensors) {
            if (names.put(t.name(), t) != null) {
                throw new IllegalArgumentException("tensor name '" + t.name() + "' is used twice");
            }
        }
        this.byName = Collections.unmodifiableMap(names);
        checkNoOverlap(this.tensors);
        Map<Storage, Boolean> seen = new IdentityHashMap<>(this.tensors.size());
        List<Storage> buffers = new ArrayList<>();
        for (Tensor t : this.tensors) {
            if (seen.put(t.params(), Boolean.TRUE) == null) {
                buffers.add(t.params());
            }
        }
        this.paramBuffers = List.copyOf(buffers);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A set of the given tensors, in that order. */
    public static ParamSet of(List<Tensor> tensors) {
        return new ParamSet(tensors);
    }

    public List<Tensor> tensors() {
        return tensors;
    }

    /** The tensor called {@code name}; throws if there is none. */
    public Tensor tensor(String name) {
        Tensor t = byName.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor named '" + name + "' in this parameter set");
        }
        return t;
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** Total number of parameters. */
    public long size() {
        long n = 0;
        for (Tensor t : tensors) {
            n += t.length();
        }
        return n;
    }

    /** The distinct parameter buffers, in order of first appearance. */
    public List<Storage> paramBuffers() {
        return paramBuffers;
    }

    private static void checkNoOverlap(List<Tensor> tensors) {
        Map<Storage, List<Tensor>> perBuffer = new IdentityHashMap<>(tensors.size());
        Map<Storage, Storage> gradOf = new IdentityHashMap<>(tensors.size());
        for (Tensor t : tensors) {
            perBuffer.computeIfAbsent(t.params(), k -> new ArrayList<>()).add(t);
            Storage g = gradOf.putIfAbsent(t.params(), t.grads());
            if (g != null && g != t.grads()) {
                throw new IllegalArgumentException("tensor '" + t.name()
                        + "': tensors of one parameter buffer must share one gradient buffer");
            }
        }
        // Every buffer in its one role, and no memory behind two Storage objects: otherwise an update could write
        // what another chunk reads as a gradient, or one element could be updated twice in a step.
        // Checked in O(n log n) for n buffers: heap buffers by array identity, off-heap ones sorted by address.
        List<Storage> buffers = new ArrayList<>(perBuffer.keySet());
        buffers.addAll(gradOf.values());
        Map<Object, Storage> byArray = new IdentityHashMap<>();
        Map<Storage, Boolean> seen = new IdentityHashMap<>(buffers.size());
        List<Storage> offHeap = new ArrayList<>();
        for (Storage b : buffers) {
            if (seen.put(b, Boolean.TRUE) != null) {
                throw sharing(b, b);
            }
            if (b.isNative()) {
                offHeap.add(b);
            } else {
                Storage other = byArray.put(b.segment().heapBase().orElseThrow(), b);
                if (other != null) {
                    throw sharing(other, b);
                }
            }
        }
        offHeap.removeIf(b -> b.length() == 0); // an empty buffer holds no memory to share
        List<Placed> placed = new ArrayList<>(offHeap.size()); // addresses read once, not twice per comparison
        for (Storage b : offHeap) {
            placed.add(new Placed(b.segment().address(), end(b), b));
        }
        placed.sort(Comparator.comparingLong(Placed::address));
        Placed reach = null; // the buffer reaching furthest so far
        for (Placed b : placed) {
            if (reach != null && b.storage().overlaps(reach.storage())) {
                throw sharing(reach.storage(), b.storage());
            }
            if (reach == null || b.end() > reach.end()) {
                reach = b;
            }
        }
        for (List<Tensor> list : perBuffer.values()) {
            List<Tensor> sorted = new ArrayList<>(list);
            sorted.removeIf(t -> t.length() == 0); // an empty range overlaps nothing, and must not hide a neighbour
            sorted.sort(Comparator.comparingLong(Tensor::offset));
            Tensor furthest = null; // the tensor reaching furthest so far
            for (Tensor t : sorted) {
                if (furthest != null && t.offset() < furthest.end()) {
                    throw new IllegalArgumentException("tensors '" + furthest.name() + "' [" + furthest.offset() + ", "
                            + furthest.end() + ") and '" + t.name() + "' [" + t.offset() + ", " + t.end() + ") overlap");
                }
                if (furthest == null || t.end() > furthest.end()) {
                    furthest = t;
                }
            }
        }
    }

    private record Placed(long address, long end, Storage storage) {
    }

    private static long end(Storage b) {
        return b.segment().address() + b.segment().byteSize();
    }

    private static IllegalArgumentException sharing(Storage a, Storage b) {
        return new IllegalArgumentException("buffers " + a + " and " + b + " share memory: a parameter buffer is also"
                + " a gradient buffer, or one buffer is wrapped twice; give each role its own memory and wrap it once");
    }

    /** Collects tensors in order; {@link #build()} validates names and ranges. */
    public static final class Builder {
        private final List<Tensor> tensors = new ArrayList<>();

        public Builder add(String name, Storage params, Storage grads, long offset, long length) {
            tensors.add(new Tensor(name, params, grads, offset, length));
            return this;
        }

        /**
         * A tensor with a declared shape (row-major), e.g. {@code add("fc.weight", p, g, 0, 256 * 1024,
         * Shape.of(256, 1024))}; its product must be {@code length}.
         */
        public Builder add(String name, Storage params, Storage grads, long offset, long length, Shape shape) {
            tensors.add(new Tensor(name, params, grads, offset, length, shape));
            return this;
        }

        public Builder add(Tensor tensor) {
            tensors.add(tensor);
            return this;
        }

        public ParamSet build() {
            return new ParamSet(tensors);
        }
    }
}
