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
import vecopt.optim.Adamax;
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
    void theLayerWiseOptimizersRefuseBFloat16StateAndAdamaxEightBits() {
        ParamSet set = ParamSet.builder().add("w", Storage.of(new float[8]), Storage.of(new float[8]), 0, 8).build();
        var e = assertThrows(IllegalArgumentException.class, () -> Lamb.builder(set).bfloat16State(1).build());
        assertTrue(e.getMessage().contains("bfloat16State") && e.getMessage().contains("Lamb"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Adafactor.builder(set).bfloat16State(1).build());
        assertTrue(e.getMessage().contains("bfloat16State") && e.getMessage().contains("Adafactor"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Adamax.builder(set).eightBitState().build());
        assertTrue(e.getMessage().contains("eightBitState") && e.getMessage().contains("Adamax"), e.getMessage());
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
     * LARS's (float32 state only), any mix.
     */
    @Provide
    Arbitrary<Case> cases() {
        return MixedPrecisionProperties.cases(java.util.Arrays.stream(Kind.values())
                .filter(x -> x != Kind.ADAMW && x != Kind.ADAM && x != Kind.LAMB && x != Kind.LARS).toList(), true);
    }
}
