package vecopt.verification.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static vecopt.verification.amp.MixedPrecisionProperties.LANES;
import static vecopt.verification.amp.MixedPrecisionProperties.assertBits;
import static vecopt.verification.amp.MixedPrecisionProperties.raw;
import static vecopt.verification.amp.MixedPrecisionProperties.storage;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.Adafactor;
import vecopt.optim.AdafactorOptions;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.param.Shape;
import vecopt.param.Tensor;

/**
 * Adafactor on bfloat16 and float16 gradients with float32 parameters, held bit for bit to the float32 Adafactor fed
 * the same gradients widened (widening is exact, and every pass then performs the float32 step's operations): the
 * parameters, {@code exp_avg_sq_row}/{@code exp_avg_sq_col} (factored), {@code exp_avg_sq} (1-D), {@code exp_avg}
 * (beta1), RMS and lr of each tensor, the gradient norm and clipping coefficient. The twin runs one thread on heap
 * memory with the same kernels (SIMD or scalar: the clipping norm, summed by each kernel in its own order, agrees
 * between them to rounding only); the 16-bit run 1 to 3 threads, heap or off-heap. Shapes: a matrix (or a batch of
 * them) with rows and columns around the vector width, 1 to 9 rows (groups of 4 rows and leftovers), and sometimes
 * more than a chunk of Adafactor's grid ({@link Adafactor#CHUNK}), next to a 1-D tensor of lengths around the vector
 * width and across chunks, in one buffer. The gradients are never written, and guard elements never change.
 */
class AdafactorSixteenBitProperties {
    static final int GUARD = 5;

    record Case(Dtype gradType, long[] shape, int vectorLength, boolean beta1, double weightDecay, boolean manual,
                boolean clip, boolean maximize, boolean offHeap, int threads, boolean vectorized, int steps,
                int gradExp, long seed) {
        @Override
        public String toString() {
            return "Case[" + gradType + ", shape " + java.util.Arrays.toString(shape) + ", 1-D " + vectorLength
                    + ", beta1 " + beta1 + ", wd " + weightDecay + ", manual " + manual + ", clip " + clip
                    + ", maximize " + maximize + ", offHeap " + offHeap + ", threads " + threads + ", simd "
                    + vectorized + ", steps " + steps + ", gradExp " + gradExp + ", seed " + seed + "]";
        }

        long matrix() {
            return Shape.of(shape).elements();
        }
    }

    @Property(tries = 60)
    void sixteenBitGradientsAreTheFloat32StepOnTheSameValues(@ForAll("cases") Case k) {
        SplittableRandom rnd = new SplittableRandom(k.seed());
        final long m = k.matrix();
        final int at1 = (int) (GUARD + m + GUARD), total = at1 + k.vectorLength() + GUARD;
        try (Arena arena = Arena.ofShared()) {
            Storage p16 = storage(arena, k.offHeap(), Dtype.FLOAT32, total);
            Storage g16 = storage(arena, k.offHeap(), k.gradType(), total);
            Storage p32 = storage(arena, false, Dtype.FLOAT32, total);
            Storage g32 = storage(arena, false, Dtype.FLOAT32, total);
            for (int i = 0; i < total; i++) { // guards 1152 and -99 (exact in every type) around each tensor
                boolean in = i >= GUARD && i < GUARD + m || i >= at1 && i < at1 + k.vectorLength();
                float p = in ? (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-8, 3))) : 1152f;
                p16.set(i, p);
                p32.set(i, p);
                g16.set(i, -99f);
                g32.set(i, -99f);
            }
            ParamSet mixed = params(p16, g16, k, at1);
            ParamSet twin = params(p32, g32, k, at1);
            try (Adafactor a = build(mixed, k, k.threads()); Adafactor b = build(twin, k, 1)) {
                for (int t = 1; t <= k.steps(); t++) {
                    for (Tensor x : mixed.tensors()) {
                        for (long i = x.offset(); i < x.offset() + x.length(); i++) {
                            g16.set(i, (float) (rnd.nextGaussian() * Math.scalb(1.0, k.gradExp())));
                            g32.set(i, g16.get(i)); // the 16-bit value, widened
                        }
                    }
                    float[] gradsBefore = raw(g16);
                    StepReport ra = a.step(1.0);
                    StepReport rb = b.step(1.0);
                    String at = k + ", step " + t;
                    assertEquals(rb.gradNorm(), ra.gradNorm(), 0.0, "gradNorm, " + at);
                    assertEquals(rb.clipCoef(), ra.clipCoef(), 0.0, "clipCoef, " + at);
                    for (Tensor x : twin.tensors()) {
                        String n = x.name();
                        List<String> vars = new ArrayList<>(x.shape().rank() >= 2
                                ? List.of("exp_avg_sq_row", "exp_avg_sq_col") : List.of("exp_avg_sq"));
                        if (k.beta1()) {
                            vars.add("exp_avg");
                        }
                        for (String v : vars) {
                            assertBits(v + " of " + n, at, raw(b.state(n, v)), raw(a.state(n, v)));
                        }
                        assertEquals(Float.floatToRawIntBits(b.rms(n)), Float.floatToRawIntBits(a.rms(n)), "RMS of " + n + ", " + at);
                        assertEquals(Float.floatToRawIntBits(b.lr(n)), Float.floatToRawIntBits(a.lr(n)), "lr of " + n + ", " + at);
                    }
                    assertBits("params", at, raw(p32), raw(p16));
                    assertBits("grads (unchanged)", at, gradsBefore, raw(g16));
                    for (int i = 0; i < total; i++) {
                        if (!(i >= GUARD && i < GUARD + m || i >= at1 && i < at1 + k.vectorLength())) {
                            assertEquals(-99f, g16.get(i), "grad guard " + i + ", " + at);
                        }
                    }
                }
            }
        }
    }

    static ParamSet params(Storage p, Storage g, Case k, int at1) {
        return params(p, g, k.shape(), k.matrix(), k.vectorLength(), at1);
    }

    /** Matrix "m" of {@code shape} ({@code matrix} elements) at {@link #GUARD}, then 1-D "v" at {@code at1}. */
    static ParamSet params(Storage p, Storage g, long[] shape, long matrix, int vectorLength, int at1) {
        ParamSet.Builder b = ParamSet.builder().add("m", p, g, GUARD, matrix, Shape.of(shape));
        if (vectorLength > 0) {
            b = b.add("v", p, g, at1, vectorLength);
        }
        return b.build();
    }

    static Adafactor build(ParamSet set, Case k, int threads) {
        return builder(set, k.manual(), k.beta1(), k.weightDecay(), k.maximize(), k.vectorized(), k.clip(),
                k.gradExp(), threads).build();
    }

    /**
     * Adafactor over {@code set} with HF's defaults or a manual lr of 1e-2, the options given, and (when
     * {@code clip}) clipping at half the expected norm of gaussian gradients of scale 2^gradExp, so most steps clip.
     */
    static Adafactor.Builder builder(ParamSet set, boolean manual, boolean beta1, double weightDecay, boolean maximize,
                                     boolean vectorized, boolean clip, int gradExp, int threads) {
        AdafactorOptions o = manual ? AdafactorOptions.DEFAULTS.manual(1e-2).withScaleParameter(false)
                : AdafactorOptions.DEFAULTS;
        o = o.withBeta1(beta1 ? 0.9 : null).withWeightDecay(weightDecay).withMaximize(maximize);
        var b = Adafactor.builder(set).options(o).threads(threads).vectorized(vectorized);
        if (clip) {
            long n = 0;
            for (Tensor t : set.tensors()) {
                n += t.length();
            }
            b = b.clipGradNorm(0.5 * Math.scalb(1.0, gradExp) * Math.sqrt(n));
        }
        return b;
    }

    /**
     * Matrix shapes, {@code smallWeight} small ones (columns around the vector width and the 512-bit block loops' 64;
     * rows 1 to 9: groups of 4 and leftovers; batches of 1 to 3) to one larger than a chunk (262,144: a row, or a
     * batch's matrix, crossing chunks).
     */
    static Arbitrary<long[]> shapes(int smallWeight) {
        Arbitrary<Integer> cols = Arbitraries.of(1, LANES - 1, LANES, LANES + 1, 2 * LANES + 3, 63, 64, 65, 130, 257);
        Arbitrary<long[]> small = Combinators.combine(Arbitraries.integers().between(1, 9), cols,
                Arbitraries.integers().between(1, 3)).as((r, c, batch) -> batch == 1
                        ? new long[] {r, c} : new long[] {batch, r, c});
        Arbitrary<long[]> large = Arbitraries.of(new long[] {70, 3_777}, new long[] {2, 5, 27_001},
                new long[] {1_031, 257});
        return Arbitraries.frequencyOf(Tuple.of(smallWeight, small), Tuple.of(1, large));
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<long[]> shapes = shapes(5);
        Arbitrary<Integer> vectors = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(0, 1, LANES - 1, LANES, LANES + 1, 2 * LANES + 3, 1021)),
                Tuple.of(1, Arbitraries.of(262_144 + LANES + 1))); // across a chunk
        Arbitrary<Double> wd = Arbitraries.of(0.0, 0.01);
        return Combinators.combine(
                Combinators.combine(Arbitraries.of(Dtype.BFLOAT16, Dtype.FLOAT16), shapes, vectors,
                        Arbitraries.of(false, true), wd, Arbitraries.of(false, true)).as(Tuple::of),
                Combinators.combine(Arbitraries.of(false, true), Arbitraries.of(false, true),
                        Arbitraries.of(false, true), Arbitraries.integers().between(1, 3),
                        Arbitraries.of(true, false), Arbitraries.integers().between(1, 3)).as(Tuple::of),
                // gradients from 2^-24 (float16 subnormals) to 2^4 (bfloat16's and float16's normal range)
                Arbitraries.integers().between(-24, 4), Arbitraries.longs())
                .as((a, b, e, seed) -> new Case(a.get1(), a.get2(), a.get3(), a.get4(), a.get5(), a.get6(),
                        b.get1(), b.get2(), b.get3(), b.get4(), b.get5(), b.get6(), e, seed));
    }
}
