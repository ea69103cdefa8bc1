package vecopt.verification.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vecopt.verification.amp.MixedPrecisionProperties.LANES;
import static vecopt.verification.amp.MixedPrecisionProperties.assertBits;
import static vecopt.verification.amp.MixedPrecisionProperties.raw;
import static vecopt.verification.amp.MixedPrecisionProperties.storage;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.Adafactor;
import vecopt.optim.AdafactorOptions;
import vecopt.optim.Optimizer;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.param.Shape;
import vecopt.param.Tensor;
import vecopt.reference.StochasticRounding;

/**
 * Adafactor on 16-bit parameters and bfloat16 state, each configuration held bit for bit to its identity:
 * <ul>
 *   <li>{@link #sixteenBitParametersAreTheFloat32StepOnTheirFloat32Values}: bfloat16 or float16 parameters with a
 *       float32 master copy are the float32 Adafactor on the master (a float32 twin that started at the 16-bit values
 *       widened): the master the twin's parameters, the 16-bit copy their nearest-even rounding; bfloat16 parameters
 *       without a master are, each step, the float32 step on their values widened (the twin's parameters set to them
 *       before the step), rounded by the reference's {@link StochasticRounding} with the step's key and each element's
 *       index in the buffer. State, RMS, lr and clipping divisor of every tensor are the twin's, bit for bit.</li>
 *   <li>{@link #bfloat16StateIsTheFloat32StepOnTheWidenedState}: with {@code bfloat16State(seed)}, before each step a
 *       fresh twin with float32 state (the same parameter storage) takes the state over, widened exactly
 *       ({@code continueFrom}); both step. A factored tensor's parameters (and master) are the twin's, its
 *       {@code exp_avg} the twin's rounded with variable 0's key; a 1-D tensor's {@code exp_avg_sq} is the twin's
 *       rounded with variable 1's key and its RMS, lr and clipping divisor the twin's (pass 1 sums the update from
 *       the new state as computed); its apply pass reads {@code exp_avg_sq} as stored, so its {@code exp_avg} and
 *       parameters are checked against {@code AdafactorStep}'s float operations on the stored value, widened.</li>
 * </ul>
 * Gradients float32, bfloat16 or float16; 1 to 3 threads, heap or off-heap, SIMD or scalar, against a twin on one
 * thread and heap memory with the same kernels: with the float32 twin held to the reference elsewhere
 * ({@code AdafactorProperties}), the results are the same for any thread count and either memory. Shapes as
 * {@link AdafactorSixteenBitProperties}: matrices (or batches of them) with rows and columns around the vector
 * width, 1 to 9 rows, sometimes more than a chunk of Adafactor's grid, next to a 1-D tensor across vectors and
 * chunks, in one buffer; guard elements never change.
 */
class AdafactorMixedStorageProperties {
    static final int GUARD = AdafactorSixteenBitProperties.GUARD;

    /** How the parameters are stored: float32, 16-bit with a float32 master copy, bfloat16 rounded stochastically. */
    enum Params {
        FLOAT32(Dtype.FLOAT32), BFLOAT16_MASTER(Dtype.BFLOAT16), FLOAT16_MASTER(Dtype.FLOAT16),
        BFLOAT16_STOCHASTIC(Dtype.BFLOAT16);

        final Dtype type;

        Params(Dtype type) {
            this.type = type;
        }

        boolean master() {
            return this == BFLOAT16_MASTER || this == FLOAT16_MASTER;
        }
    }

    record Case(Params params, Dtype gradType, long[] shape, int vectorLength, boolean beta1, double weightDecay,
                boolean manual, boolean clip, boolean maximize, boolean offHeap, int threads, boolean vectorized,
                int steps, int gradExp, long seed) {
        @Override
        public String toString() {
            return "Case[" + params + ", grads " + gradType + ", shape " + java.util.Arrays.toString(shape) + ", 1-D "
                    + vectorLength + ", beta1 " + beta1 + ", wd " + weightDecay + ", manual " + manual + ", clip "
                    + clip + ", maximize " + maximize + ", offHeap " + offHeap + ", threads " + threads + ", simd "
                    + vectorized + ", steps " + steps + ", gradExp " + gradExp + ", seed " + seed + "]";
        }

        long matrix() {
            return Shape.of(shape).elements();
        }

        long roundingSeed() {
            return seed * 17 + 3;
        }

        long stateSeed() {
            return seed * 31 + 7;
        }
    }

    @Property(tries = 60)
    void sixteenBitParametersAreTheFloat32StepOnTheirFloat32Values(@ForAll("parameterCases") Case k) {
        SplittableRandom rnd = new SplittableRandom(k.seed());
        final int at1 = (int) (GUARD + k.matrix() + GUARD), total = at1 + k.vectorLength() + GUARD;
        try (Arena arena = Arena.ofShared()) {
            Storage pa = storage(arena, k.offHeap(), k.params().type, total);
            Storage ga = storage(arena, k.offHeap(), k.gradType(), total);
            Storage pb = storage(arena, false, Dtype.FLOAT32, total);
            Storage gb = storage(arena, false, Dtype.FLOAT32, total);
            fill(rnd, pa, ga, k, at1, total);
            for (int i = 0; i < total; i++) {
                pb.set(i, pa.get(i)); // the stored values, widened
                gb.set(i, -99f);
            }
            ParamSet set = params(pa, ga, k, at1);
            ParamSet twinSet = params(pb, gb, k, at1);
            try (Adafactor a = build(set, k, k.threads(), false); Adafactor b = build(twinSet, k, 1, false)) {
                assertEquals(k.params().master(), a.stateNames().contains(Optimizer.MASTER), "a master copy, " + k);
                for (int t = 1; t <= k.steps(); t++) {
                    gradients(rnd, set, ga, gb, k);
                    if (k.params() == Params.BFLOAT16_STOCHASTIC) { // the twin steps from the stored values
                        for (int i = 0; i < total; i++) {
                            pb.set(i, pa.get(i));
                        }
                    }
                    StepReport ra = a.step(1.0);
                    StepReport rb = b.step(1.0);
                    String at = k + ", step " + t;
                    assertEquals(rb.gradNorm(), ra.gradNorm(), 0.0, "gradNorm, " + at);
                    assertEquals(rb.clipCoef(), ra.clipCoef(), 0.0, "clipCoef, " + at);
                    for (Tensor x : twinSet.tensors()) {
                        assertSameState(a, b, x.name(), k.beta1(), at);
                        assertScalars(a, b, x.name(), at);
                        float[] twin = pb.toArray(x.offset(), (int) x.length());
                        if (k.params().master()) {
                            assertBits(Optimizer.MASTER + " of " + x.name(), at, twin,
                                    raw(a.state(x.name(), Optimizer.MASTER)));
                        }
                        float[] expected = new float[twin.length];
                        int key = StochasticRounding.key(k.roundingSeed(), t);
                        for (int i = 0; i < twin.length; i++) {
                            expected[i] = k.params() == Params.BFLOAT16_STOCHASTIC
                                    ? Float.intBitsToFloat(StochasticRounding.bfloat16(twin[i],
                                            StochasticRounding.random(key, x.offset() + i)) << 16)
                                    : k.params().type.roundTrip(twin[i]);
                        }
                        assertBits("params of " + x.name() + " (the twin's, rounded)", at, expected,
                                pa.toArray(x.offset(), twin.length));
                    }
                    assertGuards(pa, ga, k, at1, total, at);
                }
            }
        }
    }

    @Property(tries = 80)
    void bfloat16StateIsTheFloat32StepOnTheWidenedState(@ForAll("stateCases") Case k) {
        SplittableRandom rnd = new SplittableRandom(k.seed());
        final int at1 = (int) (GUARD + k.matrix() + GUARD), total = at1 + k.vectorLength() + GUARD;
        try (Arena arena = Arena.ofShared()) {
            Storage pa = storage(arena, k.offHeap(), k.params().type, total);
            Storage ga = storage(arena, k.offHeap(), k.gradType(), total);
            Storage pb = storage(arena, false, k.params().type, total);
            Storage gb = storage(arena, false, k.gradType(), total);
            fill(rnd, pa, ga, k, at1, total);
            ParamSet set = params(pa, ga, k, at1);
            ParamSet twinSet = params(pb, gb, k, at1);
            try (Adafactor a = build(set, k, k.threads(), true)) {
                for (String name : a.stateNames()) {
                    boolean narrow = name.equals("exp_avg") || name.equals("exp_avg_sq");
                    assertEquals(narrow ? Dtype.BFLOAT16 : Dtype.FLOAT32, a.stateType(name), name + ", " + k);
                }
                for (int t = 1; t <= k.steps(); t++) {
                    gradients(rnd, set, ga, gb, k);
                    String at = k + ", step " + t;
                    MemorySegment.copy(pa.segment(), 0, pb.segment(), 0, pa.segment().byteSize());
                    float[] before1 = k.vectorLength() == 0 ? null : readParams(a, pa, "v", k);
                    float[] m1 = k.vectorLength() == 0 || !k.beta1() ? null : widened(a.state("v", "exp_avg"));
                    try (Adafactor b = build(twinSet, k, 1, false)) {
                        b.continueFrom(a);
                        StepReport ra = a.step(1.0);
                        StepReport rb = b.step(1.0);
                        assertEquals(rb.gradNorm(), ra.gradNorm(), 0.0, "gradNorm, " + at);
                        assertEquals(rb.clipCoef(), ra.clipCoef(), 0.0, "clipCoef, " + at);
                        // the matrix: the twin's step, its exp_avg rounded
                        assertBits("exp_avg_sq_row", at, raw(b.state("m", "exp_avg_sq_row")),
                                raw(a.state("m", "exp_avg_sq_row")));
                        assertBits("exp_avg_sq_col", at, raw(b.state("m", "exp_avg_sq_col")),
                                raw(a.state("m", "exp_avg_sq_col")));
                        assertScalars(a, b, "m", at);
                        Tensor m = set.tensor("m");
                        assertBits("params of m", at, pb.toArray(m.offset(), (int) m.length()),
                                pa.toArray(m.offset(), (int) m.length()));
                        if (k.params().master()) {
                            assertBits("master of m", at, raw(b.state("m", Optimizer.MASTER)),
                                    raw(a.state("m", Optimizer.MASTER)));
                        }
                        if (k.beta1()) {
                            assertRounded("exp_avg of m", raw(b.state("m", "exp_avg")), a.state("m", "exp_avg"),
                                    StochasticRounding.stateKey(k.stateSeed(), t, 0), m.offset(), at);
                        }
                        if (k.vectorLength() > 0) {
                            Tensor v = set.tensor("v");
                            assertRounded("exp_avg_sq of v", raw(b.state("v", "exp_avg_sq")),
                                    a.state("v", "exp_avg_sq"), StochasticRounding.stateKey(k.stateSeed(), t, 1),
                                    v.offset(), at);
                            assertScalars(a, b, "v", at);
                            assertApplyOnStoredState(a, k, v, before1, m1, ga, pa, ra, t, at);
                        }
                    }
                    assertGuards(pa, ga, k, at1, total, at);
                }
            }
        }
    }

    /**
     * A 1-D tensor's apply pass on its {@code exp_avg_sq} as stored: {@code AdafactorStep}'s float operations per
     * element ({@code u = ((rsqrt(v) * g) / d) * lr}, the first moment, the weight decay, {@code p - u}) from the
     * stored value widened, the gradient widened and scaled, and the tensor's lr and divisor (held to the twin's
     * above); {@code exp_avg} then its rounding with variable 0's key, the parameters stored as their type stores them.
     */
    private static void assertApplyOnStoredState(Adafactor a, Case k, Tensor v, float[] before, float[] m1,
                                                 Storage ga, Storage pa, StepReport r, int t, String at) {
        AdafactorOptions o = a.groups().get(0).options();
        final int n = (int) v.length();
        final float[] stored = widened(a.state("v", "exp_avg_sq"));
        final float scale = (float) (k.maximize() ? -r.clipCoef() : r.clipCoef());
        final float d = a.clipDivisor("v"), lr = a.lr("v"), decay = decay(o, a.rms("v"), lr, t);
        final float b1 = k.beta1() ? (float) (double) o.beta1() : 0f, c1 = k.beta1() ? (float) (1 - o.beta1()) : 0f;
        float[] p = new float[n], m = new float[n];
        for (int i = 0; i < n; i++) {
            float g = ga.get(v.offset() + i) * scale;
            float u = (((1f / (float) Math.sqrt(stored[i])) * g) / d) * lr;
            if (k.beta1()) {
                u = Math.fma(u, c1, m1[i] * b1);
                m[i] = u;
            }
            float x = before[i];
            if (o.weightDecay() != 0) {
                x = Math.fma(x, decay, x);
            }
            p[i] = x - u;
        }
        if (k.beta1()) {
            assertRounded("exp_avg of v (from the stored exp_avg_sq)", m, a.state("v", "exp_avg"),
                    StochasticRounding.stateKey(k.stateSeed(), t, 0), v.offset(), at);
        }
        if (k.params().master()) {
            assertBits("master of v (from the stored exp_avg_sq)", at, p, raw(a.state("v", Optimizer.MASTER)));
        }
        int key = StochasticRounding.key(k.roundingSeed(), t);
        for (int i = 0; i < n; i++) {
            p[i] = k.params() == Params.BFLOAT16_STOCHASTIC ? Float.intBitsToFloat(StochasticRounding.bfloat16(p[i],
                    StochasticRounding.random(key, v.offset() + i)) << 16) : k.params().type.roundTrip(p[i]);
        }
        assertBits("params of v (from the stored exp_avg_sq)", at, p, pa.toArray(v.offset(), n));
    }

    /**
     * The weight decay factor of Adafactor's {@code scalars}: {@code -weight_decay * lr} in float where lr is the
     * float RMS times the relative step, else in double from HF's Python float lr (the step's factor 1.0).
     */
    private static float decay(AdafactorOptions o, float rms, float lr, long t) {
        if (o.scaleParameter() && rms > (float) o.eps2()) {
            return (float) -o.weightDecay() * lr;
        }
        double rel = o.relativeStep() ? Math.min(o.warmupInit() ? 1e-6 * t : 1e-2, 1.0 / Math.sqrt(t)) : o.lr();
        return (float) (-o.weightDecay() * (o.scaleParameter() ? o.eps2() * rel : rel));
    }

    /** The parameters of tensor {@code name} as the step reads them: the master copy, or the stored values widened. */
    private static float[] readParams(Adafactor a, Storage p, String name, Case k) {
        Tensor x = a.params().tensor(name);
        return k.params().master() ? raw(a.state(name, Optimizer.MASTER)) : p.toArray(x.offset(), (int) x.length());
    }

    /** {@code got} (bfloat16) is {@code twin} rounded stochastically with {@code key}, element i's index {@code first + i}. */
    static void assertRounded(String what, float[] twin, MemorySegment got, int key, long first, String at) {
        short[] bits = got.toArray(ValueLayout.JAVA_SHORT);
        assertEquals(twin.length, bits.length, what + " length, " + at);
        for (int i = 0; i < twin.length; i++) {
            short want = (short) StochasticRounding.bfloat16(twin[i], StochasticRounding.random(key, first + i));
            if (want != bits[i]) {
                throw new AssertionError(what + " element " + i + ": expected bits " + Integer.toHexString(want & 0xFFFF)
                        + " (" + twin[i] + " rounded stochastically), got " + Integer.toHexString(bits[i] & 0xFFFF)
                        + ", " + at);
            }
        }
    }

    /** A bfloat16 state buffer's values, widened (exactly). */
    static float[] widened(MemorySegment s) {
        short[] bits = s.toArray(ValueLayout.JAVA_SHORT);
        float[] x = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            x[i] = Float.intBitsToFloat(bits[i] << 16);
        }
        return x;
    }

    /** Float32 state of tensor {@code n}: {@code b}'s, bit for bit. */
    private static void assertSameState(Adafactor a, Adafactor b, String n, boolean beta1, String at) {
        List<String> vars = new ArrayList<>(b.params().tensor(n).shape().rank() >= 2
                ? List.of("exp_avg_sq_row", "exp_avg_sq_col") : List.of("exp_avg_sq"));
        if (beta1) {
            vars.add("exp_avg");
        }
        for (String v : vars) {
            assertBits(v + " of " + n, at, raw(b.state(n, v)), raw(a.state(n, v)));
        }
    }

    /** RMS, lr and clipping divisor of tensor {@code n}: {@code b}'s, bit for bit. */
    private static void assertScalars(Adafactor a, Adafactor b, String n, String at) {
        assertEquals(Float.floatToRawIntBits(b.rms(n)), Float.floatToRawIntBits(a.rms(n)), "RMS of " + n + ", " + at);
        assertEquals(Float.floatToRawIntBits(b.lr(n)), Float.floatToRawIntBits(a.lr(n)), "lr of " + n + ", " + at);
        assertEquals(Float.floatToRawIntBits(b.clipDivisor(n)), Float.floatToRawIntBits(a.clipDivisor(n)),
                "clip divisor of " + n + ", " + at);
    }

    /** Parameters in [-8, 8) at scales 2^-8 to 2^2 inside the tensors, guards 1152 (exact in every type); gradients -99. */
    private static void fill(SplittableRandom rnd, Storage p, Storage g, Case k, int at1, int total) {
        for (int i = 0; i < total; i++) {
            p.set(i, inside(k, at1, i) ? (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-8, 3))) : 1152f);
            g.set(i, -99f);
        }
    }

    private static boolean inside(Case k, int at1, int i) {
        return i >= GUARD && i < GUARD + k.matrix() || i >= at1 && i < at1 + k.vectorLength();
    }

    /** Gaussian gradients at scale 2^gradExp into {@code ga}, the stored values into {@code gb}. */
    private static void gradients(SplittableRandom rnd, ParamSet set, Storage ga, Storage gb, Case k) {
        for (Tensor x : set.tensors()) {
            for (long i = x.offset(); i < x.offset() + x.length(); i++) {
                ga.set(i, (float) (rnd.nextGaussian() * Math.scalb(1.0, k.gradExp())));
                gb.set(i, ga.get(i));
            }
        }
    }

    private static void assertGuards(Storage p, Storage g, Case k, int at1, int total, String at) {
        for (int i = 0; i < total; i++) {
            if (!inside(k, at1, i)) {
                assertEquals(1152f, p.get(i), "param guard " + i + ", " + at);
                assertEquals(-99f, g.get(i), "grad guard " + i + ", " + at);
            }
        }
    }

    static ParamSet params(Storage p, Storage g, Case k, int at1) {
        return AdafactorSixteenBitProperties.params(p, g, k.shape(), k.matrix(), k.vectorLength(), at1);
    }

    /** {@code k}'s Adafactor over {@code set}: stochastic rounding where the parameters are bfloat16 and in that mode. */
    static Adafactor build(ParamSet set, Case k, int threads, boolean bf16State) {
        var b = AdafactorSixteenBitProperties.builder(set, k.manual(), k.beta1(), k.weightDecay(), k.maximize(),
                k.vectorized(), k.clip(), k.gradExp(), threads);
        if (k.params() == Params.BFLOAT16_STOCHASTIC && set.tensors().get(0).params().dtype() == Dtype.BFLOAT16) {
            b = b.stochasticRounding(k.roundingSeed());
        }
        if (bf16State) {
            b = b.bfloat16State(k.stateSeed());
        }
        return b.build();
    }

    /** 8-bit state stays refused, naming the optimizer and why, with 16-bit parameters too. */
    @Example
    void eightBitStateIsStillRefused() {
        ParamSet set = ParamSet.builder()
                .add("w", Storage.of(new short[64], Dtype.BFLOAT16), Storage.of(new short[64], Dtype.BFLOAT16), 0, 64,
                        Shape.of(8, 8))
                .build();
        var e = assertThrows(IllegalArgumentException.class, () -> Adafactor.builder(set).eightBitState().build());
        assertTrue(e.getMessage().contains("eightBitState") && e.getMessage().contains("Adafactor")
                && e.getMessage().contains("clip"), e.getMessage());
    }

    @Provide
    Arbitrary<Case> parameterCases() {
        return cases(Arbitraries.of(Params.BFLOAT16_MASTER, Params.FLOAT16_MASTER, Params.BFLOAT16_STOCHASTIC));
    }

    @Provide
    Arbitrary<Case> stateCases() {
        return cases(Arbitraries.of(Params.values()));
    }

    private static Arbitrary<Case> cases(Arbitrary<Params> params) {
        Arbitrary<long[]> shapes = AdafactorSixteenBitProperties.shapes(6);
        Arbitrary<Integer> vectors = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.of(1, LANES - 1, LANES, LANES + 1, 2 * LANES + 3, 1021)),
                Tuple.of(1, Arbitraries.of(0, 262_144 + LANES + 1))); // none, or across a chunk
        return Combinators.combine(
                Combinators.combine(params, Arbitraries.of(Dtype.FLOAT32, Dtype.BFLOAT16, Dtype.FLOAT16), shapes,
                        vectors, Arbitraries.of(false, true), Arbitraries.of(0.0, 0.01),
                        Arbitraries.of(false, true)).as(Tuple::of),
                Combinators.combine(Arbitraries.of(false, true), Arbitraries.of(false, true),
                        Arbitraries.of(false, true), Arbitraries.integers().between(1, 3),
                        Arbitraries.of(true, false), Arbitraries.integers().between(1, 3)).as(Tuple::of),
                // gradients from 2^-24 (float16 subnormals) to 2^4 (bfloat16's and float16's normal range)
                Arbitraries.integers().between(-24, 4), Arbitraries.longs())
                .as((a, b, e, seed) -> new Case(a.get1(), a.get2(), a.get3(), a.get4(), a.get5(), a.get6(), a.get7(),
                        b.get1(), b.get2(), b.get3(), b.get4(), b.get5(), b.get6(), e, seed));
    }
}
