package vecopt.verification.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import vecopt.kernel.KernelProvider;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.Adagrad;
import vecopt.optim.Adam;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;

/**
 * Parameters and gradients stored as bfloat16 or float16, held to identities with the float32 engine (itself held to
 * the reference by {@code OptimizerVsReferenceProperties}), bit for bit:
 * <ul>
 *   <li>16-bit gradients: the step is the float32 step fed the same gradients widened to float32 (widening is
 *       exact, and the kernels then perform the same float operations) - parameters, state, gradient norm and
 *       clipping coefficient;</li>
 *   <li>16-bit parameters: the float32 master copy is the float32 step's parameters, and the parameter buffer holds
 *       the master rounded to nearest even ({@link Dtype#roundTrip});</li>
 * </ul>
 * for every storage mix, AdamW/Adam/AMSGrad, clipping, heap and off-heap, 1 to 3 threads, SIMD and scalar kernels,
 * lengths around the vector width and across chunks (the twin runs the same kernels, SIMD or scalar: their
 * reductions agree to rounding, not to the bit, and the norm decides the clipping). The gradients are never written, and guard elements around the
 * tensor never change.
 */
class MixedPrecisionProperties {
    static final int LANES = KernelProvider.kernels().lanes();
    static final int GUARD = 7;
    static final Dtype[] TYPES = Dtype.values();

    record Case(Dtype gradType, Dtype paramType, boolean decoupled, boolean amsgrad, double weightDecay,
                boolean clip, int length, int offset, boolean offHeap, int threads, boolean vectorized, int steps,
                double lr, int gradExp, long seed) {
    }

    @Property(tries = 120)
    void sixteenBitStorageIsTheFloat32StepOnTheSameValues(@ForAll("cases") Case k) {
        SplittableRandom rnd = new SplittableRandom(k.seed());
        int total = k.offset() + k.length() + GUARD;
        try (Arena arena = Arena.ofShared()) {
            Storage p16 = storage(arena, k.offHeap(), k.paramType(), total);
            Storage g16 = storage(arena, k.offHeap(), k.gradType(), total);
            Storage p32 = storage(arena, k.offHeap(), Dtype.FLOAT32, total);
            Storage g32 = storage(arena, k.offHeap(), Dtype.FLOAT32, total);
            for (int i = 0; i < total; i++) { // guards (1152 and -99 are exact in every type) and initial parameters: the float32 twin holds the same values
                float p = i >= k.offset() && i < k.offset() + k.length()
                        ? (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-8, 3))) : 1152f;
                p16.set(i, p);
                p32.set(i, p16.get(i));
                g16.set(i, -99f);
                g32.set(i, -99f);
            }
            ParamSet mixed = ParamSet.builder().add("w", p16, g16, k.offset(), k.length()).build();
            ParamSet twin = ParamSet.builder().add("w", p32, g32, k.offset(), k.length()).build();
            AdamOptions o = new AdamOptions(0.9, 0.999, 1e-8, k.weightDecay(), k.amsgrad(), 1.0, false);
            try (Optimizer<?> a = build(mixed, k, o, k.threads(), k.vectorized());
                 Optimizer<?> b = build(twin, k, o, 1, k.vectorized())) {
                for (int t = 1; t <= k.steps(); t++) {
                    for (int i = k.offset(); i < k.offset() + k.length(); i++) {
                        g16.set(i, (float) (rnd.nextGaussian() * Math.scalb(1.0, k.gradExp())));
                        g32.set(i, g16.get(i));
                    }
                    float[] gradsBefore = raw(g16);
                    StepReport ra = a.step(k.lr());
                    StepReport rb = b.step(k.lr());
                    String at = k + ", step " + t;
                    assertEquals(rb.gradNorm(), ra.gradNorm(), 0.0, "gradNorm, " + at);
                    assertEquals(rb.clipCoef(), ra.clipCoef(), 0.0, "clipCoef, " + at);
                    assertEquals(rb.skipped(), ra.skipped(), "skipped, " + at);
                    for (String name : b.stateNames()) {
                        assertBits(name, at, raw(b.state("w", name)), raw(a.state("w", name)));
                    }
                    float[] expected = p32.toArray(k.offset(), k.length());
                    if (k.paramType() != Dtype.FLOAT32) {
                        assertBits(Optimizer.MASTER, at, expected, raw(a.state("w", Optimizer.MASTER)));
                        for (int i = 0; i < expected.length; i++) {
                            expected[i] = k.paramType().roundTrip(expected[i]);
                        }
                    }
                    assertBits("params", at, expected, p16.toArray(k.offset(), k.length()));
                    assertBits("grads (unchanged)", at, gradsBefore, raw(g16));
                    for (int i = 0; i < total; i++) {
                        if (i < k.offset() || i >= k.offset() + k.length()) {
                            assertEquals(1152f, p16.get(i), "param guard " + i + ", " + at);
                            assertEquals(-99f, g16.get(i), "grad guard " + i + ", " + at);
                        }
                    }
                }
            }
        }
    }

    @Example
    void optimizersWithoutSixteenBitLoopsRefuseItNamingTheTensor() {
        Storage p = Storage.of(new short[8], Dtype.BFLOAT16);
        Storage g = Storage.of(new float[8]);
        ParamSet set = ParamSet.builder().add("emb", p, g, 0, 8).build();
        var e = assertThrows(IllegalArgumentException.class, () -> Adagrad.builder(set).build());
        assertTrue(e.getMessage().contains("'emb'") && e.getMessage().contains("bfloat16"), e.getMessage());
        var t = assertThrows(IllegalArgumentException.class, () -> AdamW.builder(set).trackNorms(true).build());
        assertTrue(t.getMessage().contains("trackNorms") && t.getMessage().contains("'emb'"), t.getMessage());
    }

    @Example
    void oneOptimizerTakesOneParameterType() {
        ParamSet set = ParamSet.builder()
                .add("a", Storage.of(new float[4]), Storage.of(new float[4]), 0, 4)
                .add("b", Storage.of(new short[4], Dtype.FLOAT16), Storage.of(new float[4]), 0, 4)
                .build();
        var e = assertThrows(IllegalArgumentException.class, () -> AdamW.builder(set).build());
        assertTrue(e.getMessage().contains("float32 for 'a'") && e.getMessage().contains("float16 for 'b'"),
                e.getMessage());
    }

    private static Optimizer<?> build(ParamSet set, Case k, AdamOptions o, int threads, boolean vectorized) {
        // clipping at half the expected norm of the gaussian gradients: most steps clip
        double maxNorm = k.clip() ? 0.5 * Math.scalb(1.0, k.gradExp()) * Math.sqrt(Math.max(1, k.length())) : 0;
        if (k.decoupled()) {
            AdamW.Builder b = AdamW.builder(set).options(o).threads(threads).vectorized(vectorized);
            return (k.clip() ? b.clipGradNorm(maxNorm) : b).build();
        }
        Adam.Builder b = Adam.builder(set).options(o).threads(threads).vectorized(vectorized);
        return (k.clip() ? b.clipGradNorm(maxNorm) : b).build();
    }

    private static Storage storage(Arena arena, boolean offHeap, Dtype type, int n) {
        if (offHeap) {
            return Storage.allocate(arena, n, type);
        }
        return type == Dtype.FLOAT32 ? Storage.of(new float[n]) : Storage.of(new short[n], type);
    }

    /** Every element of a buffer as float32 values (16-bit ones widened, exactly). */
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
                throw new AssertionError(what + " element " + i + ": expected " + expected[i] + " ("
                        + Integer.toHexString(Float.floatToRawIntBits(expected[i])) + "), got " + actual[i] + " ("
                        + Integer.toHexString(Float.floatToRawIntBits(actual[i])) + "), " + at);
            }
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Dtype> types = Arbitraries.of(TYPES);
        Arbitrary<Tuple.Tuple2<Dtype, Dtype>> mix = Combinators.combine(types, types).as(Tuple::of)
                .filter(t -> t.get1() != Dtype.FLOAT32 || t.get2() != Dtype.FLOAT32);
        Arbitrary<Integer> lengths = Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.of(0, 1, LANES - 1, LANES, LANES + 1, 2 * LANES + 3, 1021)),
                Tuple.of(2, Arbitraries.integers().between(0, 3000)),
                Tuple.of(1, Arbitraries.integers().between(40_000, 70_000))); // several chunks of the grid
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(2, Arbitraries.doubles().between(1e-4, 0.3).ofScale(6)));
        Arbitrary<Double> lr = Arbitraries.doubles().between(-5, -1).ofScale(4).map(e -> Math.pow(10, e));
        return Combinators.combine(
                Combinators.combine(mix, Arbitraries.of(true, false), Arbitraries.of(false, true), wd,
                        Arbitraries.of(false, true)).as(Tuple::of),
                Combinators.combine(lengths, Arbitraries.integers().between(0, 9), Arbitraries.of(false, true),
                        Arbitraries.integers().between(1, 3), Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(true)),
                                Tuple.of(1, Arbitraries.just(false))), Arbitraries.integers().between(1, 3))
                        .as(Tuple::of),
                lr, Arbitraries.integers().between(-30, 8), Arbitraries.longs())
                .as((a, b, r, e, seed) -> new Case(a.get1().get1(), a.get1().get2(), a.get2(), a.get3(), a.get4(),
                        a.get5(), b.get1(), b.get2(), b.get3(), b.get4(), b.get5(), b.get6(), r, e, seed));
    }
}
