package vecopt.verification;

import static vecopt.verification.OptimizerVsReferenceProperties.gradScales;
import static vecopt.verification.OptimizerVsReferenceProperties.layouts;
import static vecopt.verification.OptimizerVsReferenceProperties.logUniform;
import static vecopt.verification.OptimizerVsReferenceProperties.maximize;
import static vecopt.verification.Traced.Precision.DOUBLE;
import static vecopt.verification.Traced.Precision.FLOAT;
import static vecopt.verification.Traced.add;
import static vecopt.verification.Traced.doubleConstant;
import static vecopt.verification.Traced.exact;
import static vecopt.verification.Traced.floatConstant;
import static vecopt.verification.Traced.fma;
import static vecopt.verification.Traced.mul;
import static vecopt.verification.Traced.sub;

import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import vecopt.optim.Lion;
import vecopt.optim.LionOptions;
import vecopt.reference.LionReference;
import vecopt.verification.OptimizerVsReferenceProperties.Layout;

/**
 * Lion against lion-pytorch's {@code update_fn} ({@link LionReference}), element by element, each step from the
 * engine's own state before it, within the bound {@link #bound} derives; that only the gradient's sign reaches the
 * parameters; a hand-computed two-step example; options rejected with their name and value.
 */
class LionProperties {
    record Config(double beta1, double beta2, double weightDecay, double gradScale, boolean maximize) {
        LionOptions options() {
            return new LionOptions(beta1, beta2, weightDecay, 1.0, maximize);
        }

        double signedScale() {
            return maximize ? -(float) gradScale : (float) gradScale;
        }
    }

    record Case(Config config, Layout layout, double lr, int gradExp, long seed) {
    }

    @Property(tries = 100)
    void matchesReference(@ForAll("cases") Case k) {
        Config c = k.config();
        Layout l = k.layout();
        SplittableRandom rnd = new SplittableRandom(k.seed());
        try (Rig rig = new Rig(l.offset(), l.length(), l.offHeap());
             Lion opt = Lion.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            rig.setParams(Rig.values(rnd, l.length(), rnd.nextInt(-8, 3), 3));
            for (int t = 1; t <= l.steps(); t++) {
                rig.setGrads(Rig.grads(rnd, l.length(), k.gradExp()));
                float[] p = rig.params(), g = rig.grads(), m = Rig.toArray(opt.state("w", "exp_avg"));
                float[] p0 = p.clone(), m0 = m.clone();
                if (c.gradScale() != 1) {
                    opt.step(k.lr(), c.gradScale());
                } else {
                    opt.step(k.lr());
                }
                LionReference.step(p, g, m, 0, l.length(), k.lr(), c.beta1(), c.beta2(), c.weightDecay(),
                        c.gradScale(), c.maximize());
                float[] pe = rig.params(), me = Rig.toArray(opt.state("w", "exp_avg"));
                for (int i = 0; i < l.length(); i++) {
                    double[] b = bound(c, k.lr(), p0[i], g[i], m0[i]);
                    String at = "step " + t + ", element " + i + " (p=" + p0[i] + ", g=" + g[i] + ", exp_avg=" + m0[i]
                            + ")";
                    Check.within("exp_avg", at, me[i], m[i], b[0]);
                    Check.within("param", at, pe[i], p[i], b[1]);
                }
                Check.guards(rig);
            }
        }
    }

    /**
     * The tolerances of exp_avg and of the parameter: the engine's float sequence ({@code LionStep}) traced, plus
     * the reference's double sequence with its float stores. The sign of {@code c = beta1 m + (1 - beta1) g} is
     * certain, and the same on both sides, when |c| exceeds both traces' errors (or c is exactly 0 with no error);
     * otherwise rounding alone may flip it, and the parameter's tolerance grows by 2 lr, the most a flipped sign
     * can move it. With random gradients that takes |c| within a few ULPs of 0, which happens rarely; everywhere
     * else the comparison is to a few ULPs.
     */
    static double[] bound(Config c, double lr, float p0, float g0, float m0) {
        double decay = 1 - lr * c.weightDecay();
        Traced g = mul(exact(g0), exact(c.signedScale()), FLOAT);
        Traced ce = fma(exact(m0), floatConstant(c.beta1()), mul(g, floatConstant(1 - c.beta1()), FLOAT), FLOAT);
        Traced m = fma(exact(m0), floatConstant(c.beta2()), mul(g, floatConstant(1 - c.beta2()), FLOAT), FLOAT);

        Traced rg = mul(exact(g0), exact(c.signedScale()), DOUBLE);
        Traced rc = add(mul(doubleConstant(c.beta1()), exact(m0), DOUBLE),
                mul(doubleConstant(1 - c.beta1()), rg, DOUBLE), DOUBLE);
        Traced rm = add(mul(doubleConstant(c.beta2()), exact(m0), DOUBLE),
                mul(doubleConstant(1 - c.beta2()), rg, DOUBLE), DOUBLE).round(FLOAT);

        boolean certain = (ce.x() == 0 && ce.err() == 0 && rc.err() == 0)
                || Math.abs(ce.x()) > Math.max(ce.err(), rc.err());
        Traced u = exact(Math.signum(ce.x()));
        Traced p = fma(u, floatConstant(-lr), mul(exact(p0), floatConstant(decay), FLOAT), FLOAT);
        Traced rp = sub(mul(exact(p0), doubleConstant(decay), DOUBLE).round(FLOAT),
                mul(doubleConstant(lr), u, DOUBLE), DOUBLE).round(FLOAT);
        return new double[] {m.err() + rm.err(), p.err() + rp.err() + (certain ? 0 : 2 * lr)};
    }

    /**
     * Only the sign reaches the parameter. From fresh state (exp_avg 0) without weight decay, whatever the gradients'
     * magnitudes (2^-64 to 2^34), the first step moves every parameter by exactly lr against its gradient's sign,
     * in float: {@code p - lr * sign(g)}, rounded once (0 for a zero gradient). Then, over 20 steps, gradients scaled
     * by a power of two 2^k give bitwise the same parameters and an exp_avg exactly 2^k times larger.
     */
    @Property(tries = 30)
    void onlyTheSignOfTheGradientReachesTheParameters(@ForAll @IntRange(min = 0, max = 1500) int n,
                                                     @ForAll @IntRange(min = -20, max = 20) int k,
                                                     @ForAll @IntRange(min = -60, max = 30) int gradExp,
                                                     @ForAll long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float lr = (float) 3e-4;
        try (Rig rig = new Rig(1, n, seed % 2 == 0); Lion opt = Lion.builder(rig.set).build()) {
            float[] p0 = Rig.values(rnd, n, -2, 3), g = Rig.values(rnd, n, gradExp, 4);
            rig.setParams(p0);
            rig.setGrads(g);
            opt.step(lr);
            float[] p1 = rig.params();
            for (int i = 0; i < n; i++) {
                float expected = p0[i] - lr * Math.signum(g[i]); // lr * sign is exact: one rounding, the subtraction
                if (Float.floatToRawIntBits(p1[i]) != Float.floatToRawIntBits(expected)) {
                    throw new AssertionError("element " + i + ": g=" + g[i] + ", p " + p0[i] + " -> " + p1[i]
                            + ", expected p - lr * sign(g) = " + expected);
                }
            }
        }
        long seed2 = rnd.nextLong();
        float[][] plain = scaledRun(n, seed2, 0), scaled = scaledRun(n, seed2, k);
        Check.bitwiseEqual("params with gradients x 2^" + k, plain[0], scaled[0]);
        for (int i = 0; i < n; i++) {
            if (Math.scalb(plain[1][i], k) != scaled[1][i]) {
                throw new AssertionError("exp_avg element " + i + ": " + plain[1][i] + " x 2^" + k + " != "
                        + scaled[1][i]);
            }
        }
    }

    /** 20 Lion steps (weight decay 0.1) with gradients around 2^-4 times 2^k; returns params and exp_avg. */
    private static float[][] scaledRun(int n, long seed, int k) {
        SplittableRandom rnd = new SplittableRandom(seed);
        try (Rig rig = new Rig(0, n, false);
             Lion opt = Lion.builder(rig.set).options(LionOptions.DEFAULTS.withWeightDecay(0.1)).build()) {
            rig.setParams(Rig.values(rnd, n, -2, 3));
            for (int t = 0; t < 20; t++) {
                float[] g = Rig.values(rnd, n, -4, 4);
                for (int i = 0; i < n; i++) {
                    g[i] = Math.scalb(g[i], k);
                }
                rig.setGrads(g);
                opt.step(1e-3);
            }
            return new float[][] {rig.params(), Rig.toArray(opt.state("w", "exp_avg"))};
        }
    }

    /**
     * The first two steps of a 3-element case, worked by hand from lion-pytorch's update: lr 0.1, betas (0.9, 0.99),
     * weight decay 0.1 (decay factor 1 - 0.1 * 0.1 = 0.99); p = (1, -2, 0.5); gradients (0.5, -1, 0) then
     * (-0.01, 0.5, 2).
     * <pre>
     *   step 1: c = 0.9 * 0 + 0.1 g = (0.05, -0.1, 0), sign (1, -1, 0)
     *           p = 0.99 p - 0.1 sign = (0.89, -1.88, 0.495);   exp_avg = 0.01 g = (0.005, -0.01, 0)
     *   step 2: c = 0.9 exp_avg + 0.1 g = (0.0035, 0.041, 0.2), sign (1, 1, 1): the momentum outvotes the
     *           first gradient's new sign
     *           p = 0.99 p - 0.1 = (0.7811, -1.9612, 0.39005);   exp_avg = 0.99 exp_avg + 0.01 g = (0.00485, -0.0049, 0.02)
     * </pre>
     */
    @Example
    void firstTwoStepsByHand() {
        double[][] p = {{0.89, -1.88, 0.495}, {0.7811, -1.9612, 0.39005}};
        double[][] m = {{0.005, -0.01, 0}, {0.00485, -0.0049, 0.02}};
        float[][] grads = {{0.5f, -1, 0}, {-0.01f, 0.5f, 2}};
        for (boolean offHeap : new boolean[] {false, true}) {
            try (Rig rig = new Rig(0, 3, offHeap);
                 Lion opt = Lion.builder(rig.set).options(LionOptions.DEFAULTS.withWeightDecay(0.1)).build()) {
                rig.setParams(new float[] {1, -2, 0.5f});
                for (int t = 0; t < 2; t++) {
                    rig.setGrads(grads[t]);
                    opt.step(0.1);
                    float[] pe = rig.params(), me = Rig.toArray(opt.state("w", "exp_avg"));
                    for (int i = 0; i < 3; i++) {
                        Check.near("step " + (t + 1) + " param " + i, p[t][i], pe[i]);
                        Check.near("step " + (t + 1) + " exp_avg " + i, m[t][i], me[i]);
                    }
                }
            }
        }
    }

    @Example
    void badOptionsAreRejectedNamingParameterAndValue() {
        LionOptions d = LionOptions.DEFAULTS;
        Check.rejects(IllegalArgumentException.class, () -> d.withBetas(1.5, 0.99), "beta1", "[0.0, 1.0]", "1.5");
        Check.rejects(IllegalArgumentException.class, () -> d.withBetas(0.9, -0.01), "beta2", "-0.01");
        Check.rejects(IllegalArgumentException.class, () -> d.withWeightDecay(-1), "weightDecay", "-1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withLrScale(Double.NaN), "lrScale", "NaN");
        try (Rig rig = new Rig(0, 8, false)) {
            Check.rejects(IllegalArgumentException.class, () -> Lion.builder(rig.set).trackNorms(true).build(),
                    "trackNorms", "Lion");
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Double> beta1 = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.9, 0.95, 0.0, 1.0)),
                Tuple.of(2, Arbitraries.doubles().between(0, 1).ofScale(6)));
        Arbitrary<Double> beta2 = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.99, 0.98, 0.0, 1.0)),
                Tuple.of(2, Arbitraries.doubles().between(0, 1).ofScale(6)));
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(2, Arbitraries.doubles().between(1e-3, 3).ofScale(6)));
        Arbitrary<Config> configs = Combinators.combine(beta1, beta2, wd, gradScales(), maximize()).as(Config::new);
        return Combinators.combine(configs, layouts(), logUniform(-6, -2), Arbitraries.integers().between(-60, 30),
                Arbitraries.longs()).as(Case::new);
    }
}
