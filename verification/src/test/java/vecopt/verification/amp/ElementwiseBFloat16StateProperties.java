package vecopt.verification.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
import vecopt.optim.Lamb;
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
 * {@link MixedPrecisionProperties}).
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
        List<String> names = a.stateNames();
        for (int j = 0; j < names.size(); j++) {
            String name = names.get(j);
            float[] twin = raw(b.state("w", name));
            if (name.equals(Optimizer.MASTER)) {
                assertBits(name, at, twin, raw(a.state("w", name)));
                continue;
            }
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
    void theLayerWiseOptimizersRefuseBFloat16StateAndOnlyAdamTakesEightBits() {
        ParamSet set = ParamSet.builder().add("w", Storage.of(new float[8]), Storage.of(new float[8]), 0, 8).build();
        var e = assertThrows(IllegalArgumentException.class, () -> Lamb.builder(set).bfloat16State(1).build());
        assertTrue(e.getMessage().contains("bfloat16State") && e.getMessage().contains("Lamb"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Adafactor.builder(set).bfloat16State(1).build());
        assertTrue(e.getMessage().contains("bfloat16State") && e.getMessage().contains("Adafactor"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Lion.builder(set).eightBitState().build());
        assertTrue(e.getMessage().contains("eightBitState") && e.getMessage().contains("Lion"), e.getMessage());
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

    private static void switchMode(Optimizer<?> o, boolean train) {
        if (train) {
            ((ScheduleFreeAdamW) o).train();
        } else {
            ((ScheduleFreeAdamW) o).eval();
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

    private static Storage storage(Arena arena, boolean offHeap, Dtype type, int n) {
        if (offHeap) {
            return Storage.allocate(arena, n, type);
        }
        return type == Dtype.FLOAT32 ? Storage.of(new float[n]) : Storage.of(new short[n], type);
    }

    private static float[] raw(Storage s) {
        return s.toArray(0, (int) s.length());
    }

    private static float[] raw(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_FLOAT);
    }

    private static void assertBits(String what, String at, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + " length, " + at);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + " element " + i + ": expected " + expected[i] + ", got " + actual[i]
                        + ", " + at);
            }
        }
    }

    /** The 16-bit property's cases over every kind but Adam's (held by {@code BFloat16StateProperties}), any mix. */
    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Dtype> types = Arbitraries.of(Dtype.values());
        Arbitrary<Integer> lengths = Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.of(0, 1, MixedPrecisionProperties.LANES - 1, MixedPrecisionProperties.LANES,
                        MixedPrecisionProperties.LANES + 1, 2 * MixedPrecisionProperties.LANES + 3, 1021)),
                Tuple.of(2, Arbitraries.integers().between(0, 3000)),
                Tuple.of(1, Arbitraries.integers().between(40_000, 70_000))); // several chunks of the grid
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(2, Arbitraries.doubles().between(1e-4, 0.3).ofScale(6)));
        Arbitrary<Double> lr = Arbitraries.doubles().between(-5, -1).ofScale(4).map(e -> Math.pow(10, e));
        List<Kind> kinds = java.util.Arrays.stream(Kind.values()).filter(x -> x != Kind.ADAMW && x != Kind.ADAM).toList();
        return Combinators.combine(
                Combinators.combine(types, types, Arbitraries.of(true, false), Arbitraries.of(false, true), wd,
                        Arbitraries.of(false, true)).as(Tuple::of),
                Combinators.combine(lengths, Arbitraries.integers().between(0, 9), Arbitraries.of(false, true),
                        Arbitraries.integers().between(1, 3), Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(true)),
                                Tuple.of(1, Arbitraries.just(false))), Arbitraries.integers().between(1, 3))
                        .as(Tuple::of),
                lr, Arbitraries.integers().between(-30, 8), Arbitraries.of(kinds), Arbitraries.longs())
                .as((a, b, r, e, kind, seed) -> {
                    // RAdam's rectified update starts at step 6; Rprop's and schedule-free AdamW's first steps differ
                    int steps = kind == Kind.RADAM ? b.get6() + 5 : kind == Kind.RPROP || kind == Kind.SCHEDULE_FREE
                            ? b.get6() + 1 : b.get6();
                    return new Case(kind, a.get1(), a.get2(), a.get2() == Dtype.BFLOAT16 && (seed & 3) == 0,
                            a.get3(), a.get4(), a.get5(), a.get6(), b.get1(), b.get2(), b.get3(), b.get4(), b.get5(),
                            steps, r, e, seed);
                });
    }
}
