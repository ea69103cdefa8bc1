package vecopt.verification.checkpoint;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.Optimizer;
import vecopt.optim.ParamGroup;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * A small model as a trainer lays one out: a tensor larger than one 64 Ki chunk in a buffer of its own (so two
 * threads share its update), a weight and a bias in one buffer with a gap before them, and a norm scale alone.
 * Parameters start from a seed; each step's gradients are a function of the step alone, with NaN at the steps given,
 * so that a resumed run sees exactly the gradients the uninterrupted one saw.
 */
final class Model implements AutoCloseable {
    static final int BIG = 70_001;
    final Arena arena;
    final Dtype dtype;
    final ParamSet set;
    private final long[] nanSteps;

    Model(boolean offHeap, long seed, long... nanSteps) {
        this(offHeap, seed, Dtype.FLOAT32, nanSteps);
    }

    /** As above, with parameter and gradient buffers of {@code dtype} (heap {@code short[]} when 16-bit). */
    Model(boolean offHeap, long seed, Dtype dtype, long... nanSteps) {
        this(offHeap, seed, dtype, false, nanSteps);
    }

    /**
     * The model, and with {@code empties} two empty tensors after it (PyTorch allows parameters with no elements):
     * {@code empty.alone} over buffers of length 0, {@code empty.tail} at the end of the norm scale's buffers. They
     * draw nothing from the random streams, so every other tensor starts and steps as in the model without them.
     */
    static Model withEmptyTensors(boolean offHeap, long seed, long... nanSteps) {
        return new Model(offHeap, seed, Dtype.FLOAT32, true, nanSteps);
    }

    private Model(boolean offHeap, long seed, Dtype dtype, boolean empties, long... nanSteps) {
        this.dtype = dtype;
        this.arena = offHeap ? Arena.ofShared() : null;
        this.nanSteps = nanSteps.clone();
        Storage pa = alloc(BIG), ga = alloc(BIG);
        Storage pb = alloc(5 + 3000 + 37), gb = alloc(5 + 3000 + 37);
        Storage pc = alloc(16), gc = alloc(16);
        ParamSet.Builder b = ParamSet.builder()
                .add("emb.weight", pa, ga, 0, BIG)
                .add("fc.weight", pb, gb, 5, 3000)
                .add("fc.bias", pb, gb, 3005, 37)
                .add("norm.scale", pc, gc, 0, 16);
        if (empties) {
            b.add("empty.alone", alloc(0), alloc(0), 0, 0).add("empty.tail", pc, gc, 16, 0);
        }
        this.set = b.build();
        SplittableRandom r = new SplittableRandom(seed);
        for (Tensor t : set.tensors()) {
            for (long i = 0; i < t.length(); i++) {
                t.params().set(t.offset() + i, (float) (r.nextGaussian() * 0.5));
            }
        }
    }

    private Storage alloc(long n) {
        if (arena != null) {
            return Storage.allocate(arena, n, dtype);
        }
        return dtype == Dtype.FLOAT32 ? Storage.of(new float[(int) n]) : Storage.of(new short[(int) n], dtype);
    }

    /** Fills the gradients of step {@code step} (0-based). */
    void gradients(long step) {
        gradients(step, 1.0);
    }

    /**
     * Fills the gradients of step {@code step} multiplied by {@code lossScale} (a GradScaler's scale, a power of two:
     * the unscaled gradients are then those of {@link #gradients(long)} whatever the scale, until one overflows).
     */
    void gradients(long step, double lossScale) {
        SplittableRandom r = new SplittableRandom(1_000_003L * step + 17);
        for (Tensor t : set.tensors()) {
            for (long i = 0; i < t.length(); i++) {
                t.grads().set(t.offset() + i, (float) (r.nextGaussian() * 0.3 * (1 + step % 3) * lossScale));
            }
        }
        for (long bad : nanSteps) {
            if (bad == step) {
                Tensor t = set.tensors().get(1);
                t.grads().set(t.offset() + 7, Float.NaN);
            }
        }
    }

    /** Every parameter and state element, bit for bit, and the counters. */
    static Image image(Optimizer<?> opt) {
        List<int[]> bits = new ArrayList<>();
        List<String> what = new ArrayList<>();
        for (Tensor t : opt.params().tensors()) {
            bits.add(ints(t.params().toArray(t.offset(), (int) t.length())));
            what.add("param " + t.name());
            for (String s : opt.stateNames()) {
                if (opt.stateType(s) == Dtype.FLOAT32) {
                    bits.add(opt.state(t.name(), s).toArray(ValueLayout.JAVA_INT));
                } else { // bfloat16 state: its bits, one int each
                    short[] h = opt.state(t.name(), s).toArray(ValueLayout.JAVA_SHORT);
                    int[] b = new int[h.length];
                    for (int i = 0; i < h.length; i++) {
                        b[i] = h[i];
                    }
                    bits.add(b);
                }
                what.add(s + " of " + t.name());
            }
        }
        List<Long> counters = new ArrayList<>();
        counters.add(opt.steps());
        for (ParamGroup<?> g : opt.groups()) {
            counters.add(g.steps());
        }
        return new Image(what, bits, counters);
    }

    private static int[] ints(float[] f) {
        int[] out = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = Float.floatToRawIntBits(f[i]);
        }
        return out;
    }

    /** A bitwise picture of an optimizer's parameters, state and counters. */
    record Image(List<String> what, List<int[]> bits, List<Long> counters) {
        /** Throws, naming the first element that differs, unless {@code other} is bitwise the same. */
        void assertSameAs(Image other, String context) {
            if (!counters.equals(other.counters)) {
                throw new AssertionError(context + ": counters (steps, group steps) " + counters + " vs "
                        + other.counters);
            }
            if (!what.equals(other.what)) {
                throw new AssertionError(context + ": tensors " + what + " vs " + other.what);
            }
            for (int k = 0; k < bits.size(); k++) {
                int[] a = bits.get(k), b = other.bits.get(k);
                for (int i = 0; i < a.length; i++) {
                    if (a[i] != b[i]) {
                        throw new AssertionError(context + ": " + what.get(k) + " element " + i + " differs: "
                                + Float.intBitsToFloat(a[i]) + " vs " + Float.intBitsToFloat(b[i]));
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }
}
