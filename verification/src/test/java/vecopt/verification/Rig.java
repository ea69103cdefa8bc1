package vecopt.verification;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;

/**
 * One tensor named "w" of {@code length} elements at {@code offset} of its buffers (heap or off-heap), with guard
 * elements after it that must never change: the layout every property steps over.
 */
final class Rig implements AutoCloseable {
    static final int GUARD = 19;
    final Arena arena;
    final Storage params;
    final Storage grads;
    final ParamSet set;
    final int offset;
    final int length;

    Rig(int offset, int length, boolean offHeap) {
        this.offset = offset;
        this.length = length;
        int total = offset + length + GUARD;
        this.arena = offHeap ? Arena.ofShared() : null;
        this.params = offHeap ? Storage.allocate(arena, total) : Storage.of(new float[total]);
        this.grads = offHeap ? Storage.allocate(arena, total) : Storage.of(new float[total]);
        for (int i = 0; i < total; i++) { // guards: a recognizable value that a stray write would change
            params.set(i, 1234.5f);
            grads.set(i, -99f);
        }
        this.set = ParamSet.builder().add("w", params, grads, offset, length).build();
    }

    float[] params() {
        return params.toArray(offset, length);
    }

    float[] grads() {
        return grads.toArray(offset, length);
    }

    void setParams(float[] p) {
        params.copyFrom(p, offset);
    }

    void setGrads(float[] g) {
        grads.copyFrom(g, offset);
    }

    static float[] toArray(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_FLOAT);
    }

    /** True when no guard element (before or after the tensor) changed. */
    boolean guardsIntact() {
        for (int i = 0; i < offset; i++) {
            if (params.get(i) != 1234.5f || grads.get(i) != -99f) {
                return false;
            }
        }
        for (int i = offset + length; i < offset + length + GUARD; i++) {
            if (params.get(i) != 1234.5f || grads.get(i) != -99f) {
                return false;
            }
        }
        return true;
    }

    /**
     * Values whose binary exponents spread around {@code 2^exp} by +-{@code spread} octaves, random signs, and about
     * one in 16 exact zeros.
     */
    static float[] values(SplittableRandom r, int n, int exp, int spread) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            if (r.nextInt(16) == 0) {
                continue;
            }
            double mag = Math.scalb(1.0 + r.nextDouble(), exp + (spread == 0 ? 0 : r.nextInt(-spread, spread + 1)));
            a[i] = (float) (r.nextBoolean() ? mag : -mag);
        }
        return a;
    }

    /**
     * A step's gradients for the properties: {@link #values} around {@code 2^exp} (+-4 octaves, one in 16 zero),
     * and on about one step in eight a spike, every gradient 2^16 times larger.
     */
    static float[] grads(SplittableRandom r, int n, int exp) {
        return values(r, n, exp + (r.nextInt(8) == 0 ? 16 : 0), 4);
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }
}
