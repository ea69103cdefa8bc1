package vecopt.verification;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;

/**
 * Several tensors "t0", "t1", ... in one pair of buffers (heap or off-heap), back to back or with gaps, and guard
 * elements in the gaps and after the last that must never change: the layout of the layer-wise optimizers'
 * properties, whose norms are per tensor (a tensor longer than a chunk spans chunks; adjacent tensors share one).
 */
final class TensorsRig implements AutoCloseable {
    final Arena arena;
    final Storage params;
    final Storage grads;
    final ParamSet set;
    final int[] offsets;
    final int[] lengths;
    private final int total;

    TensorsRig(int[] lengths, boolean gaps, boolean offHeap) {
        this.lengths = lengths.clone();
        this.offsets = new int[lengths.length];
        int at = gaps ? 3 : 0;
        for (int i = 0; i < lengths.length; i++) {
            offsets[i] = at;
            at += lengths[i] + (gaps ? 1 + i : 0);
        }
        this.total = at + Rig.GUARD;
        this.arena = offHeap ? Arena.ofShared() : null;
        this.params = offHeap ? Storage.allocate(arena, total) : Storage.of(new float[total]);
        this.grads = offHeap ? Storage.allocate(arena, total) : Storage.of(new float[total]);
        for (int i = 0; i < total; i++) {
            params.set(i, 1234.5f);
            grads.set(i, -99f);
        }
        ParamSet.Builder b = ParamSet.builder();
        for (int i = 0; i < lengths.length; i++) {
            b.add("t" + i, params, grads, offsets[i], lengths[i]);
        }
        this.set = b.build();
    }

    int count() {
        return lengths.length;
    }

    float[] params(int t) {
        return params.toArray(offsets[t], lengths[t]);
    }

    float[] grads(int t) {
        return grads.toArray(offsets[t], lengths[t]);
    }

    void setParams(int t, float[] p) {
        params.copyFrom(p, offsets[t]);
    }

    void setGrads(int t, float[] g) {
        grads.copyFrom(g, offsets[t]);
    }

    /** Random parameters and gradients for every tensor (see {@link Rig#values}). */
    void randomize(SplittableRandom r, int paramExp, int gradExp) {
        for (int t = 0; t < count(); t++) {
            setParams(t, Rig.values(r, lengths[t], paramExp, 3));
            setGrads(t, Rig.values(r, lengths[t], gradExp, 4));
        }
    }

    /** True when no element outside the tensors changed. */
    boolean guardsIntact() {
        int t = 0;
        for (int i = 0; i < total; i++) {
            while (t < count() && i >= offsets[t] + lengths[t]) {
                t++;
            }
            boolean inside = t < count() && i >= offsets[t];
            if (!inside && (params.get(i) != 1234.5f || grads.get(i) != -99f)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }
}
