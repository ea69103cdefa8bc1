package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import vecopt.clip.GlobalNorm;
import vecopt.clip.NonFinite;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * A model of many separate tensors, as autograd stacks hand them over: every tensor in its own buffer, or several in
 * one buffer with gaps between them, packed by the engine into work items. The packing must not change a single
 * bit: the same tensors laid out in one flat buffer get the same parameters and state, and any thread count gets the
 * same parameters, state and norms.
 */
class ManyTensorsProperties {

    /** A model: tensor sizes, and how many consecutive tensors share a buffer (1: every tensor its own). */
    record Model(int[] sizes, int perBuffer, int gap, boolean offHeap) {
        int total() {
            int n = 0;
            for (int s : sizes) {
                n += s;
            }
            return n;
        }

        @Override
        public String toString() {
            return sizes.length + " tensors of " + total() + " elements, " + perBuffer + " per buffer, gap " + gap
                    + (offHeap ? ", off-heap" : ", heap");
        }
    }

    /** Sizes log-uniform from 1 to 4096 (biases, norm scales, small matrices), now and then a tensor of 70,000. */
    @Provide
    Arbitrary<Model> models() {
        return Arbitraries.longs().map(seed -> {
            SplittableRandom r = new SplittableRandom(seed);
            int count = r.nextInt(1, 400);
            int[] sizes = new int[count];
            for (int i = 0; i < count; i++) {
                sizes[i] = r.nextInt(50) == 0 ? 70_000 : (int) Math.exp(r.nextDouble(0, Math.log(4096)));
            }
            return new Model(sizes, r.nextBoolean() ? 1 : r.nextInt(2, 20), r.nextInt(0, 3) * 5, r.nextBoolean());
        });
    }

    /** The tensors of {@code m} in their buffers, parameters and gradients from {@code seed}. */
    static ParamSet lay(Model m, Arena arena, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        ParamSet.Builder b = ParamSet.builder();
        for (int first = 0; first < m.sizes().length; first += m.perBuffer()) {
            int last = Math.min(m.sizes().length, first + m.perBuffer());
            long length = 0;
            for (int i = first; i < last; i++) {
                length += m.sizes()[i] + m.gap();
            }
            Storage p = m.offHeap() ? Storage.allocate(arena, length) : Storage.of(new float[(int) length]);
            Storage g = m.offHeap() ? Storage.allocate(arena, length) : Storage.of(new float[(int) length]);
            long at = 0;
            for (int i = first; i < last; i++) {
                b.add("t" + i, p, g, at, m.sizes()[i]);
                at += m.sizes()[i] + m.gap();
            }
        }
        ParamSet set = b.build();
        fill(set, r);
        return set;
    }

    /** The same tensors, end to end in one flat buffer (no gaps), with the same values. */
    static ParamSet flat(ParamSet many, Arena arena) {
        long n = many.size();
        Storage p = Storage.allocate(arena, n), g = Storage.allocate(arena, n);
        ParamSet.Builder b = ParamSet.builder();
        long at = 0;
        for (Tensor t : many.tensors()) {
            b.add(t.name(), p, g, at, t.length());
            p.copyFrom(t.params().toArray(t.offset(), (int) t.length()), at);
            g.copyFrom(t.grads().toArray(t.offset(), (int) t.length()), at);
            at += t.length();
        }
        return b.build();
    }

    static void fill(ParamSet set, SplittableRandom r) {
        for (Tensor t : set.tensors()) {
            t.params().copyFrom(Rig.values(r, (int) t.length(), -2, 3), t.offset());
            t.grads().copyFrom(Rig.values(r, (int) t.length(), -6, 4), t.offset());
        }
    }

    /** Parameters then each state variable, tensor by tensor. */
    static List<float[]> snapshot(ParamSet set, Optimizer<?> opt) {
        List<float[]> out = new ArrayList<>();
        for (Tensor t : set.tensors()) {
            out.add(t.params().toArray(t.offset(), (int) t.length()));
            for (String s : opt.stateNames()) {
                out.add(Rig.toArray(opt.state(t.name(), s)));
            }
        }
        return out;
    }

    static void assertSame(List<float[]> a, List<float[]> b, String what) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            Check.bitwiseEqual(what + " array " + i, a.get(i), b.get(i));
        }
    }

    static Optimizer<?> adamw(ParamSet set, int threads, boolean clipAndTrack) {
        AdamW.Builder b = AdamW.builder(set).options(AdamOptions.LLM_PRETRAINING.withAmsgrad(true)).threads(threads)
                .group("no_decay", AdamOptions.LLM_PRETRAINING.withWeightDecay(0), t -> t.length() < 64);
        return clipAndTrack ? b.clipGradNorm(1.0).trackNorms(true).build() : b.onNonFinite(NonFinite.PROCEED).build();
    }

    /**
     * Elementwise, packing is invisible: the update of every element is the same whatever buffer it sits in. (No
     * clipping here: the coefficient comes from a norm whose partial sums follow the layout, so it may differ from
     * the flat layout's in the last bit; across thread counts it may not, below.)
     */
    @Property(tries = 12)
    void manyBuffersUpdateAsOneFlatBuffer(@ForAll("models") Model m, @ForAll long seed) {
        try (Arena arena = Arena.ofShared()) {
            ParamSet many = lay(m, arena, seed);
            ParamSet flat = flat(many, arena);
            try (Optimizer<?> a = adamw(many, 2, false); Optimizer<?> b = adamw(flat, 2, false)) {
                for (int step = 0; step < 3; step++) {
                    a.step(1e-3);
                    b.step(1e-3);
                }
                List<float[]> sa = snapshot(many, a), sb = snapshot(flat, b);
                assertSame(sa, sb, m + ": many buffers vs flat");
            }
        }
    }

    /** Any thread count gives the same bits: parameters, state, gradient norm and the tracked norms. */
    @Property(tries = 12)
    void manyBuffersAreBitwiseTheSameOnAnyThreadCount(@ForAll("models") Model m, @ForAll long seed,
                                                      @ForAll @IntRange(min = 2, max = 4) int threads) {
        try (Arena arena = Arena.ofShared()) {
            ParamSet one = lay(m, arena, seed), more = lay(m, arena, seed);
            try (Optimizer<?> a = adamw(one, 1, true); Optimizer<?> b = adamw(more, threads, true)) {
                for (int step = 0; step < 3; step++) {
                    StepReport ra = a.step(1e-3);
                    double norm = ra.gradNorm(), update = ra.updateNorm(), param = ra.paramNorm();
                    StepReport rb = b.step(1e-3);
                    assertEquals(Double.doubleToRawLongBits(norm), Double.doubleToRawLongBits(rb.gradNorm()), "norm");
                    assertEquals(Double.doubleToRawLongBits(update), Double.doubleToRawLongBits(rb.updateNorm()),
                            "update norm");
                    assertEquals(Double.doubleToRawLongBits(param), Double.doubleToRawLongBits(rb.paramNorm()),
                            "param norm");
                    assertEquals(Double.doubleToRawLongBits(GlobalNorm.l2(one)), Double.doubleToRawLongBits(norm),
                            "the step's norm is GlobalNorm's");
                }
                assertSame(snapshot(one, a), snapshot(more, b), m + ": 1 vs " + threads + " threads");
            }
        }
    }

    /**
     * 100,000 separate buffers of 1 to 1024 elements (a model of many small tensors: norms, biases, experts) build
     * and step, with SGD as with AdamW, and every element moves as the flat layout's does. Construction used to be
     * quadratic in the buffer count (minutes for this many); how fast it is now is measured in the bench, not here.
     */
    @Test
    void aHundredThousandBuffersBuildAndStep() {
        int count = 100_000;
        SplittableRandom r = new SplittableRandom(7);
        int[] sizes = new int[count];
        for (int i = 0; i < count; i++) {
            sizes[i] = (int) Math.exp(r.nextDouble(0, Math.log(1024)));
        }
        try (Arena arena = Arena.ofShared()) {
            ParamSet many = lay(new Model(sizes, 1, 0, true), arena, 11);
            ParamSet flat = flat(many, arena);
            try (Optimizer<?> a = Sgd.builder(many).options(SgdOptions.MOMENTUM).threads(2).build();
                 Optimizer<?> b = Sgd.builder(flat).options(SgdOptions.MOMENTUM).threads(2).build()) {
                for (int step = 0; step < 2; step++) {
                    assertTrue(!a.step(0.01).skipped() && !b.step(0.01).skipped());
                }
                assertSame(snapshot(many, a), snapshot(flat, b), "100,000 buffers vs flat");
            }
        }
    }
}
