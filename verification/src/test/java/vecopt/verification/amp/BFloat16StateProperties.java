package vecopt.verification.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import vecopt.kernel.KernelProvider;
import vecopt.memory.BFloat16;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.param.ParamSet;
import vecopt.reference.StochasticRounding;

/**
 * AdamW with bfloat16 state ({@code bfloat16State(seed)}), bit for bit: each step, each element, the kernels'
 * float operations (those the float32 kernel performs, stated in {@code AdamStep}'s Javadoc: {@code fma(m, b1, g*c1)},
 * {@code fma(v, b2, (g*c2)*g)}, {@code fma(sqrt(v), 1/sqrt(bc2), eps)}, {@code fma(m/denom, -lr/bc1, p*(1-lr*wd))},
 * with the scalars rounded to float) on the widened stored state, each new moment rounded by the reference's
 * {@link StochasticRounding} with the variable's key and the element's index, and the update computed from the
 * rounded moments. The float32 path of the same operations is held to the double reference by
 * {@code OptimizerVsReferenceProperties}; what this adds is the storage: the rounding, the keys, the indices, the
 * slicing of 2-byte state across chunks, heap and off-heap, threads, SIMD and scalar.
 */
class BFloat16StateProperties {
    static final int LANES = KernelProvider.kernels().lanes();

    record Case(int length, int offset, boolean offHeap, int threads, boolean vectorized, boolean amsgrad,
                double weightDecay, double lr, int steps, long seed) {
    }

    @Property(tries = 80)
    void eachStepIsTheFloatFormulaOnTheStoredStateRoundedStochastically(@ForAll("cases") Case k) {
        SplittableRandom rnd = new SplittableRandom(k.seed());
        int n = k.length(), total = k.offset() + n + 5;
        try (Arena arena = Arena.ofShared()) {
            Storage p = k.offHeap() ? Storage.allocate(arena, total) : Storage.of(new float[total]);
            Storage g = k.offHeap() ? Storage.allocate(arena, total) : Storage.of(new float[total]);
            for (int i = 0; i < total; i++) {
                p.set(i, (float) rnd.nextDouble(-1, 1));
            }
            ParamSet set = ParamSet.builder().add("w", p, g, k.offset(), n).build();
            double b1 = 0.9, b2 = 0.999, eps = 1e-8;
            AdamOptions o = new AdamOptions(b1, b2, eps, k.weightDecay(), k.amsgrad(), 1.0, false);
            try (AdamW opt = AdamW.builder(set).options(o).threads(k.threads()).vectorized(k.vectorized())
                    .bfloat16State(k.seed()).build()) {
                assertEquals(Dtype.BFLOAT16, opt.stateType("exp_avg"));
                for (int t = 1; t <= k.steps(); t++) {
                    for (int i = k.offset(); i < k.offset() + n; i++) {
                        g.set(i, (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(-20, 4))));
                    }
                    float[] p0 = p.toArray(k.offset(), n), g0 = g.toArray(k.offset(), n);
                    short[] m0 = bits(opt.state("w", "exp_avg")), v0 = bits(opt.state("w", "exp_avg_sq"));
                    short[] x0 = k.amsgrad() ? bits(opt.state("w", "max_exp_avg_sq")) : null;
                    opt.step(k.lr());
                    // AdamStep's per-step scalars, in double then rounded to float
                    float fb1 = (float) b1, fc1 = (float) (1 - b1), fb2 = (float) b2, fc2 = (float) (1 - b2);
                    float invBc2 = (float) (1.0 / Math.sqrt(1.0 - Math.pow(b2, t)));
                    float negStep = (float) (-k.lr() / (1.0 - Math.pow(b1, t)));
                    float decay = (float) (1.0 - k.lr() * k.weightDecay()), feps = (float) eps;
                    int km = StochasticRounding.stateKey(k.seed(), t, 0), kv = StochasticRounding.stateKey(k.seed(), t, 1);
                    int kx = StochasticRounding.stateKey(k.seed(), t, 2);
                    short[] m1 = bits(opt.state("w", "exp_avg")), v1 = bits(opt.state("w", "exp_avg_sq"));
                    short[] x1 = k.amsgrad() ? bits(opt.state("w", "max_exp_avg_sq")) : null;
                    float[] p1 = p.toArray(k.offset(), n);
                    for (int i = 0; i < n; i++) {
                        long index = k.offset() + i;
                        String at = "step " + t + ", element " + i + ", " + k;
                        float gi = g0[i];
                        short mb = (short) StochasticRounding.bfloat16(
                                Math.fma(BFloat16.widen(m0[i]), fb1, gi * fc1), StochasticRounding.random(km, index));
                        short vb = (short) StochasticRounding.bfloat16(
                                Math.fma(BFloat16.widen(v0[i]), fb2, (gi * fc2) * gi),
                                StochasticRounding.random(kv, index));
                        assertEquals(mb, m1[i], "exp_avg bits, " + at);
                        assertEquals(vb, v1[i], "exp_avg_sq bits, " + at);
                        float v = BFloat16.widen(vb);
                        if (x1 != null) {
                            short xb = (short) StochasticRounding.bfloat16(Math.max(BFloat16.widen(x0[i]), v),
                                    StochasticRounding.random(kx, index));
                            assertEquals(xb, x1[i], "max_exp_avg_sq bits, " + at);
                            v = BFloat16.widen(xb);
                        }
                        float denom = Math.fma((float) Math.sqrt(v), invBc2, feps);
                        float expected = Math.fma(BFloat16.widen(mb) / denom, negStep, p0[i] * decay);
                        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(p1[i]),
                                "param bits (expected " + expected + ", got " + p1[i] + "), " + at);
                    }
                }
            }
        }
    }

    private static short[] bits(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_SHORT);
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Integer> lengths = Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.of(0, 1, LANES - 1, LANES, LANES + 1, 1021)),
                Tuple.of(2, Arbitraries.integers().between(0, 3000)),
                Tuple.of(1, Arbitraries.integers().between(66_000, 70_000))); // across chunks of the grid
        return Combinators.combine(
                Combinators.combine(lengths, Arbitraries.integers().between(0, 9), Arbitraries.of(false, true),
                        Arbitraries.integers().between(1, 3), Arbitraries.of(true, true, false)).as(Tuple::of),
                Arbitraries.of(false, true), Arbitraries.of(0.0, 0.01, 0.1),
                Arbitraries.doubles().between(-5, -1).ofScale(3).map(x -> Math.pow(10, x)),
                Arbitraries.integers().between(1, 3), Arbitraries.longs())
                .as((l, ams, wd, lr, steps, seed) -> new Case(l.get1(), l.get2(), l.get3(), l.get4(), l.get5(), ams,
                        wd, lr, steps, seed));
    }
}
