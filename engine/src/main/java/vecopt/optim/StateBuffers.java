package vecopt.optim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * An optimizer's state: for every parameter buffer, one buffer per state variable, of that buffer's length and
 * kind (heap for heap parameters, 64-byte aligned off-heap for off-heap ones), allocated zeroed when the optimizer
 * is built. Off-heap state comes from the arena the user gave, or from one this object owns and frees in
 * {@link #close()}.
 */
final class StateBuffers implements AutoCloseable {
    private final List<String> names;
    private final Dtype[] types;
    private final Map<Storage, Storage[]> byParams;
    private final Arena owned;

    StateBuffers(ParamSet params, List<String> names, Arena given) {
        this(params, names, Collections.nCopies(names.size(), Dtype.FLOAT32), given);
    }

    /** {@code types}: each variable's element type (float32, or bfloat16 for compressed state). */
    StateBuffers(ParamSet params, List<String> names, List<Dtype> types, Arena given) {
        this.names = List.copyOf(names);
        this.types = types.toArray(new Dtype[0]);
        this.byParams = new IdentityHashMap<>(params.paramBuffers().size());
        this.owned = given == null && params.paramBuffers().stream().anyMatch(Storage::isNative)
                ? Arena.ofShared() : null;
        Arena arena = given != null ? given : owned;
        try {
            // Off-heap state comes from one slab per state variable, cut into 64-byte-aligned slices, one per
            // parameter buffer: a model of thousands of small tensors then keeps its moments in a few large
            // contiguous regions (huge pages, long prefetch streams) instead of thousands of small allocations.
            // A slab of 0 bytes where every off-heap buffer is empty (a parameter set of empty tensors, which PyTorch
            // allows): their state is then slices of length 0, as for an empty buffer beside others.
            List<Storage> buffers = params.paramBuffers();
            long slab = 0;
            boolean anyNative = false;
            for (Storage p : buffers) {
                if (p.isNative()) {
                    slab += aligned(p.length());
                    anyNative = true;
                }
            }
            MemorySegment[] slabs = new MemorySegment[names.size()];
            for (int i = 0; i < slabs.length && anyNative; i++) {
                slabs[i] = arena.allocate(slab * this.types[i].bytes(), Storage.ALIGNMENT);
            }
            long at = 0;
            for (Storage p : buffers) {
                Storage[] s = new Storage[names.size()];
                for (int i = 0; i < s.length; i++) {
                    final int size = this.types[i].bytes();
                    s[i] = p.isNative()
                            ? Storage.wrap(slabs[i].asSlice(at * size, p.length() * size), this.types[i])
                            : this.types[i] == Dtype.FLOAT32 ? p.allocateLike(arena, p.length())
                            : heap16(p.length(), this.types[i]);
                }
                if (p.isNative()) {
                    at += aligned(p.length());
                }
                byParams.put(p, s);
            }
        } catch (RuntimeException | OutOfMemoryError e) { // e.g. too little memory for the state: free what we took
            if (owned != null) {
                owned.close();
            }
            throw e;
        }
    }

    private static Storage heap16(long length, Dtype type) {
        if (length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a heap buffer holds at most 2^31-9 elements, got " + length);
        }
        return Storage.of(new short[(int) length], type);
    }

    /** The element type of state variable {@code name}. */
    Dtype type(String name) {
        int i = names.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("stateName must be one of " + names + ", got '" + name + "'");
        }
        return types[i];
    }

    /** Floats up to the next multiple of 16 (64 bytes), so every slice starts on a cache line. */
    private static long aligned(long floats) {
        return (floats + 15) & ~15L;
    }

    List<String> names() {
        return names;
    }

    /** The state buffers of parameter buffer {@code params}, in {@link #names()} order. */
    Storage[] of(Storage params) {
        return byParams.get(params);
    }

    /** The segments the kernels see for parameter buffer {@code params}. */
    MemorySegment[] segments(Storage params) {
        Storage[] s = of(params);
        MemorySegment[] out = new MemorySegment[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = s[i].segment();
        }
        return out;
    }

    /** A read-only view of state variable {@code name} over tensor {@code t}'s range. */
    MemorySegment view(Tensor t, String name) {
        int i = names.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("stateName must be one of " + names + ", got '" + name + "'");
        }
        final int size = types[i].bytes();
        return of(t.params())[i].segment().asSlice(t.offset() * size, t.length() * size).asReadOnly();
    }

    /** Sets state variable {@code name} to {@code value} over tensor {@code t}'s range (its starting value). */
    void fill(Tensor t, String name, float value) {
        Storage s = of(t.params())[names.indexOf(name)];
        for (long i = t.offset(); i < t.offset() + t.length(); i++) {
            s.set(i, value);
        }
    }

    @Override
    public void close() {
        if (owned != null) {
            owned.close();
        }
    }
}
