package vecopt.verification;

import static vecopt.verification.OptimizerVsReferenceProperties.LANES;
import static vecopt.verification.OptimizerVsReferenceProperties.gradScales;
import static vecopt.verification.OptimizerVsReferenceProperties.logUniform;
import static vecopt.verification.OptimizerVsReferenceProperties.maximize;
import static vecopt.verification.Traced.Precision.DOUBLE;
import static vecopt.verification.Traced.Precision.FLOAT;
import static vecopt.verification.Traced.add;
import static vecopt.verification.Traced.div;
import static vecopt.verification.Traced.doubleConstant;
import static vecopt.verification.Traced.exact;
import static vecopt.verification.Traced.floatConstant;
import static vecopt.verification.Traced.fma;
import static vecopt.verification.Traced.mul;
import static vecopt.verification.Traced.sqrt;

import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import vecopt.exec.ChunkGrid;
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.reference.LambReference;

/**
 * LAMB against optax's {@code lamb} ({@link LambReference}) on sets of several tensors (back to back or with gaps,
 * some longer than a chunk, so a norm spans chunks and a chunk's neighbours belong to other tensors): every
 * element's moments and parameter, and every tensor's trust ratio, each step from the engine's own state before
 * it, within the bounds {@link #bound} derives; a hand-computed two-step example; options rejected by name.
 */
class LambProperties {
    record Config(double b1, double b2, double eps, double epsRoot, double weightDecay, double maxWeightNorm,
                  double gradScale, boolean maximize) {
        LambOptions options() {
            return new LambOptions(b1, b2, eps, epsRoot, weightDecay, maxWeightNorm, 1.0, maximize);
        }

        double signedScale() {
            return maximize ? -(float) gradScale : (float) gradScale;
        }
    }

    record Layout(int[] lengths, boolean gaps, boolean offHeap, int threads, int steps) {
        @Override
        public String toString() {
            return "Layout" + java.util.Arrays.toString(lengths) + (gaps ? " gaps" : "") + (offHeap ? " off-heap" : "")
                    + ", " + threads + " threads, " + steps + " steps";
        }
    }

    record Case(Config config, Layout layout, double lr, int gradExp, long seed) {
    }

    @Property(tries = 60)
    void matchesReference(@ForAll("cases") Case k) {
        Config c = k.config();
        Layout l = k.layout();
        SplittableRandom rnd = new SplittableRandom(k.seed());
        try (TensorsRig rig = new TensorsRig(l.lengths(), l.gaps(), l.offHeap());
             Lamb opt = Lamb.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            rig.randomize(rnd, rnd.nextInt(-8, 3), k.gradExp());
            for (int t = 1; t <= l.steps(); t++) {
                int n = rig.count();
                float[][] p0 = new float[n][], g = new float[n][], m0 = new float[n][], v0 = new float[n][];
                for (int i = 0; i < n; i++) {
                    rig.setGrads(i, Rig.grads(rnd, l.lengths()[i], k.gradExp()));
                    p0[i] = rig.params(i);
                    g[i] = rig.grads(i);
                    m0[i] = Rig.toArray(opt.state("t" + i, "mu"));
                    v0[i] = Rig.toArray(opt.state("t" + i, "nu"));
                }
                if (c.gradScale() != 1) {
                    opt.step(k.lr(), c.gradScale());
                } else {
                    opt.step(k.lr());
                }
                for (int i = 0; i < n; i++) {
                    check(c, k.lr(), t, "tensor t" + i + " step " + t, p0[i], g[i], m0[i], v0[i], rig.params(i),
                            Rig.toArray(opt.state("t" + i, "mu")), Rig.toArray(opt.state("t" + i, "nu")),
                            opt.trustRatio("t" + i));
                }
                if (!rig.guardsIntact()) {
                    throw new AssertionError("an element outside the tensors was written");
                }
            }
        }
    }

    /** One tensor's step: the reference from the same state, then every element and the ratio within the bound. */
    private static void check(Config c, double lr, long t, String where, float[] p0, float[] g, float[] m0, float[] v0,
                              float[] pe, float[] me, float[] ve, double ratioEngine) {
        int n = p0.length;
        if (n == 0) {
            return;
        }
        float[] p = p0.clone(), m = m0.clone(), v = v0.clone();
        double ratio = LambReference.step(p, g, m, v, 0, n, lr, c.b1(), c.b2(), c.eps(), c.epsRoot(), c.weightDecay(),
                c.maxWeightNorm(), t, c.gradScale(), c.maximize());
        Bound b = bound(c, lr, t, p0, g, m0, v0, ratio);
        if (!(Math.abs(ratioEngine - ratio) <= b.ratio())) {
            throw new AssertionError("trust ratio of " + where + ": engine " + ratioEngine + ", reference " + ratio
                    + " > derived bound " + b.ratio());
        }
        for (int i = 0; i < n; i++) {
            String at = where + ", element " + i + " (p=" + p0[i] + ", g=" + g[i] + ", mu=" + m0[i] + ", nu=" + v0[i]
                    + ")";
            Check.within("mu", at, me[i], m[i], b.m()[i]);
            Check.within("nu", at, ve[i], v[i], b.v()[i]);
            Check.within("param", at, pe[i], p[i], b.p()[i]);
        }
    }

    record Bound(double[] m, double[] v, double[] p, double ratio) {
    }

    /**
     * The tolerances: the engine's float sequence ({@code LambStep}: moments, the update u, then
     * {@code fma(u, (float) (-lr * ratio), p)}) traced, plus the reference's double sequence with its float stores;
     * the norms of u traced element by element ({@link TrustBound#norm}), so the ratio's bound, and through the
     * factor every parameter's, carries the whole tensor's rounding.
     */
    static Bound bound(Config c, double lr, long t, float[] p0, float[] g0, float[] m0, float[] v0, double refRatio) {
        int n = p0.length;
        double bc1 = 1 - Math.pow(c.b1(), t), bc2 = 1 - Math.pow(c.b2(), t);
        Traced[] u = new Traced[n], ru = new Traced[n];
        double[] bm = new double[n], bv = new double[n], bp = new double[n];
        double[] ux = new double[n], ue = new double[n], rux = new double[n], rue = new double[n], px = new double[n];
        for (int i = 0; i < n; i++) {
            Traced g = mul(exact(g0[i]), exact(c.signedScale()), FLOAT);
            Traced m = fma(exact(m0[i]), floatConstant(c.b1()), mul(g, floatConstant(1 - c.b1()), FLOAT), FLOAT);
            Traced v = fma(exact(v0[i]), floatConstant(c.b2()),
                    mul(mul(g, floatConstant(1 - c.b2()), FLOAT), g, FLOAT), FLOAT);
            Traced den = add(sqrt(add(mul(v, floatConstant(1 / bc2), FLOAT), floatConstant(c.epsRoot()), FLOAT),
                    FLOAT), floatConstant(c.eps()), FLOAT);
            u[i] = fma(exact(p0[i]), floatConstant(c.weightDecay()), div(mul(m, floatConstant(1 / bc1), FLOAT), den,
                    FLOAT), FLOAT);

            Traced rg = mul(exact(g0[i]), exact(c.signedScale()), DOUBLE);
            Traced rm = add(mul(doubleConstant(1 - c.b1()), rg, DOUBLE), mul(doubleConstant(c.b1()), exact(m0[i]),
                    DOUBLE), DOUBLE).round(FLOAT);
            Traced rv = add(mul(mul(doubleConstant(1 - c.b2()), rg, DOUBLE), rg, DOUBLE),
                    mul(doubleConstant(c.b2()), exact(v0[i]), DOUBLE), DOUBLE).round(FLOAT);
            Traced rden = add(sqrt(add(div(rv, doubleConstant(bc2), DOUBLE), exact(c.epsRoot()), DOUBLE), DOUBLE),
                    exact(c.eps()), DOUBLE);
            ru[i] = add(div(div(rm, doubleConstant(bc1), DOUBLE), rden, DOUBLE),
                    mul(exact(c.weightDecay()), exact(p0[i]), DOUBLE), DOUBLE);
            bm[i] = m.err() + rm.err();
            bv[i] = v.err() + rv.err();
            ux[i] = u[i].x();
            ue[i] = u[i].err();
            rux[i] = ru[i].x();
            rue[i] = ru[i].err();
            px[i] = p0[i];
        }
        Traced w = TrustBound.norm(px, new double[n]);
        w = new Traced(Math.min(w.x(), c.maxWeightNorm()), w.err()); // min is 1-Lipschitz: the error stays
        Traced ratioE, ratioR;
        if (refRatio == 1 && (w.x() == 0 || allZero(rux))) { // the 1-where-zero rule, taken on both sides
            ratioE = ratioR = exact(1);
        } else {
            ratioE = TrustBound.ratio(1, w, TrustBound.norm(ux, ue), 0);
            ratioR = TrustBound.ratio(1, w, TrustBound.norm(rux, rue), 0);
        }
        // engine: (float) (-lr * ratio) in double, then p = fma(u, factor, p) in float
        Traced factor = mul(exact(-lr), ratioE, DOUBLE).round(FLOAT);
        for (int i = 0; i < n; i++) {
            Traced pe = fma(u[i], factor, exact(p0[i]), FLOAT);
            Traced rp = add(exact(p0[i]), mul(exact(-lr), mul(ratioR, ru[i], DOUBLE), DOUBLE), DOUBLE).round(FLOAT);
            bp[i] = pe.err() + rp.err();
        }
        return new Bound(bm, bv, bp, ratioE.err() + ratioR.err());
    }

    private static boolean allZero(double[] x) {
        for (double d : x) {
            if (d != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * The first two steps of one tensor, worked by hand from optax's formula: lr 0.1, b1 0.9, b2 0.999, eps 1e-6,
     * weight decay 0.01; p = (3, 4, 0); gradients (1, -1, 0.5) then (0.5, 2, -1).
     * <pre>
     *   step 1: mu = 0.1 g, nu = 0.001 g^2; corrected by 0.1 and 0.001: mu_hat = g, nu_hat = g^2
     *           u = g / (|g| + 1e-6) + 0.01 p = (1.029999000001, -0.959999000001, 0.999998000004)
     *           ||p|| = 5, ||u|| = 1.7269892935, ratio = 2.8952119267
     *           p = p - 0.1 ratio u = (2.7017934611, 4.2779400554, -0.2895206136)
     *   step 2: mu = (0.14, 0.11, -0.055), nu = (0.001249, 0.004999, 0.00124975); bc1 = 0.19, bc2 = 0.001999
     *           u = (0.9591963941, 0.4088826961, -0.3689982702)
     *           ||p|| = 5.0679661808, ||u|| = 1.1060752710, ratio = 4.5819360706
     *           p = (2.2622958054, 4.0905926181, -0.1204479652)
     * </pre>
     * (Step 1's direction is u / ||u||, whatever eps: a step of length lr ||p||.)
     */
    @Example
    void firstTwoStepsByHand() {
        double[][] p = {{2.701793461068047, 4.277940055444866, -0.28952061363144865},
                {2.262295805364908, 4.09059261806254, -0.12044796523025819}};
        double[][] mu = {{0.1, -0.1, 0.05}, {0.14, 0.11, -0.055}};
        double[][] nu = {{0.001, 0.001, 0.00025}, {0.001249, 0.004999, 0.00124975}};
        double[] ratio = {2.8952119267267586, 4.581936070613815};
        float[][] grads = {{1, -1, 0.5f}, {0.5f, 2, -1}};
        for (boolean offHeap : new boolean[] {false, true}) {
            try (Rig rig = new Rig(0, 3, offHeap);
                 Lamb opt = Lamb.builder(rig.set).options(LambOptions.DEFAULTS.withWeightDecay(0.01)).build()) {
                rig.setParams(new float[] {3, 4, 0});
                for (int t = 0; t < 2; t++) {
                    rig.setGrads(grads[t]);
                    opt.step(0.1);
                    float[] pe = rig.params(), me = Rig.toArray(opt.state("w", "mu"));
                    float[] ve = Rig.toArray(opt.state("w", "nu"));
                    Check.near("step " + (t + 1) + " trust ratio", ratio[t], (float) opt.trustRatio("w"));
                    for (int i = 0; i < 3; i++) {
                        Check.near("step " + (t + 1) + " param " + i, p[t][i], pe[i]);
                        Check.near("step " + (t + 1) + " mu " + i, mu[t][i], me[i]);
                        Check.near("step " + (t + 1) + " nu " + i, nu[t][i], ve[i]);
                    }
                }
            }
        }
    }

    @Example
    void badOptionsAreRejectedNamingParameterAndValue() {
        LambOptions d = LambOptions.DEFAULTS;
        Check.rejects(IllegalArgumentException.class, () -> d.withBetas(1.0, 0.999), "b1", "[0, 1)", "1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withBetas(0.9, -0.5), "b2", "-0.5");
        Check.rejects(IllegalArgumentException.class, () -> d.withEps(-1), "eps", "-1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withEpsRoot(Double.NaN), "epsRoot", "NaN");
        Check.rejects(IllegalArgumentException.class, () -> d.withWeightDecay(Double.POSITIVE_INFINITY),
                "weightDecay", "Infinity");
        Check.rejects(IllegalArgumentException.class, () -> d.withMaxWeightNorm(0), "maxWeightNorm", "0.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withMaxWeightNorm(Double.NaN), "maxWeightNorm", "NaN");
        Check.rejects(IllegalArgumentException.class, () -> d.withLrScale(-1), "lrScale", "-1.0");
        try (Rig rig = new Rig(0, 8, false)) {
            Check.rejects(IllegalArgumentException.class, () -> Lamb.builder(rig.set).trackNorms(true).build(),
                    "trackNorms", "LAMB");
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Double> b1 = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.9, 0.0)),
                Tuple.of(2, Arbitraries.doubles().between(0, 0.999).ofScale(6)));
        Arbitrary<Double> b2 = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.999, 0.0)),
                Tuple.of(2, Arbitraries.doubles().between(0, 0.99999).ofScale(6)));
        Arbitrary<Double> eps = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(1e-6)),
                Tuple.of(1, logUniform(-10, -3)));
        Arbitrary<Double> epsRoot = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(0.0)),
                Tuple.of(1, logUniform(-16, -8)));
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.doubles().between(1e-4, 0.1).ofScale(6)));
        Arbitrary<Double> clamp = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(Double.POSITIVE_INFINITY)),
                Tuple.of(1, logUniform(-2, 2)));
        Arbitrary<Config> configs = Combinators.combine(b1, b2, eps, epsRoot, wd, clamp, gradScales(), maximize())
                .as(Config::new);
        return Combinators.combine(configs, layouts(), logUniform(-4, -1), Arbitraries.integers().between(-30, 10),
                Arbitraries.longs()).as(Case::new);
    }

    /**
     * One to four tensors of lengths around the vector width and up to 3000, back to back or with gaps; one case in
     * eight has a tensor longer than a chunk (its norm spans chunks), run for fewer steps.
     */
    static Arbitrary<Layout> layouts() {
        Arbitrary<Integer> edge = Arbitraries.of(0, 1, LANES - 1, LANES, LANES + 1, 1021);
        Arbitrary<Integer> any = Arbitraries.integers().between(0, 3000);
        Arbitrary<Integer> small = Arbitraries.frequencyOf(Tuple.of(1, edge), Tuple.of(1, any));
        Arbitrary<int[]> smallSets = small.list().ofMinSize(1).ofMaxSize(4)
                .map(list -> list.stream().mapToInt(Integer::intValue).toArray());
        Arbitrary<int[]> largeSets = Combinators.combine(small, Arbitraries.integers().between(ChunkGrid.CHUNK + 1,
                2 * ChunkGrid.CHUNK + 3 * LANES + 7), small).as((a, b, c) -> new int[] {a, b, c});
        Arbitrary<Layout> smallLayouts = Combinators.combine(smallSets, Arbitraries.of(false, true),
                Arbitraries.of(false, true), Arbitraries.integers().between(1, 3), Arbitraries.integers().between(1, 12))
                .as(Layout::new);
        Arbitrary<Layout> largeLayouts = Combinators.combine(largeSets, Arbitraries.of(false, true),
                Arbitraries.of(false, true), Arbitraries.integers().between(1, 3), Arbitraries.integers().between(1, 2))
                .as(Layout::new);
        return Arbitraries.frequencyOf(Tuple.of(7, smallLayouts), Tuple.of(1, largeLayouts));
    }
}
