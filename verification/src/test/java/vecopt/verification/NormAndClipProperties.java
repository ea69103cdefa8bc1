package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.apache.commons.numbers.core.Sum;
import vecopt.clip.Clip;
import vecopt.clip.GlobalNorm;
import vecopt.clip.NonFinite;
import vecopt.clip.NonFiniteGradientException;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.reference.AdamReference;
import vecopt.reference.ClipReference;

/** Global norm against an extended-precision oracle, clipping semantics, non-finite policies, fused clipping. */
class NormAndClipProperties {

    /** Magnitude regimes: subnormal, tiny, ordinary, huge, and all of them mixed in one vector. */
    @Provide
    Arbitrary<int[]> exponents() {
        return Arbitraries.of(new int[] {-149, -127}, new int[] {-110, -90}, new int[] {-10, 10},
                new int[] {90, 100}, new int[] {-149, 100});
    }

    static float[] spread(SplittableRandom r, int n, int[] exp) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) Math.scalb(r.nextDouble(1, 2) * (r.nextBoolean() ? 1 : -1), r.nextInt(exp[0], exp[1] + 1));
        }
        return a;
    }

    /**
     * The oracle: Commons Numbers' {@code Sum.ofProducts}, an extended-precision (error-free transformation) dot
     * product, of x with itself, then a square root. Its result is correctly rounded to within 1 ulp of double.
     */
    static double oracleNorm(float[]... parts) {
        Sum s = Sum.create();
        for (float[] p : parts) {
            for (float x : p) {
                s.addProduct(x, x);
            }
        }
        return Math.sqrt(s.getAsDouble());
    }

    static ParamSet twoTensors(float[] a, float[] b) {
        Storage pa = Storage.of(new float[a.length + b.length]), ga = Storage.of(new float[a.length + b.length]);
        ga.copyFrom(a, 0);
        ga.copyFrom(b, a.length);
        return ParamSet.builder().add("a", pa, ga, 0, a.length).add("b", pa, ga, a.length, b.length).build();
    }

    /**
     * Squares of floats are exact in double and their sum never overflows or underflows; the error is that of
     * summing n positive terms in double, at most (n - 1) 2^-53 relative (Higham, eq. 4.4), halved by the square
     * root. For n <= 2^17 that is below 2^-37 relative: we assert 2^-36, far inside one float ULP (2^-23).
     */
    @Property(tries = 60)
    void globalNormMatchesExtendedPrecisionOracle(@ForAll("exponents") int[] exp, @ForAll @IntRange(max = 70_000) int n,
                                                  @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = spread(r, n, exp), b = spread(r, r.nextInt(0, 100), exp);
        double expected = oracleNorm(a, b);
        double actual = GlobalNorm.l2(twoTensors(a, b));
        assertEquals(expected, actual, expected * 0x1p-36, "norm of " + (a.length + b.length) + " values");
        assertTrue(Double.isFinite(actual) && (expected == 0 || actual > 0), "no overflow or underflow");
        assertEquals(ClipReference.infNorm(a, b), GlobalNorm.linf(twoTensors(a, b)), 0.0, "infinity norm is exact");
    }

    @Property(tries = 60)
    void clipByNormFollowsPyTorch(@ForAll @IntRange(min = 1, max = 5000) int n, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = spread(r, n, new int[] {-6, 2}), b = spread(r, 7, new int[] {-6, 2});
        double norm = oracleNorm(a, b);
        double maxNorm = norm * r.nextDouble(0.1, 2.0);
        ParamSet set = twoTensors(a, b);
        float[] ra = a.clone(), rb = b.clone();
        double refNorm = ClipReference.clipByNorm(maxNorm, ra, rb);
        double returned = Clip.byNorm(set, maxNorm);
        assertEquals(refNorm, returned, refNorm * 0x1p-36, "returns the norm before clipping");
        float[] ca = set.tensor("a").grads().toArray(0, n);
        if (maxNorm >= norm + 1e-6) { // below the threshold: a no-op, bit for bit
            Check.bitwiseEqual("unclipped grads", a, ca);
        } else {
            // Same float coefficient unless the two norms straddle a float rounding boundary of coef: then 1 ulp.
            for (int i = 0; i < n; i++) {
                Check.within("clipped grad", "element " + i, ca[i], ra[i], Math.ulp(ra[i]));
            }
            double after = oracleNorm(ca, set.tensor("b").grads().toArray(n, 7)); // b sits after a in the buffer
            assertTrue(after <= maxNorm * (1 + 1e-6), "clipped norm " + after + " exceeds " + maxNorm);
        }
    }

    @Property(tries = 80)
    void nonFiniteAnywhereSkipsTheStepAndChangesNothing(@ForAll @IntRange(min = 1, max = 3000) int n,
                                                       @ForAll long seed, @ForAll boolean offHeap) {
        SplittableRandom r = new SplittableRandom(seed);
        int pos = r.nextInt(n); // anywhere, tails included
        float bad = new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}[r.nextInt(3)];
        try (Rig rig = new Rig(r.nextInt(0, 17), n, offHeap);
             AdamW opt = AdamW.builder(rig.set).clipGradNorm(1.0).threads(2).build()) {
            rig.setParams(Rig.values(r, n, -2, 3));
            rig.setGrads(Rig.values(r, n, -3, 3));
            opt.step(1e-3); // some state to keep
            float[] p = rig.params(), m = Rig.toArray(opt.state("w", "exp_avg"));
            float[] v = Rig.toArray(opt.state("w", "exp_avg_sq"));
            float[] g = Rig.values(r, n, -3, 3);
            g[pos] = bad;
            rig.setGrads(g);
            StepReport rep = opt.step(1e-3);
            assertTrue(rep.skipped(), "reported as skipped");
            assertEquals(1, opt.steps(), "step counter unchanged");
            assertEquals(1, opt.groups().get(0).steps(), "group step counter unchanged");
            Check.bitwiseEqual("params", p, rig.params());
            Check.bitwiseEqual("exp_avg", m, Rig.toArray(opt.state("w", "exp_avg")));
            Check.bitwiseEqual("exp_avg_sq", v, Rig.toArray(opt.state("w", "exp_avg_sq")));
            Check.guards(rig);
        }
    }

    @Property(tries = 30)
    void throwPolicyNamesTheTensorAndWritesNothing(@ForAll @IntRange(min = 1, max = 500) int n, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        try (Rig rig = new Rig(0, n, false);
             AdamW opt = AdamW.builder(rig.set).onNonFinite(NonFinite.THROW).build()) {
            float[] p = Rig.values(r, n, -2, 3);
            rig.setParams(p);
            float[] g = Rig.values(r, n, -3, 3);
            int pos = r.nextInt(n);
            g[pos] = Float.NaN;
            rig.setGrads(g);
            NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class, () -> opt.step(1e-3));
            assertEquals("w", e.tensor());
            assertEquals(pos, e.index());
            Check.bitwiseEqual("params", p, rig.params());
            assertEquals(0, opt.steps());
        }
    }

    @Property(tries = 20)
    void proceedPolicyLetsNaNFlowAsPyTorchDoes(@ForAll @IntRange(min = 1, max = 500) int n, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        try (Rig rig = new Rig(0, n, false);
             AdamW opt = AdamW.builder(rig.set).onNonFinite(NonFinite.PROCEED).clipGradNorm(1.0).build()) {
            rig.setParams(Rig.values(r, n, -2, 3));
            float[] g = Rig.values(r, n, -3, 3);
            g[r.nextInt(n)] = Float.NaN;
            rig.setGrads(g);
            StepReport rep = opt.step(1e-3);
            assertTrue(!rep.skipped() && Double.isNaN(rep.clipCoef()), "coefficient NaN, step applied");
            for (float x : rig.params()) {
                assertTrue(Float.isNaN(x), "every parameter became NaN, as clip_grad_norm_ + step would leave it");
            }
        }
    }

    /**
     * Fused clipping multiplies each gradient by the float coefficient inside the kernel; clip-then-step multiplies
     * it in the gradient buffer first. Same float product, same update: bitwise equal when both use the same
     * coefficient, which they do because both compute it from the same deterministic norm.
     */
    @Property(tries = 30)
    void fusedClipEqualsClipThenStep(@ForAll @IntRange(min = 1, max = 5000) int n, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] p = Rig.values(r, n, -2, 3), g = spread(r, n, new int[] {-1, 3}); // no zeros: norm > 0.5, it clips
        float[] fusedP, separateP;
        try (Rig rig = new Rig(0, n, true); AdamW opt = AdamW.builder(rig.set).clipGradNorm(0.5).build()) {
            rig.setParams(p);
            rig.setGrads(g);
            StepReport rep = opt.step(1e-3);
            assertTrue(rep.clipCoef() < 1, "the case clips");
            Check.bitwiseEqual("fused mode leaves gradients unscaled", g, rig.grads());
            fusedP = rig.params();
        }
        try (Rig rig = new Rig(0, n, true); AdamW opt = AdamW.builder(rig.set).build()) {
            rig.setParams(p);
            rig.setGrads(g);
            Clip.byNorm(rig.set, 0.5);
            opt.step(1e-3);
            separateP = rig.params();
        }
        Check.bitwiseEqual("fused vs separate", fusedP, separateP);
        // And both agree with the reference (clip, then AdamW) within the derived bound.
        float[] rp = p.clone(), rg = g.clone(), m = new float[n], v = new float[n];
        ClipReference.clipByNorm(0.5, rg);
        AdamReference.step(rp, rg, m, v, null, 0, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, true, 1, 1.0);
        AdamConfig c = new AdamConfig(true, 0.9, 0.999, 1e-8, 0.01, false, 1.0, false);
        for (int i = 0; i < n; i++) {
            // rg[i] is the reference's clipped gradient; the engine's may differ by the 1-ulp coefficient case.
            AdamBound b = AdamBound.of(c, 1e-3, 1, p[i], rg[i], 0, 0, 0);
            Check.within("param", "element " + i, fusedP[i], rp[i], b.p() + Math.ulp(rp[i]));
        }
    }

    @Property(tries = 5)
    void sharedPoolStressLosesNoChunk(@ForAll long seed) {
        // Many steps of a many-chunk problem on a 3-thread pool: every element must see every step exactly once.
        // SGD with lr 1 and gradient -1 adds exactly 1 per step, so p counts the updates each element received.
        int n = 9 * vecopt.exec.ChunkGrid.CHUNK + 17;
        try (Rig rig = new Rig(0, n, true);
             vecopt.optim.Sgd opt = vecopt.optim.Sgd.builder(rig.set).threads(3).build()) {
            rig.setParams(new float[n]);
            float[] g = new float[n];
            java.util.Arrays.fill(g, -1f);
            rig.setGrads(g);
            for (int t = 0; t < 300; t++) {
                opt.step(1.0);
            }
            float[] p = rig.params();
            for (int i = 0; i < n; i++) {
                if (p[i] != 300f) {
                    throw new AssertionError("element " + i + " received " + p[i] + " updates, expected 300");
                }
            }
        }
    }

    @Property(tries = 10)
    void dataParallelRanksAgreeWithOneProcess(@ForAll long seed) {
        // Two "ranks" own halves of a model; each contributes its local sum of squares, the coefficient is computed
        // from the global norm, and each applies it: the result equals one optimizer over the whole model, bitwise.
        SplittableRandom r = new SplittableRandom(seed);
        int n = 40_000;
        float[] p = Rig.values(r, 2 * n, -2, 3), g = Rig.values(r, 2 * n, 0, 3);
        float[] whole;
        try (Rig rig = new Rig(0, 2 * n, true); AdamW opt = AdamW.builder(rig.set).clipGradNorm(1.0).build()) {
            rig.setParams(p);
            rig.setGrads(g);
            opt.step(1e-3);
            whole = rig.params();
        }
        try (Rig r0 = new Rig(0, n, true); Rig r1 = new Rig(0, n, true);
             AdamW o0 = AdamW.builder(r0.set).build(); AdamW o1 = AdamW.builder(r1.set).build()) {
            r0.setParams(java.util.Arrays.copyOfRange(p, 0, n));
            r1.setParams(java.util.Arrays.copyOfRange(p, n, 2 * n));
            r0.setGrads(java.util.Arrays.copyOfRange(g, 0, n));
            r1.setGrads(java.util.Arrays.copyOfRange(g, n, 2 * n));
            double norm = Math.sqrt(o0.localGradSumOfSquares() + o1.localGradSumOfSquares());
            double coef = Clip.coefficient(1.0, norm);
            o0.step(1e-3, coef);
            o1.step(1e-3, coef);
            float[] joined = new float[2 * n];
            System.arraycopy(r0.params(), 0, joined, 0, n);
            System.arraycopy(r1.params(), 0, joined, n, n);
            // n is not a multiple of the chunk, so the ranks' chunk sums differ from the whole's; the norms agree to
            // 2^-40 relative and the float coefficient to within 1 ulp, hence the tolerance of one update ulp.
            for (int i = 0; i < 2 * n; i++) {
                Check.within("param", "element " + i, joined[i], whole[i], 2 * Math.ulp(whole[i]));
            }
        }
    }

    /**
     * The optimizer's norm pass is the global norm: {@code StepReport.gradNorm()} and {@code localGradSumOfSquares()}
     * give the same bits as {@link GlobalNorm} for the same set, whatever the groups (here interleaved in one buffer,
     * which gives the update grid other chunk boundaries than the gradient grid), threads and memory kind.
     */
    @Property(tries = 30)
    void optimizerNormPassIsTheGlobalNormBitwise(@ForAll @IntRange(min = 1, max = 5) int tensors,
                                                 @ForAll @IntRange(min = 0, max = 90_000) int size,
                                                 @ForAll @IntRange(min = 1, max = 3) int threads,
                                                 @ForAll boolean offHeap, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = tensors * size;
        try (Rig rig = new Rig(r.nextInt(0, 9), n, offHeap)) {
            rig.setGrads(spread(r, n, new int[] {-20, 5}));
            ParamSet.Builder b = ParamSet.builder();
            for (int t = 0; t < tensors; t++) {
                b.add("t" + t, rig.params, rig.grads, rig.offset + (long) t * size, size);
            }
            ParamSet set = b.build();
            try (AdamW opt = AdamW.builder(set).clipGradNorm(1.0).threads(threads)
                    .group("odd", AdamOptions.ADAMW_DEFAULTS.withWeightDecay(0), t -> t.name().hashCode() % 2 == 1)
                    .build()) {
                double sum = opt.localGradSumOfSquares();
                assertEquals(Double.doubleToRawLongBits(GlobalNorm.sumOfSquares(set)), Double.doubleToRawLongBits(sum),
                        "localGradSumOfSquares vs GlobalNorm.sumOfSquares");
                StepReport report = opt.step(1e-3);
                assertEquals(Double.doubleToRawLongBits(GlobalNorm.l2(set)), Double.doubleToRawLongBits(report.gradNorm()),
                        "StepReport.gradNorm vs GlobalNorm.l2");
            }
        }
    }
}
