package vecopt.verification;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;
import vecopt.param.Shape;

/**
 * Tensors "t0", "t1", ... of the given shapes in one parameter buffer and one gradient buffer (heap or off-heap),
 * back to back or with gaps, guard elements around them that must never change: for the optimizers that read
 * shapes (Adafactor factors rank >= 2 tensors over their last two dimensions).
 */
final class ShapedRig implements AutoCloseable {
    private static final float GUARD_P = 1234.5f, GUARD_G = -99f;
    final Arena arena;
    final Storage params;
    final Storage grads;
    final ParamSet set;
    final long[][] shapes;
    final int[] offsets;
    final int[] lengths;
    private final int total;

    ShapedRig(long[][] shapes, int[] gaps, boolean offHeap) {
        this.shapes = shapes;
        this.offsets = new int[shapes.length];
        this.lengths = new int[shapes.length];
        int at = 0;
        for (int i = 0; i < shapes.length; i++) {
            at += gaps[i];
            offsets[i] = at;
            lengths[i] = (int) Shape.of(shapes[i]).elements();
            at += lengths[i];
        }
        this.total = at + Rig.GUARD;
        this.arena = offHeap ? Arena.ofShared() : null;
        this.params = offHeap ? Storage.allocate(arena, total) : Storage.of(new float[total]);
        this.grads = offHeap ? Storage.allocate(arena, total) : Storage.of(new float[total]);
        for (int i = 0; i < total; i++) {
            params.set(i, GUARD_P);
            grads.set(i, GUARD_G);
        }
        ParamSet.Builder b = ParamSet.builder();
        for (int i = 0; i < shapes.length; i++) {
            b.add("t" + i, params, grads, offsets[i], lengths[i], Shape.of(shapes[i]));
        }
        this.set = b.build();
    }

    int count() {
        return shapes.length;
    }

    float[] params(int i) {
        return params.toArray(offsets[i], lengths[i]);
    }

    float[] grads(int i) {
        return grads.toArray(offsets[i], lengths[i]);
    }

    void setParams(int i, float[] p) {
        params.copyFrom(p, offsets[i]);
    }

    void setGrads(int i, float[] g) {
        grads.copyFrom(g, offsets[i]);
    }

    /** Parameters around {@code 2^paramExp} and gradients around {@code 2^gradExp}, from {@code r}. */
    void randomize(SplittableRandom r, int paramExp, int gradExp) {
        for (int i = 0; i < count(); i++) {
            setParams(i, Rig.values(r, lengths[i], paramExp, 4));
            setGrads(i, Rig.grads(r, lengths[i], gradExp));
        }
    }

    boolean guardsIntact() {
        int end = 0;
        for (int i = 0; i <= count(); i++) {
            int from = end, to = i < count() ? offsets[i] : total;
            for (int k = from; k < to; k++) {
                if (params.get(k) != GUARD_P || grads.get(k) != GUARD_G) {
                    return false;
                }
            }
            if (i < count()) {
                end = offsets[i] + lengths[i];
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
