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
import vecopt.memory.BFloat16;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.Adadelta;
import vecopt.optim.AdadeltaOptions;
import vecopt.optim.Adagrad;
import vecopt.optim.AdagradOptions;
import vecopt.optim.Adam;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Adamax;
import vecopt.optim.AdamaxOptions;
import vecopt.optim.Asgd;
import vecopt.optim.AsgdOptions;
import vecopt.optim.GroupOptions;
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.optim.Lars;
import vecopt.optim.LarsOptions;
import vecopt.optim.Lion;
import vecopt.optim.LionOptions;
import vecopt.optim.NAdam;
import vecopt.optim.NAdamOptions;
import vecopt.optim.Optimizer;
import vecopt.optim.RAdam;
import vecopt.optim.RAdamOptions;
import vecopt.optim.Rmsprop;
import vecopt.optim.RmspropOptions;
import vecopt.optim.Rprop;
import vecopt.optim.RpropOptions;
import vecopt.optim.ScheduleFreeAdamW;
import vecopt.optim.ScheduleFreeAdamWOptions;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.reference.StochasticRounding;

/**
 * Parameters and gradients stored as bfloat16 or float16, held to identities with the float32 engine (itself held to
 * the reference by {@code OptimizerVsReferenceProperties}), bit for bit:
 * <ul>
 *   <li>16-bit gradients: the step is the float32 step fed the same gradients widened to float32 (widening is
 *       exact, and the kernels then perform the same float operations) - parameters, state, gradient norm and
 *       clipping coefficient;</li>
 *   <li>16-bit parameters: the float32 master copy is the float32 step's parameters, and the parameter buffer holds
 *       the master rounded to nearest even ({@link Dtype#roundTrip});</li>
 *   <li>bfloat16 parameters with stochastic rounding (no master copy): the parameters are the float32 step's, from
 *       the same values widened, rounded by the reference's {@link StochasticRounding} with the step's key and each
 *       element's index in its buffer;</li>
 * </ul>
 * for every storage mix, every optimizer that takes 16-bit storage in each of its loop variants ({@link Kind}; for
 * schedule-free AdamW after each step also its eval() and train() switches, the master then x and y as the float32
 * twin's parameters, and without a master the switch rounded stochastically with its own key),
 * clipping, maximize, heap and off-heap, 1 to 3 threads, SIMD and scalar kernels,
 * lengths around the vector width and across chunks (the twin runs the same kernels, SIMD or scalar: their
 * reductions agree to rounding, not to the bit, and the norm decides the clipping). The gradients are never written, and guard elements around the
 * tensor never change.
 */
class MixedPrecisionProperties {
    static final int LANES = KernelProvider.kernels().lanes();
    static final int GUARD = 7;
    static final Dtype[] TYPES = Dtype.values();

    /**
     * The optimizers and loop variants held here: each names a variant with a loop (or a loop's flag) of its own in
     * the generated code. {@code variant} in a {@link Case} is AMSGrad for Adam and AdamW,
     * epsRoot 1e-12 and a max weight norm of 0.25 (the clamp of the ratio's numerator binds) for LAMB, Nesterov for
     * LARS (whose cases without weight decay also run without the trust ratio: pass 1 skipped, as optax's mask), decoupled weight decay for
     * NAdam and RAdam, centered for RMSprop's momentum kind, a narrow step-size range for Rprop (its clamp then
     * binds), beta1 0.4 for schedule-free AdamW (its switches' lerp then runs from the end); the others ignore it.
     */
    enum Kind {
        ADAMW, ADAM, SGD, SGD_MOMENTUM, SGD_NESTEROV, SGD_DAMPENING, ADAGRAD, RMSPROP, RMSPROP_CENTERED,
        RMSPROP_MOMENTUM, ADAMAX, NADAM, RADAM, ASGD, RPROP, ADADELTA,
        LION, SCHEDULE_FREE, LAMB, LARS
    }

    /**
     * The layer-wise kinds: their two passes' vector and scalar kernels sum the norms in different orders, so their
     * trust ratios, and the parameters, agree to rounding only; {@code TrustRatioSimdTest} holds their 16-bit loops
     * bitwise to the scalar ones pass by pass (the same factor given to both).
     */
    static boolean layerwise(Kind kind) {
        return kind == Kind.LAMB || kind == Kind.LARS;
    }

    record Case(Kind kind, Dtype gradType, Dtype paramType, boolean stochastic, boolean variant, boolean maximize,
                double weightDecay, boolean clip, int length, int offset, boolean offHeap, int threads,
                boolean vectorized, int steps, double lr, int gradExp, long seed) {
    }

    @Property(tries = 400)
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
            try (Optimizer<?> a = build(mixed, k, k.threads(), k.vectorized());
                 Optimizer<?> b = build(twin, k, 1, k.vectorized())) {
                for (int t = 1; t <= k.steps(); t++) {
                    for (int i = 0; i < total && k.stochastic(); i++) { // the twin starts from the rounded values
                        p32.set(i, p16.get(i));
                    }
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
                    assertTwin(a, b, k, p16, p32, StochasticRounding.key(k.seed(), t), at);
                    if (k.kind() == Kind.SCHEDULE_FREE) { // y to x and back: the master moves as the twin's floats
                        for (boolean train : new boolean[] {false, true}) {
                            for (int i = 0; i < total && k.stochastic(); i++) { // the twin moves the rounded values
                                p32.set(i, p16.get(i));
                            }
                            switchMode(a, train);
                            switchMode(b, train);
                            // the switch's own numbers: variable 3 (eval) or 4 (train) after t steps (none skipped)
                            assertTwin(a, b, k, p16, p32, StochasticRounding.stateKey(k.seed(), t, train ? 4 : 3),
                                    at + (train ? ", then train()" : ", then eval()"));
                        }
                    }
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

    /**
     * The generated vector loops are bitwise their scalar twins ({@code MixedScalar}): one 16-bit step run with the
     * SIMD kernels and with the scalar ones on equal buffers, at the lengths of {@link #cases} (around the vector
     * width, across chunks), for every kind and storage mix; without clipping, as the two kernels' norms agree to
     * rounding only and the norm decides the clipping coefficient. Not the layer-wise kinds (see {@link #layerwise}):
     * their cases are not drawn ({@link #elementwiseCases}), where a rejection would cost a try.
     */
    @Property(tries = 200)
    void simdIsBitwiseScalarOnSixteenBitStorage(@ForAll("elementwiseCases") Case c) {
        Case k = new Case(c.kind(), c.gradType(), c.paramType(), c.stochastic(), c.variant(), c.maximize(),
                c.weightDecay(), false, c.length(), c.offset(), c.offHeap(), c.threads(), true, c.steps(), c.lr(),
                c.gradExp(), c.seed());
        SplittableRandom rnd = new SplittableRandom(k.seed());
        int total = k.offset() + k.length() + GUARD; // never an empty buffer
        try (Arena arena = Arena.ofShared()) {
            Storage pv = storage(arena, k.offHeap(), k.paramType(), total), gv = storage(arena, k.offHeap(), k.gradType(), total);
            Storage ps = storage(arena, k.offHeap(), k.paramType(), total), gs = storage(arena, k.offHeap(), k.gradType(), total);
            for (int i = 0; i < total; i++) {
                pv.set(i, (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-8, 3))));
                ps.set(i, pv.get(i));
            }
            ParamSet simd = ParamSet.builder().add("w", pv, gv, k.offset(), k.length()).build();
            ParamSet scalar = ParamSet.builder().add("w", ps, gs, k.offset(), k.length()).build();
            try (Optimizer<?> a = build(simd, k, k.threads(), true); Optimizer<?> b = build(scalar, k, 1, false)) {
                for (int t = 1; t <= k.steps(); t++) {
                    for (int i = 0; i < total; i++) {
                        gv.set(i, (float) (rnd.nextGaussian() * Math.scalb(1.0, k.gradExp())));
                        gs.set(i, gv.get(i));
                    }
                    a.step(k.lr());
                    b.step(k.lr());
                    String at = k + ", step " + t + ", SIMD against scalar";
                    for (String name : b.stateNames()) {
                        assertBits(name, at, raw(b.state("w", name)), raw(a.state("w", name)));
                    }
                    assertBits("params", at, raw(ps), raw(pv));
                    if (k.kind() == Kind.SCHEDULE_FREE) { // the switch's loops too
                        for (boolean train : new boolean[] {false, true}) {
                            switchMode(a, train);
                            switchMode(b, train);
                            String in = at + (train ? ", then train()" : ", then eval()");
                            for (String name : b.stateNames()) {
                                assertBits(name, in, raw(b.state("w", name)), raw(a.state("w", name)));
                            }
                            assertBits("params", in, raw(ps), raw(pv));
                        }
                    }
                }
            }
        }
    }

    /**
     * {@code a} on 16-bit storage against its float32 twin {@code b} after the same step or switch: the state bit for
     * bit, and the parameters the twin's (float32 parameters), the master the twin's and the parameters its rounding
     * to nearest even (16-bit with a master), or the twin's rounded stochastically with {@code key} (no master).
     */
    private static void assertTwin(Optimizer<?> a, Optimizer<?> b, Case k, Storage p16, Storage p32, int key,
                                   String at) {
        for (String name : b.stateNames()) {
            assertBits(name, at, raw(b.state("w", name)), raw(a.state("w", name)));
        }
        float[] expected = p32.toArray(k.offset(), k.length());
        if (k.stochastic()) {
            for (int i = 0; i < expected.length; i++) {
                int r = StochasticRounding.random(key, k.offset() + i);
                expected[i] = BFloat16.widen((short) StochasticRounding.bfloat16(expected[i], r));
            }
            assertEquals(b.stateNames(), a.stateNames(), "no master copy, " + at);
        } else if (k.paramType() != Dtype.FLOAT32) {
            assertBits(Optimizer.MASTER, at, expected, raw(a.state("w", Optimizer.MASTER)));
            for (int i = 0; i < expected.length; i++) {
                expected[i] = k.paramType().roundTrip(expected[i]);
            }
        }
        assertBits("params", at, expected, p16.toArray(k.offset(), k.length()));
    }

    static void switchMode(Optimizer<?> o, boolean train) {
        if (train) {
            ((ScheduleFreeAdamW) o).train();
        } else {
            ((ScheduleFreeAdamW) o).eval();
        }
    }

    /**
     * Stochastic rounding is unbiased: over N keys the mean of the rounded values of x is x within 6 standard
     * deviations of the mean. Each result is x's lower neighbour or the upper one (a unit u apart), the upper with
     * chance p = dropped / 2^16, so x = lower + p u exactly and the mean of N draws has standard deviation
     * u sqrt(p (1 - p) / N); 6 of them are exceeded with chance 2e-9 for truly random numbers (a hash that failed to
     * spread would miss by far more). The mean is accumulated in double, exactly enough (N u-sized terms).
     */
    @Property(tries = 200)
    void stochasticRoundingIsUnbiased(@ForAll("roundable") float x, @ForAll long index) {
        final int n = 4096;
        int bits = Float.floatToRawIntBits(x);
        double lower = BFloat16.widen((short) (bits >>> 16));
        double unit = Math.abs(BFloat16.widen((short) ((bits >>> 16) + 1)) - lower);
        double p = (bits & 0xFFFF) / 65536.0;
        double sum = 0;
        for (int s = 0; s < n; s++) {
            int r = StochasticRounding.random(StochasticRounding.key(s, 1), index);
            sum += BFloat16.widen((short) StochasticRounding.bfloat16(x, r));
        }
        double mean = sum / n;
        double bound = 6 * unit * Math.sqrt(p * (1 - p) / n);
        assertTrue(Math.abs(mean - x) <= bound, "mean " + mean + " of " + Float.toHexString(x) + " is "
                + Math.abs(mean - x) / unit + " units away, bound " + bound / unit);
    }

    /** Finite floats below bfloat16's largest finite value (whose upper neighbour is infinity). */
    @Provide
    Arbitrary<Float> roundable() {
        return Arbitraries.integers().between(0, 0x7F7EFFFF).map(Float::intBitsToFloat)
                .flatMap(f -> Arbitraries.of(f, -f));
    }

    @Example
    void stochasticRoundingNeedsBFloat16Parameters() {
        ParamSet set = ParamSet.builder().add("w", Storage.of(new short[8], Dtype.FLOAT16), Storage.of(new float[8]),
                0, 8).build();
        var e = assertThrows(IllegalArgumentException.class, () -> AdamW.builder(set).stochasticRounding(1).build());
        assertTrue(e.getMessage().contains("stochasticRounding") && e.getMessage().contains("float16"),
                e.getMessage());
    }

    @Example
    void trackNormsWithSixteenBitStorageIsRefusedNamingTheTensor() {
        Storage p = Storage.of(new short[8], Dtype.BFLOAT16);
        Storage g = Storage.of(new float[8]);
        ParamSet set = ParamSet.builder().add("emb", p, g, 0, 8).build();
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

    static Optimizer<?> build(ParamSet set, Case k, int threads, boolean vectorized) {
        return build(set, k, threads, vectorized, null);
    }

    /** As {@link #build(ParamSet, Case, int, boolean)}, with bfloat16 state of seed {@code stateSeed} unless null. */
    static Optimizer<?> build(ParamSet set, Case k, int threads, boolean vectorized, Long stateSeed) {
        return build(set, k, threads, vectorized, stateSeed, 0);
    }

    /**
     * As {@link #build(ParamSet, Case, int, boolean, Long)}, with 8-bit state ({@code eightBitState(eightBit)}: tensors
     * of fewer elements keep float32 state) unless {@code eightBit} is 0.
     */
    static Optimizer<?> build(ParamSet set, Case k, int threads, boolean vectorized, Long stateSeed, int eightBit) {
        double wd = k.weightDecay();
        boolean max = k.maximize();
        AdamOptions adam = new AdamOptions(0.9, 0.999, 1e-8, wd, k.variant(), 1.0, max);
        RmspropOptions rmsprop = RmspropOptions.DEFAULTS.withWeightDecay(wd).withMaximize(max);
        SgdOptions sgd = SgdOptions.PLAIN.withWeightDecay(wd).withMaximize(max);
        return switch (k.kind()) {
            case ADAMW -> common(AdamW.builder(set).options(adam), set, k, threads, vectorized, stateSeed, eightBit).build();
            case ADAM -> common(Adam.builder(set).options(adam), set, k, threads, vectorized, stateSeed, eightBit).build();
            case SGD -> common(Sgd.builder(set).options(sgd), set, k, threads, vectorized, stateSeed, eightBit).build();
            case SGD_MOMENTUM -> common(Sgd.builder(set).options(sgd.withMomentum(0.9)), set, k, threads, vectorized, stateSeed, eightBit)
                    .build();
            case SGD_NESTEROV -> common(Sgd.builder(set).options(sgd.withMomentum(0.9).withNesterov(true)), set, k,
                    threads, vectorized, stateSeed, eightBit).build();
            case SGD_DAMPENING -> common(Sgd.builder(set).options(sgd.withMomentum(0.8).withDampening(0.3)), set, k,
                    threads, vectorized, stateSeed, eightBit).build();
            // a non-zero initial accumulator: the master copy must not be filled with it
            case ADAGRAD -> common(Adagrad.builder(set).options(AdagradOptions.DEFAULTS.withWeightDecay(wd)
                    .withLrDecay(0.01).withInitialAccumulatorValue(0.1).withMaximize(max)), set, k, threads,
                    vectorized, stateSeed, eightBit).build();
            case RMSPROP -> common(Rmsprop.builder(set).options(rmsprop), set, k, threads, vectorized, stateSeed, eightBit).build();
            case RMSPROP_CENTERED -> common(Rmsprop.builder(set).options(rmsprop.withCentered(true)), set, k, threads,
                    vectorized, stateSeed, eightBit).build();
            case RMSPROP_MOMENTUM -> common(Rmsprop.builder(set).options(rmsprop.withMomentum(0.9)
                    .withCentered(k.variant())), set, k, threads, vectorized, stateSeed, eightBit).build();
            case ADAMAX -> common(Adamax.builder(set).options(AdamaxOptions.DEFAULTS.withWeightDecay(wd)
                    .withMaximize(max)), set, k, threads, vectorized, stateSeed, eightBit).build();
            case NADAM -> common(NAdam.builder(set).options(NAdamOptions.DEFAULTS.withWeightDecay(wd)
                    .withDecoupledWeightDecay(k.variant()).withMaximize(max)), set, k, threads, vectorized, stateSeed, eightBit).build();
            case RADAM -> common(RAdam.builder(set).options(RAdamOptions.DEFAULTS.withWeightDecay(wd)
                    .withDecoupledWeightDecay(k.variant()).withMaximize(max)), set, k, threads, vectorized, stateSeed, eightBit).build();
            // t0 = 0: mu = 1 / (step - t0) is below 1 from the second step, so the third step averages
            case ASGD -> common(Asgd.builder(set).options(AsgdOptions.DEFAULTS.withT0(0).withWeightDecay(wd)
                    .withMaximize(max)), set, k, threads, vectorized, stateSeed, eightBit).build();
            // the variant: step sizes clamped to [lr / 2, 1.5 lr], so both bounds are met within three steps
            case RPROP -> common(Rprop.builder(set).options((k.variant()
                    ? RpropOptions.DEFAULTS.withStepSizes(k.lr() / 2, 1.5 * k.lr()) : RpropOptions.DEFAULTS)
                    .withMaximize(max)), set, k, threads, vectorized, stateSeed, eightBit).build();
            case ADADELTA -> common(Adadelta.builder(set).options(AdadeltaOptions.DEFAULTS.withWeightDecay(wd)
                    .withMaximize(max)), set, k, threads, vectorized, stateSeed, eightBit).build();
            case LION -> common(Lion.builder(set).options(LionOptions.DEFAULTS.withWeightDecay(wd).withMaximize(max)),
                    set, k, threads, vectorized, stateSeed, eightBit).build();
            // r = 0, warmup 2: ckp1 is 1, 0.8, 0.44, ... so the step's lerp runs from the end, then (step 3) from the
            // start; the switches' weights, 1 - 1/beta1 and 1 - beta1, from the start at beta1 0.9 and from the end
            // at the variant's 0.4 (|weight| >= 0.5)
            case SCHEDULE_FREE -> {
                ScheduleFreeAdamW o = common(ScheduleFreeAdamW.builder(set).options(ScheduleFreeAdamWOptions.DEFAULTS
                        .withBetas(k.variant() ? 0.4 : 0.9, 0.999).withWeightDecay(wd).withWarmupSteps(2)
                        .withMaximize(max)), set, k, threads, vectorized, stateSeed, eightBit).build();
                o.train(); // it steps in train mode only; before a step nothing moves (no z yet)
                yield o;
            }
            // the variant: the clamp min(||p||, 0.25) binds for most tensors (|p| up to 4, so ||p|| mostly above it)
            case LAMB -> common(Lamb.builder(set).options((k.variant()
                    ? LambOptions.DEFAULTS.withEpsRoot(1e-12).withMaxWeightNorm(0.25) : LambOptions.DEFAULTS)
                    .withWeightDecay(wd).withMaximize(max)), set, k, threads, vectorized, stateSeed, eightBit).build();
            // no decay, no trust ratio: the usual split of LARS's groups (biases and norms), optax's trust_ratio_mask
            case LARS -> common(Lars.builder(set).options(LarsOptions.DEFAULTS.withMomentum(0.9)
                    .withNesterov(k.variant()).withTrustCoefficient(0.02).withTrustRatio(wd != 0).withWeightDecay(wd)
                    .withMaximize(max)), set, k, threads, vectorized, stateSeed, eightBit).build();
        };
    }

    /** Threads, kernels, clipping and (for bfloat16 parameters of a stochastic case) stochastic rounding. */
    private static <O extends GroupOptions, B extends Optimizer.Builder<O, B>> B common(B b, ParamSet set, Case k,
                                                                                      int threads, boolean vectorized,
                                                                                      Long stateSeed, int eightBit) {
        // clipping at half the expected norm of the gaussian gradients: most steps clip
        double maxNorm = k.clip() ? 0.5 * Math.scalb(1.0, k.gradExp()) * Math.sqrt(Math.max(1, k.length())) : 0;
        boolean sr = k.stochastic() && set.tensors().get(0).params().dtype() == Dtype.BFLOAT16;
        b = b.threads(threads).vectorized(vectorized);
        b = k.clip() ? b.clipGradNorm(maxNorm) : b;
        b = stateSeed != null ? b.bfloat16State(stateSeed) : b;
        b = eightBit > 0 ? b.eightBitState(eightBit) : b;
        return sr ? b.stochasticRounding(k.seed()) : b;
    }

    static Storage storage(Arena arena, boolean offHeap, Dtype type, int n) {
        if (offHeap) {
            return Storage.allocate(arena, n, type);
        }
        return type == Dtype.FLOAT32 ? Storage.of(new float[n]) : Storage.of(new short[n], type);
    }

    /** Every element of a buffer as float32 values (16-bit ones widened, exactly). */
    static float[] raw(Storage s) {
        return s.toArray(0, (int) s.length());
    }

    static float[] raw(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_FLOAT);
    }

    static void assertBits(String what, String at, float[] expected, float[] actual) {
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
        return cases(java.util.Arrays.asList(Kind.values()), false);
    }

    /** {@link #cases()} of every kind but the layer-wise ones. */
    @Provide
    Arbitrary<Case> elementwiseCases() {
        return cases(java.util.Arrays.stream(Kind.values()).filter(x -> !layerwise(x)).toList(), false);
    }

    /**
     * Cases of the given kinds over every storage mix of parameters and gradients (float32 with float32 only when
     * {@code float32Mix}: a 16-bit state is then what is narrow), the kind drawn uniformly, every kind an edge case.
     * The kind was once taken from the case's seed, {@code (seed >>> 8) mod kinds}, and jqwik draws small seeds of
     * either sign often, so one kind took 37-69% of the tries (of the 20 kinds ADADELTA, 2^56 - 1 mod 20; of the 16
     * of {@code ElementwiseBFloat16StateProperties} SCHEDULE_FREE) and some others 1-2% (a planted RAdam bug went
     * unseen so). Nor does {@code Arbitraries.oneOf} over one kind's cases each draw them evenly: the first kind's
     * edge cases fill jqwik's budget of edge cases, and the first kind took 33-39% of the tries. Hence the kind is the
     * last component of the combination, with every kind as an edge case.
     */
    static Arbitrary<Case> cases(java.util.List<Kind> kinds, boolean float32Mix) {
        Arbitrary<Dtype> types = Arbitraries.of(TYPES);
        Arbitrary<Tuple.Tuple2<Dtype, Dtype>> mix = Combinators.combine(types, types).as(Tuple::of)
                .filter(t -> float32Mix || t.get1() != Dtype.FLOAT32 || t.get2() != Dtype.FLOAT32);
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
                lr, Arbitraries.integers().between(-30, 8), Arbitraries.longs(),
                Arbitraries.of(kinds).edgeCases(c -> c.add(kinds.toArray(Kind[]::new))))
                .as((a, b, r, e, seed, kind) -> {
                    // RAdam's rectified update starts at step 6 (rho_t > 5): its cases run past it; Rprop's and
                    // schedule-free AdamW's first steps differ from the later ones: their cases run a later one too
                    int steps = kind == Kind.RADAM ? b.get6() + 5 : kind == Kind.RPROP || kind == Kind.SCHEDULE_FREE
                            ? b.get6() + 1 : b.get6();
                    return new Case(kind, a.get1().get1(), a.get1().get2(),
                            a.get1().get2() == Dtype.BFLOAT16 && (seed & 3) == 0, // stochastic rounding: a quarter of bf16
                            a.get2(), a.get3(), a.get4(), a.get5(), b.get1(), b.get2(), b.get3(), b.get4(), b.get5(),
                            steps, r, e, seed);
                });
    }
}
