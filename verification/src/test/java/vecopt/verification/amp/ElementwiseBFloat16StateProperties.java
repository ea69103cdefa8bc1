package vecopt.verification.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vecopt.verification.amp.MixedPrecisionProperties.assertBits;
import static vecopt.verification.amp.MixedPrecisionProperties.raw;
import static vecopt.verification.amp.MixedPrecisionProperties.storage;
import static vecopt.verification.amp.MixedPrecisionProperties.switchMode;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.Adafactor;
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.optim.Lars;
import vecopt.optim.Lion;
import vecopt.optim.Optimizer;
import vecopt.optim.ScheduleFreeAdamW;
import vecopt.param.ParamSet;
import vecopt.reference.StochasticRounding;
import vecopt.verification.amp.MixedPrecisionProperties.Case;
import vecopt.verification.amp.MixedPrecisionProperties.Kind;

/**
 * bfloat16 state ({@code bfloat16State(seed)}) for every optimizer beyond Adam that takes it, held bit for bit to a
 * float32 twin: before each step a fresh twin with float32 state over equal parameter and gradient buffers takes the
 * bfloat16 optimizer's state over, widened exactly ({@code continueFrom}, with its counters and per-group scalars);
 * both step. Then the parameters (and the master copy) are the twin's, bit for bit - the step uses the new state as
 * computed in float32, before its rounding - and each state variable j is the twin's new value rounded by the
 * reference's {@link StochasticRounding} with {@code stateKey(seed, t, j)} and the element's index in its buffer.
 * Every loop variant ({@link Kind}), every storage mix of parameters and gradients (float32 ones too), clipping,
 * maximize, heap and off-heap, 1 to 3 threads, SIMD and scalar, lengths around the vector width and across chunks;
 * for schedule-free AdamW also its eval() and train() switches, which read z from the bfloat16 state. The twin
 * itself is the float32 optimizer, held to the reference elsewhere ({@code OptimizerVsReferenceProperties},
 * {@link MixedPrecisionProperties}). LAMB and LARS have a property of their own,
 * {@link #layerWiseStepsOnBFloat16State}: LARS as above, LAMB's state as above and its update on the stored moments.
 */
class ElementwiseBFloat16StateProperties {
    static final int GUARD = MixedPrecisionProperties.GUARD;

    @Property(tries = 300)
    void eachStepIsTheFloat32StepOnTheWidenedStateRoundedStochastically(@ForAll("cases") Case k) {
        SplittableRandom rnd = new SplittableRandom(k.seed());
        long stateSeed = k.seed() * 31 + 7;
        int total = k.offset() + k.length() + GUARD;
        try (Arena arena = Arena.ofShared()) {
            Storage pa = storage(arena, k.offHeap(), k.paramType(), total), ga = storage(arena, k.offHeap(), k.gradType(), total);
            Storage pb = storage(arena, k.offHeap(), k.paramType(), total), gb = storage(arena, k.offHeap(), k.gradType(), total);
            for (int i = 0; i < total; i++) {
                pa.set(i, (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-8, 3))));
                ga.set(i, -99f);
                gb.set(i, -99f);
            }
            ParamSet set = ParamSet.builder().add("w", pa, ga, k.offset(), k.length()).build();
            ParamSet twinSet = ParamSet.builder().add("w", pb, gb, k.offset(), k.length()).build();
            try (Optimizer<?> a = MixedPrecisionProperties.build(set, k, k.threads(), k.vectorized(), stateSeed)) {
                List<String> names = a.stateNames();
                for (String name : names) {
                    assertEquals(name.equals(Optimizer.MASTER) ? Dtype.FLOAT32 : Dtype.BFLOAT16, a.stateType(name),
                            name + ", " + k);
                }
                for (int t = 1; t <= k.steps(); t++) {
                    for (int i = k.offset(); i < k.offset() + k.length(); i++) {
                        ga.set(i, (float) (rnd.nextGaussian() * Math.scalb(1.0, k.gradExp())));
                        gb.set(i, ga.get(i));
                    }
                    String at = k + ", step " + t;
                    try (Optimizer<?> b = twin(a, twinSet, pa, pb, k)) {
                        a.step(k.lr());
                        b.step(k.lr());
                        assertTwin(a, b, pa, pb, k, stateSeed, t, at);
                    }
                    if (k.kind() == Kind.SCHEDULE_FREE) { // y to x and back, each from a fresh twin
                        for (boolean train : new boolean[] {false, true}) {
                            try (Optimizer<?> b = twin(a, twinSet, pa, pb, k)) {
                                short[][] before = stateBits(a);
                                switchMode(a, train);
                                switchMode(b, train);
                                String in = at + (train ? ", then train()" : ", then eval()");
                                assertBits("params", in, raw(pb), raw(pa));
                                if (names.contains(Optimizer.MASTER)) {
                                    assertBits(Optimizer.MASTER, in, raw(b.state("w", Optimizer.MASTER)),
                                            raw(a.state("w", Optimizer.MASTER)));
                                }
                                short[][] after = stateBits(a);
                                for (int j = 0; j < before.length; j++) {
                                    assertTrue(java.util.Arrays.equals(before[j], after[j]),
                                            names.get(j) + " moved in a switch, " + in);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * LAMB and LARS with bfloat16 state, each step against a fresh float32-state twin that took the state over
     * widened (as above), and against a sibling with bfloat16 state on one thread and the other kind of memory:
     * <ul>
     *   <li>LARS (pass 1 reads no state; the parameters move by the trace as computed): as the elementwise property,
     *       the parameters the twin's and the trace the twin's rounded with variable 0's key; the trust ratio and both
     *       norms the twin's, bit for bit;</li>
     *   <li>LAMB (its update takes the moments as stored, so the twin's parameters and ratio are not its own): mu and
     *       nu the twin's new moments rounded with their keys; the parameter norm the twin's, bit for bit (the same
     *       parameters, the same kernels); the update norm that of {@code u} computed, element by element, with
     *       {@code LambStep}'s float operations from the stored moments, widened, within the derived bound of
     *       {@link #assertNorm}; the ratio LAMB's formula on the two norms, bit for bit; and the parameters
     *       {@code fma(u, (float) (-lr * ratio), p)}, bit for bit, stored as the parameter type stores them;</li>
     *   <li>both: the sibling's parameters, state, ratio and norms bitwise these (any thread count, heap or
     *       off-heap).</li>
     * </ul>
     */
    @Property(tries = 200)
    void layerWiseStepsOnBFloat16State(@ForAll("layerwiseCases") Case k) {
        SplittableRandom rnd = new SplittableRandom(k.seed());
        long stateSeed = k.seed() * 31 + 7;
        int total = k.offset() + k.length() + GUARD;
        try (Arena arena = Arena.ofShared()) {
            Storage pa = storage(arena, k.offHeap(), k.paramType(), total), ga = storage(arena, k.offHeap(), k.gradType(), total);
            Storage pb = storage(arena, k.offHeap(), k.paramType(), total), gb = storage(arena, k.offHeap(), k.gradType(), total);
            Storage pc = storage(arena, !k.offHeap(), k.paramType(), total), gc = storage(arena, !k.offHeap(), k.gradType(), total);
            for (int i = 0; i < total; i++) {
                pa.set(i, (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-8, 3))));
                pc.set(i, pa.get(i));
                ga.set(i, -99f);
                gb.set(i, -99f);
                gc.set(i, -99f);
            }
            ParamSet set = ParamSet.builder().add("w", pa, ga, k.offset(), k.length()).build();
            ParamSet twinSet = ParamSet.builder().add("w", pb, gb, k.offset(), k.length()).build();
            ParamSet siblingSet = ParamSet.builder().add("w", pc, gc, k.offset(), k.length()).build();
            try (Optimizer<?> a = MixedPrecisionProperties.build(set, k, k.threads(), k.vectorized(), stateSeed);
                 Optimizer<?> c = MixedPrecisionProperties.build(siblingSet, k, 1, k.vectorized(), stateSeed)) {
                for (String name : a.stateNames()) {
                    assertEquals(name.equals(Optimizer.MASTER) ? Dtype.FLOAT32 : Dtype.BFLOAT16, a.stateType(name),
                            name + ", " + k);
                }
                for (int t = 1; t <= k.steps(); t++) {
                    for (int i = k.offset(); i < k.offset() + k.length(); i++) {
                        ga.set(i, (float) (rnd.nextGaussian() * Math.scalb(1.0, k.gradExp())));
                        gb.set(i, ga.get(i));
                        gc.set(i, ga.get(i));
                    }
                    String at = k + ", step " + t;
                    // the parameters the kernels read: the master copy where there is one
                    float[] before = a.stateNames().contains(Optimizer.MASTER) ? raw(a.state("w", Optimizer.MASTER))
                            : pa.toArray(k.offset(), k.length());
                    try (Optimizer<?> b = twin(a, twinSet, pa, pb, k)) {
                        a.step(k.lr());
                        b.step(k.lr());
                        c.step(k.lr());
                        assertBits("sibling's params", at, raw(pa), raw(pc));
                        for (String name : a.stateNames()) {
                            assertTrue(a.state("w", name).mismatch(c.state("w", name)) < 0,
                                    "sibling's " + name + " differs, " + at);
                        }
                        assertNorms("sibling's", norms(a), norms(c), at);
                        if (a instanceof Lamb lamb) {
                            assertStateRounded(a, b, k, stateSeed, t, at);
                            assertSameDouble(norms(b)[2], lamb.paramNorm("w"), "paramNorm (the twin's), " + at);
                            assertLambOnStoredState(lamb, before, widened(a.state("w", "mu")),
                                    widened(a.state("w", "nu")), pa, k, t, at);
                        } else {
                            assertTwin(a, b, pa, pb, k, stateSeed, t, at);
                            assertNorms("the twin's", norms(b), norms(a), at);
                        }
                    }
                }
            }
        }
    }

    /** The trust ratio, update norm and parameter norm of tensor "w" in the last update. */
    static double[] norms(Optimizer<?> o) {
        return o instanceof Lamb l ? new double[] {l.trustRatio("w"), l.updateNorm("w"), l.paramNorm("w")}
                : new double[] {((Lars) o).trustRatio("w"), ((Lars) o).updateNorm("w"), ((Lars) o).paramNorm("w")};
    }

    static void assertNorms(String whose, double[] expected, double[] actual, String at) {
        String[] what = {"trustRatio", "updateNorm", "paramNorm"};
        for (int i = 0; i < 3; i++) {
            assertSameDouble(expected[i], actual[i], what[i] + " (" + whose + "), " + at);
        }
    }

    static void assertSameDouble(double expected, double actual, String what) {
        if (Double.doubleToLongBits(expected) != Double.doubleToLongBits(actual)) { // NaN (no norm) equals NaN
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
        }
    }

    /** A bfloat16 state buffer's values, widened (exactly). */
    private static float[] widened(MemorySegment s) {
        short[] bits = s.toArray(ValueLayout.JAVA_SHORT);
        float[] x = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            x[i] = Float.intBitsToFloat(bits[i] << 16);
        }
        return x;
    }

    /**
     * LAMB's step on the moments it stored ({@code mu}, {@code nu}: their values as stored, bfloat16 widened or 8-bit
     * decoded): {@code u} per element from them and the parameters read before the step, with {@code LambStep}'s
     * float operations and per-step floats; the update norm against u's, the ratio LAMB's formula on the reported
     * norms, the parameters {@code fma(u, factor, p)}, where the parameter type stores them.
     */
    static void assertLambOnStoredState(Lamb a, float[] before, float[] mu, float[] nu, Storage pa, Case k, int t,
                                        String at) {
        LambOptions o = a.groups().get(0).options();
        long step = a.groups().get(0).steps(); // t: the gradients are finite, no step is skipped
        assertEquals(t, step, "steps, " + at);
        float ib1 = (float) (1 / (1 - Math.pow(o.b1(), step))), ib2 = (float) (1 / (1 - Math.pow(o.b2(), step)));
        float eps = (float) o.eps(), epsRoot = (float) o.epsRoot(), wd = (float) o.weightDecay();
        int n = k.length();
        float[] u = new float[n];
        BigDecimal sum = BigDecimal.ZERO;
        for (int i = 0; i < n; i++) {
            float m = mu[i], v = nu[i];
            u[i] = Math.fma(before[i], wd, (m * ib1) / ((float) Math.sqrt(v * ib2 + epsRoot) + eps));
            sum = sum.add(new BigDecimal((double) u[i] * u[i])); // a float's square is exact in double
        }
        if (n == 0) {
            return; // no norms, no parameters
        }
        double updateNorm = a.updateNorm("w"), paramNorm = a.paramNorm("w");
        assertNorm(sum, n, updateNorm, at);
        double w = Math.min(paramNorm, o.maxWeightNorm());
        double ratio = w == 0 || updateNorm == 0 ? 1 : w / updateNorm;
        assertSameDouble(ratio, a.trustRatio("w"), "trustRatio (LAMB's formula on the norms), " + at);
        float factor = (float) (-(k.lr() * o.lrScale()) * ratio);
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            expected[i] = Math.fma(u[i], factor, before[i]);
        }
        if (a.stateNames().contains(Optimizer.MASTER)) {
            assertBits(Optimizer.MASTER, at, expected, raw(a.state("w", Optimizer.MASTER)));
            for (int i = 0; i < n; i++) {
                expected[i] = k.paramType().roundTrip(expected[i]);
            }
        } else if (k.stochastic()) {
            int key = StochasticRounding.key(k.seed(), t);
            for (int i = 0; i < n; i++) {
                expected[i] = Float.intBitsToFloat(StochasticRounding.bfloat16(expected[i],
                        StochasticRounding.random(key, k.offset() + i)) << 16);
            }
        }
        assertBits("params (fma(u, -lr * ratio, p), u from the stored moments)", at, expected,
                pa.toArray(k.offset(), n));
    }

    /**
     * The kernels' update norm, {@code sqrt} of their double sum of the n squares {@code u^2} (each exact in double,
     * each added with one rounding, in whatever order and grouping: chains, lanes, chunks), against the exact sum S.
     * Any such sum of n non-negative terms is within {@code gamma(n-1) S} of S, {@code gamma(m) = m 2^-53 / (1 - m
     * 2^-53)} (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., eq. 4.4 and Lemma 3.1); the square
     * root of the sum is within that relative error too ({@code |sqrt(1 + d) - 1| <= |d|}) and its rounding adds
     * 2^-53, the exact root's rounding to double another 2^-53: {@code gamma(n-1) + 2^-51} of sqrt(S) bounds all.
     * Using the unrounded moments for the norm moves each u by about 2^-9 of itself, far outside.
     */
    static void assertNorm(BigDecimal sum, int n, double updateNorm, String at) {
        double exact = sum.sqrt(MathContext.DECIMAL128).doubleValue();
        double m = (n - 1) * 0x1p-53;
        double bound = (m / (1 - m) + 0x1p-51) * exact;
        assertTrue(Math.abs(updateNorm - exact) <= bound, "updateNorm " + updateNorm + " against the exact "
                + exact + " of u from the stored moments: off by " + Math.abs(updateNorm - exact) + ", bound " + bound
                + ", " + at);
    }

    /**
     * A float32-state twin of {@code a} over {@code twinSet}: its parameter buffer a copy of {@code a}'s (guards too),
     * then {@code a}'s state and counters taken over, widened.
     */
    private static Optimizer<?> twin(Optimizer<?> a, ParamSet twinSet, Storage pa, Storage pb, Case k) {
        MemorySegment.copy(pa.segment(), 0, pb.segment(), 0, pa.segment().byteSize());
        Optimizer<?> b = MixedPrecisionProperties.build(twinSet, k, 1, k.vectorized(), null);
        b.continueFrom(a);
        return b;
    }

    private static void assertTwin(Optimizer<?> a, Optimizer<?> b, Storage pa, Storage pb, Case k, long stateSeed,
                                   int t, String at) {
        assertBits("params", at, raw(pb), raw(pa));
        if (a.stateNames().contains(Optimizer.MASTER)) {
            assertBits(Optimizer.MASTER, at, raw(b.state("w", Optimizer.MASTER)), raw(a.state("w", Optimizer.MASTER)));
        }
        assertStateRounded(a, b, k, stateSeed, t, at);
    }

    /**
     * Each state variable j of {@code a} (not the master copy) is the twin's new value rounded with variable j's key
     * of step {@code t}.
     */
    private static void assertStateRounded(Optimizer<?> a, Optimizer<?> b, Case k, long stateSeed, int t, String at) {
        List<String> names = a.stateNames();
        for (int j = 0; j < names.size(); j++) {
            String name = names.get(j);
            if (name.equals(Optimizer.MASTER)) {
                continue;
            }
            float[] twin = raw(b.state("w", name));
            short[] got = a.state("w", name).toArray(ValueLayout.JAVA_SHORT);
            int key = StochasticRounding.stateKey(stateSeed, t, j);
            for (int i = 0; i < twin.length; i++) {
                short want = (short) StochasticRounding.bfloat16(twin[i], StochasticRounding.random(key, k.offset() + i));
                if (want != got[i]) {
                    throw new AssertionError(name + " element " + i + ": expected bits " + Integer.toHexString(want & 0xFFFF)
                            + " (the twin's " + twin[i] + " rounded with variable " + j + "'s key), got "
                            + Integer.toHexString(got[i] & 0xFFFF) + ", " + at);
                }
            }
        }
    }

    @Example
    void adafactorAndScheduleFreeRefuseEightBits() {
        ParamSet set = ParamSet.builder().add("w", Storage.of(new float[8]), Storage.of(new float[8]), 0, 8).build();
        var e = assertThrows(IllegalArgumentException.class, () -> Adafactor.builder(set).eightBitState().build());
        assertTrue(e.getMessage().contains("eightBitState") && e.getMessage().contains("Adafactor"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScheduleFreeAdamW.builder(set).eightBitState().build());
        assertTrue(e.getMessage().contains("eightBitState") && e.getMessage().contains("ScheduleFreeAdamW"), e.getMessage());
    }

    @Example
    void bfloat16StateCarriesIntoFloat32StateButNotBack() {
        float[] p = new float[40];
        ParamSet set = ParamSet.builder().add("w", Storage.of(p), Storage.of(new float[40]), 0, 40).build();
        ParamSet other = ParamSet.builder().add("w", Storage.of(new float[40]), Storage.of(new float[40]), 0, 40).build();
        try (Lion narrow = Lion.builder(set).bfloat16State(3).build(); Lion wide = Lion.builder(other).build();
             Lion narrowAgain = Lion.builder(set).bfloat16State(4).build()) {
            java.util.Arrays.fill(p, 0.5f);
            narrow.step(1e-3);
            wide.continueFrom(narrow); // widened, exactly
            short[] bits = narrow.state("w", "exp_avg").toArray(ValueLayout.JAVA_SHORT);
            float[] values = raw(wide.state("w", "exp_avg"));
            for (int i = 0; i < bits.length; i++) {
                assertEquals(Float.intBitsToFloat(bits[i] << 16), values[i], 0f, "exp_avg element " + i);
            }
            var e = assertThrows(IllegalArgumentException.class, () -> narrowAgain.continueFrom(wide));
            assertTrue(e.getMessage().contains("state types differ"), e.getMessage());
        }
    }

    private static short[][] stateBits(Optimizer<?> a) {
        List<String> names = a.stateNames();
        short[][] out = new short[names.size()][];
        for (int j = 0; j < names.size(); j++) {
            out[j] = names.get(j).equals(Optimizer.MASTER) ? new short[0]
                    : a.state("w", names.get(j)).toArray(ValueLayout.JAVA_SHORT);
        }
        return out;
    }

    /**
     * The 16-bit property's cases over every kind but Adam's (held by {@code BFloat16StateProperties}) and LAMB's and
     * LARS's (their own property, {@link #layerWiseStepsOnBFloat16State}), any mix.
     */
    @Provide
    Arbitrary<Case> cases() {
        return MixedPrecisionProperties.cases(java.util.Arrays.stream(Kind.values())
                .filter(x -> x != Kind.ADAMW && x != Kind.ADAM && x != Kind.LAMB && x != Kind.LARS).toList(), true);
    }

    /** The 16-bit property's LAMB and LARS cases, any mix (float32 parameters and gradients too). */
    @Provide
    Arbitrary<Case> layerwiseCases() {
        return MixedPrecisionProperties.cases(List.of(Kind.LAMB, Kind.LARS), true);
    }
}
