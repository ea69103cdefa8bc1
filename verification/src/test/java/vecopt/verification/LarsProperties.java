package vecopt.verification;

import static vecopt.verification.OptimizerVsReferenceProperties.gradScales;
import static vecopt.verification.OptimizerVsReferenceProperties.logUniform;
import static vecopt.verification.OptimizerVsReferenceProperties.maximize;
import static vecopt.verification.Traced.Precision.DOUBLE;
import static vecopt.verification.Traced.Precision.FLOAT;
import static vecopt.verification.Traced.add;
import static vecopt.verification.Traced.exact;
import static vecopt.verification.Traced.floatConstant;
import static vecopt.verification.Traced.fma;
import static vecopt.verification.Traced.mul;

import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import vecopt.memory.Storage;
import vecopt.optim.Lars;
import vecopt.optim.LarsOptions;
import vecopt.param.ParamSet;
import vecopt.reference.LarsReference;
import vecopt.verification.LambProperties.Layout;

/**
 * LARS against optax's {@code lars} ({@link LarsReference}) on sets of several tensors (see
 * {@link LambProperties#layouts}): every element's trace and parameter, and every tensor's trust ratio, each step
 * from the engine's own state before it, within the bounds {@link #bound} derives; a hand-computed two-step
 * example; a group left out of the adaptation (optax's {@code trust_ratio_mask}); options rejected by name.
 */
class LarsProperties {
    record Config(double weightDecay, double trustCoefficient, double eps, boolean trustRatio, double momentum,
                  boolean nesterov, double gradScale, boolean maximize) {
        LarsOptions options() {
            return new LarsOptions(weightDecay, trustCoefficient, eps, trustRatio, momentum, nesterov, 1.0, maximize);
        }

        double signedScale() {
            return maximize ? -(float) gradScale : (float) gradScale;
        }
    }

    record Case(Config config, Layout layout, double lr, int gradExp, long seed) {
    }

    @Property(tries = 50)
    void matchesReference(@ForAll("cases") Case k) {
        Config c = k.config();
        Layout l = k.layout();
        SplittableRandom rnd = new SplittableRandom(k.seed());
        try (TensorsRig rig = new TensorsRig(l.lengths(), l.gaps(), l.offHeap());
             Lars opt = Lars.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            rig.randomize(rnd, rnd.nextInt(-8, 3), k.gradExp());
            for (int t = 1; t <= l.steps(); t++) {
                int n = rig.count();
                float[][] p0 = new float[n][], g = new float[n][], t0 = new float[n][];
                for (int i = 0; i < n; i++) {
                    rig.setGrads(i, Rig.grads(rnd, l.lengths()[i], k.gradExp()));
                    p0[i] = rig.params(i);
                    g[i] = rig.grads(i);
                    t0[i] = Rig.toArray(opt.state("t" + i, "trace"));
                }
                if (c.gradScale() != 1) {
                    opt.step(k.lr(), c.gradScale());
                } else {
                    opt.step(k.lr());
                }
                for (int i = 0; i < n; i++) {
                    check(c, k.lr(), "tensor t" + i + " step " + t, p0[i], g[i], t0[i], rig.params(i),
                            Rig.toArray(opt.state("t" + i, "trace")), opt.trustRatio("t" + i));
                }
                if (!rig.guardsIntact()) {
                    throw new AssertionError("an element outside the tensors was written");
                }
            }
        }
    }

    private static void check(Config c, double lr, String where, float[] p0, float[] g, float[] t0, float[] pe,
                              float[] te, double ratioEngine) {
        int n = p0.length;
        if (n == 0) {
            return;
        }
        float[] p = p0.clone(), tr = t0.clone();
        double ratio = LarsReference.step(p, g, tr, 0, n, lr, c.weightDecay(), c.trustCoefficient(), c.eps(),
                c.trustRatio(), c.momentum(), c.nesterov(), c.gradScale(), c.maximize());
        LambProperties.Bound b = bound(c, lr, p0, g, t0, ratio);
        if (!(Math.abs(ratioEngine - ratio) <= b.ratio())) {
            throw new AssertionError("trust ratio of " + where + ": engine " + ratioEngine + ", reference " + ratio
                    + " > derived bound " + b.ratio());
        }
        for (int i = 0; i < n; i++) {
            String at = where + ", element " + i + " (p=" + p0[i] + ", g=" + g[i] + ", trace=" + t0[i] + ")";
            Check.within("trace", at, te[i], tr[i], b.m()[i]);
            Check.within("param", at, pe[i], p[i], b.p()[i]);
        }
    }

    /**
     * The tolerances of the trace (in {@code m}) and the parameter: the engine's float sequence ({@code LarsStep}:
     * u, its product with {@code (float) (-lr * ratio)}, the trace, the parameter) traced, plus the reference's
     * double sequence with its float stores; the ratio's bound from the traced norms ({@link TrustBound}).
     */
    static LambProperties.Bound bound(Config c, double lr, float[] p0, float[] g0, float[] t0, double refRatio) {
        int n = p0.length;
        Traced[] u = new Traced[n], ru = new Traced[n];
        double[] ux = new double[n], ue = new double[n], rux = new double[n], rue = new double[n], px = new double[n];
        for (int i = 0; i < n; i++) {
            u[i] = fma(exact(p0[i]), floatConstant(c.weightDecay()), mul(exact(g0[i]), exact(c.signedScale()), FLOAT),
                    FLOAT);
            ru[i] = add(mul(exact(g0[i]), exact(c.signedScale()), DOUBLE), mul(exact(c.weightDecay()), exact(p0[i]),
                    DOUBLE), DOUBLE);
            ux[i] = u[i].x();
            ue[i] = u[i].err();
            rux[i] = ru[i].x();
            rue[i] = ru[i].err();
            px[i] = p0[i];
        }
        Traced ratioE = exact(1), ratioR = exact(1);
        Traced w = TrustBound.norm(px, new double[n]);
        boolean zeroRule = refRatio == 1 && (w.x() == 0 || allZero(rux));
        if (c.trustRatio() && !zeroRule) {
            ratioE = TrustBound.ratio(c.trustCoefficient(), w, TrustBound.norm(ux, ue), c.eps());
            ratioR = TrustBound.ratio(c.trustCoefficient(), w, TrustBound.norm(rux, rue), c.eps());
        }
        Traced factor = mul(exact(-lr), ratioE, DOUBLE).round(FLOAT);
        double[] bt = new double[n], bp = new double[n];
        for (int i = 0; i < n; i++) {
            Traced x = mul(u[i], factor, FLOAT);
            Traced tr = fma(exact(t0[i]), floatConstant(c.momentum()), x, FLOAT);
            Traced pe = add(exact(p0[i]), c.nesterov() ? fma(tr, floatConstant(c.momentum()), x, FLOAT) : tr, FLOAT);
            Traced rx = mul(exact(-lr), mul(ratioR, ru[i], DOUBLE), DOUBLE);
            Traced rt = add(rx, mul(exact(c.momentum()), exact(t0[i]), DOUBLE), DOUBLE).round(FLOAT);
            Traced rp = add(exact(p0[i]), c.nesterov() ? add(rx, mul(exact(c.momentum()), rt, DOUBLE), DOUBLE) : rt,
                    DOUBLE).round(FLOAT);
            bt[i] = tr.err() + rt.err();
            bp[i] = pe.err() + rp.err();
        }
        return new LambProperties.Bound(bt, null, bp, ratioE.err() + ratioR.err());
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
     * The first two steps of one tensor, worked by hand from optax's formula: lr 0.1, weight decay 0.01, trust
     * coefficient 0.001, eps 0, momentum 0.9; p = (3, 4, 0); gradients (1, -1, 0.5) then (0.5, 2, -1).
     * <pre>
     *   step 1: u = g + 0.01 p = (1.03, -0.96, 0.5); ||p|| = 5, ||u|| = 1.4941552797, ratio = 0.001 * 5 / ||u||
     *           = 0.0033463724; x = -0.1 ratio u = (-3.4467636e-4, 3.2125175e-4, -1.6731862e-4) = trace
     *           p = p + trace = (2.9996553236, 4.0003212518, -1.6731862e-4)
     *   step 2: u = (0.5299966, 2.0400032, -1.0000017); ||p|| = 5.0000502203, ||u|| = 2.3329193728,
     *           ratio = 0.0021432589; x = (-1.1359198e-4, -4.3722551e-4, 2.1432625e-4)
     *           trace = x + 0.9 trace = (-4.2380071e-4, -1.4809893e-4, 6.3739491e-5)
     *           p = (2.9992315229, 4.0001731528, -1.0357913e-4)
     * </pre>
     */
    @Example
    void firstTwoStepsByHand() {
        double[][] p = {{2.9996553236420738, 4.000321251751077, -0.00016731862035256366},
                {2.9992315229367064, 4.000173152821903, -0.00010357912956391257}};
        double[][] tr = {{-0.00034467635792628115, 0.0003212517510769222, -0.00016731862035256366},
                {-0.0004238007053673623, -0.0001480989291740703, 6.373949078865109e-05}};
        double[] ratio = {0.003346372407051273, 0.0021432589049883532};
        float[][] grads = {{1, -1, 0.5f}, {0.5f, 2, -1}};
        for (boolean offHeap : new boolean[] {false, true}) {
            try (Rig rig = new Rig(0, 3, offHeap);
                 Lars opt = Lars.builder(rig.set).options(LarsOptions.DEFAULTS.withWeightDecay(0.01)).build()) {
                rig.setParams(new float[] {3, 4, 0});
                for (int t = 0; t < 2; t++) {
                    rig.setGrads(grads[t]);
                    opt.step(0.1);
                    float[] pe = rig.params(), te = Rig.toArray(opt.state("w", "trace"));
                    Check.near("step " + (t + 1) + " trust ratio", ratio[t], (float) opt.trustRatio("w"));
                    for (int i = 0; i < 3; i++) {
                        Check.near("step " + (t + 1) + " param " + i, p[t][i], pe[i]);
                        Check.near("step " + (t + 1) + " trace " + i, tr[t][i], te[i]);
                    }
                }
            }
        }
    }

    /**
     * Biases in a group with {@code trustRatio} false and no decay (optax's two masks): their ratio is exactly 1 and
     * their update is bitwise the same optimizer's on a set of the bias alone, where the weight's norms cannot reach
     * it; the weight's ratio is the reference's.
     */
    @Example
    void aGroupLeftOutOfTheAdaptation() {
        LarsOptions o = LarsOptions.DEFAULTS.withWeightDecay(1e-3);
        LarsOptions bias = o.withWeightDecay(0).withTrustRatio(false);
        SplittableRandom r = new SplittableRandom(5);
        float[] w = Rig.values(r, 300, 0, 2), gw = Rig.values(r, 300, -4, 2);
        float[] b = Rig.values(r, 20, -2, 2), gb = Rig.values(r, 20, -4, 2);
        Storage p = Storage.of(new float[320]), g = Storage.of(new float[320]);
        p.copyFrom(w, 0);
        p.copyFrom(b, 300);
        g.copyFrom(gw, 0);
        g.copyFrom(gb, 300);
        ParamSet set = ParamSet.builder().add("fc.weight", p, g, 0, 300).add("fc.bias", p, g, 300, 20).build();
        Storage pb = Storage.of(b.clone()), gbs = Storage.of(gb.clone());
        ParamSet alone = ParamSet.builder().add("fc.bias", pb, gbs, 0, 20).build();
        try (Lars opt = Lars.builder(set).options(o).group("no_adapt", bias, t -> t.name().endsWith(".bias"))
                .threads(2).build();
             Lars ref = Lars.builder(alone).options(bias).threads(1).build()) {
            float[] wr = w.clone(), tr = new float[300];
            for (int step = 0; step < 3; step++) {
                opt.step(0.5);
                ref.step(0.5);
                double ratio = LarsReference.step(wr, gw, tr, 0, 300, 0.5, 1e-3, 0.001, 0, true, 0.9, false, 1, false);
                if (opt.trustRatio("fc.bias") != 1.0 || Double.isNaN(opt.trustRatio("fc.weight"))) {
                    throw new AssertionError("bias ratio " + opt.trustRatio("fc.bias") + ", weight ratio "
                            + opt.trustRatio("fc.weight"));
                }
                // u = fma(p, wd, g) is one float rounding per element (2^-24 relative), so its norm is within 2^-24
                // relative of the reference's; the two 300-term double sums add below 2^-44: 2^-22 covers both
                if (!(Math.abs(opt.trustRatio("fc.weight") - ratio) <= 0x1p-22 * ratio)) {
                    throw new AssertionError("weight ratio " + opt.trustRatio("fc.weight") + ", reference " + ratio);
                }
                Check.bitwiseEqual("bias after step " + (step + 1), pb.toArray(0, 20), p.toArray(300, 20));
            }
        }
    }

    @Example
    void badOptionsAreRejectedNamingParameterAndValue() {
        LarsOptions d = LarsOptions.DEFAULTS;
        Check.rejects(IllegalArgumentException.class, () -> d.withWeightDecay(-1), "weightDecay", "-1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withTrustCoefficient(0), "trustCoefficient", "0.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withEps(Double.NaN), "eps", "NaN");
        Check.rejects(IllegalArgumentException.class, () -> d.withMomentum(1.5), "momentum", "1.5");
        Check.rejects(IllegalArgumentException.class, () -> d.withLrScale(Double.POSITIVE_INFINITY), "lrScale",
                "Infinity");
        try (Rig rig = new Rig(0, 8, false)) {
            Check.rejects(IllegalArgumentException.class, () -> Lars.builder(rig.set).trackNorms(true).build(),
                    "trackNorms", "LARS");
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(2, Arbitraries.doubles().between(1e-5, 0.1).ofScale(6)));
        Arbitrary<Double> tc = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.001)),
                Tuple.of(1, logUniform(-4, 0)));
        Arbitrary<Double> eps = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(0.0)),
                Tuple.of(1, logUniform(-10, -3)));
        Arbitrary<Boolean> trust = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(true)),
                Tuple.of(1, Arbitraries.just(false)));
        Arbitrary<Double> momentum = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.9, 0.0)),
                Tuple.of(1, Arbitraries.doubles().between(0, 1).ofScale(4)));
        Arbitrary<Config> configs = Combinators.combine(wd, tc, eps, trust, momentum, Arbitraries.of(false, true),
                gradScales(), maximize()).as(Config::new);
        return Combinators.combine(configs, LambProperties.layouts(), logUniform(-3, 0),
                Arbitraries.integers().between(-30, 10), Arbitraries.longs()).as(Case::new);
    }
}
