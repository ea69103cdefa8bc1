package vecopt.optim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
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
    private final Map<Storage, Storage[]> byParams;
    private final Arena owned;

    StateBuffers(ParamSet params, List<String> names, Arena given) {
        this.names = List.copyOf(names);
        this.byParams = new IdentityHashMap<>(params.paramBuffers().size());
        this.owned = given == null && params.paramBuffers().stream().anyMatch(Storage::isNative)
                ? Arena.ofShared() : null;
        Arena arena = given != null ? given : owned;
        try {
            // Off-heap state comes from one slab per state variable, cut into 64-byte-aligned slices, one per
            // parameter buffer: a model of thousands of small tensors then keeps its moments in a few large
            // contiguous regions (huge pages, long prefetch streams) instead of thousands of small allocations.
            List<Storage> buffers = params.paramBuffers();
            long slab = 0;
            for (Storage p : buffers) {
                if (p.isNative()) {
                    slab += aligned(p.length());
                }
            }
            MemorySegment[] slabs = new MemorySegment[names.size()];
            for (int i = 0; i < slabs.length && slab > 0; i++) {
                slabs[i] = arena.allocate(slab * Float.BYTES, Storage.ALIGNMENT);
            }
            long at = 0;
            for (Storage p : buffers) {
                Storage[] s = new Storage[names.size()];
                for (int i = 0; i < s.length; i++) {
                    s[i] = p.isNative()
                            ? Storage.wrap(slabs[i].asSlice(at * Float.BYTES, p.length() * Float.BYTES))
                            : p.allocateLike(arena, p.length());
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
        return of(t.params())[i].segment().asSlice(t.offset() * Float.BYTES, t.length() * Float.BYTES).asReadOnly();
    }

    /** Sets state variable {@code name} to {@code value} over tensor {@code t}'s range (its starting value). */
    void fill(Tensor t, String name, float value) {
        MemorySegment s = of(t.params())[names.indexOf(name)].segment();
        for (long i = t.offset(); i < t.offset() + t.length(); i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, value);
        }
    }

    @Override
    public void close() {
        if (owned != null) {
            owned.close();
        }
    }
}
