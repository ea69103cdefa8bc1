package vecopt.verification;

import static vecopt.verification.OptimizerVsReferenceProperties.gradScales;
import static vecopt.verification.OptimizerVsReferenceProperties.layouts;
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
import static vecopt.verification.Traced.max;
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
import vecopt.optim.Adamax;
import vecopt.optim.AdamaxOptions;
import vecopt.reference.AdamaxReference;
import vecopt.verification.OptimizerVsReferenceProperties.Layout;

/**
 * Adamax against PyTorch's {@code _single_tensor_adamax} ({@link AdamaxReference}), element by element, each step
 * from the engine's own state before it, within the bound {@link #bound} derives; a hand-computed two-step example;
 * options rejected with their name and value.
 */
class AdamaxProperties {
    record Config(double beta1, double beta2, double eps, double weightDecay, double gradScale, boolean maximize) {
        AdamaxOptions options() {
            return new AdamaxOptions(beta1, beta2, eps, weightDecay, 1.0, maximize);
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
             Adamax opt = Adamax.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            rig.setParams(Rig.values(rnd, l.length(), rnd.nextInt(-8, 3), 3));
            for (int t = 1; t <= l.steps(); t++) {
                rig.setGrads(Rig.grads(rnd, l.length(), k.gradExp()));
                float[] p = rig.params(), g = rig.grads();
                float[] m = Rig.toArray(opt.state("w", "exp_avg")), u = Rig.toArray(opt.state("w", "exp_inf"));
                float[] p0 = p.clone(), m0 = m.clone(), u0 = u.clone();
                if (c.gradScale() != 1) {
                    opt.step(k.lr(), c.gradScale());
                } else {
                    opt.step(k.lr());
                }
                AdamaxReference.step(p, g, m, u, 0, l.length(), k.lr(), c.beta1(), c.beta2(), c.eps(),
                        c.weightDecay(), t, c.gradScale(), c.maximize());
                float[] pe = rig.params(), me = Rig.toArray(opt.state("w", "exp_avg"));
                float[] ue = Rig.toArray(opt.state("w", "exp_inf"));
                for (int i = 0; i < l.length(); i++) {
                    double[] b = bound(c, k.lr(), t, p0[i], g[i], m0[i], u0[i]);
                    String at = "step " + t + ", element " + i + " (p=" + p0[i] + ", g=" + g[i] + ", exp_avg=" + m0[i]
                            + ", exp_inf=" + u0[i] + ")";
                    Check.within("exp_avg", at, me[i], m[i], b[0]);
                    Check.within("exp_inf", at, ue[i], u[i], b[1]);
                    Check.within("param", at, pe[i], p[i], b[2]);
                }
                Check.guards(rig);
            }
        }
    }

    /**
     * The tolerances of exp_avg, exp_inf and the parameter: the engine's float sequence ({@code AdamaxStep})
     * traced, plus the reference's double sequence with its float stores.
     */
    static double[] bound(Config c, double lr, long t, float p0, float g0, float m0, float u0) {
        double clr = lr / (1 - Math.pow(c.beta1(), t));
        Traced g = mul(exact(g0), exact(c.signedScale()), FLOAT);
        if (c.weightDecay() != 0) {
            g = fma(exact(p0), floatConstant(c.weightDecay()), g, FLOAT);
        }
        Traced m = fma(exact(m0), floatConstant(c.beta1()), mul(g, floatConstant(1 - c.beta1()), FLOAT), FLOAT);
        Traced u = max(mul(exact(u0), floatConstant(c.beta2()), FLOAT),
                add(new Traced(Math.abs(g.x()), g.err()), floatConstant(c.eps()), FLOAT));
        Traced p = fma(div(m, u, FLOAT), floatConstant(-clr), exact(p0), FLOAT);

        Traced rg = mul(exact(g0), exact(c.signedScale()), DOUBLE);
        if (c.weightDecay() != 0) {
            rg = add(rg, mul(doubleConstant(c.weightDecay()), exact(p0), DOUBLE), DOUBLE);
        }
        Traced rm = add(mul(doubleConstant(c.beta1()), exact(m0), DOUBLE),
                mul(doubleConstant(1 - c.beta1()), rg, DOUBLE), DOUBLE).round(FLOAT);
        Traced ru = max(mul(doubleConstant(c.beta2()), exact(u0), DOUBLE),
                add(new Traced(Math.abs(rg.x()), rg.err()), doubleConstant(c.eps()), DOUBLE)).round(FLOAT);
        Traced rp = sub(exact(p0), div(mul(doubleConstant(clr), rm, DOUBLE), ru, DOUBLE), DOUBLE).round(FLOAT);
        return new double[] {m.err() + rm.err(), u.err() + ru.err(), p.err() + rp.err()};
    }

    /**
     * The first two steps of a 3-element case, worked by hand from PyTorch's formula: lr 0.1, betas (0.9, 0.999),
     * eps 1e-8; p = (1, -2, 0.5); gradients (0.5, -1, 0) then (0.5, -0.25, 2).
     * <pre>
     *   step 1: clr = 0.1 / (1 - 0.9) = 1;  exp_avg = 0.1 g = (0.05, -0.1, 0);  exp_inf = |g| + eps
     *           p = p - exp_avg / exp_inf = (0.900000002, -1.9, 0.5)
     *   step 2: clr = 0.1 / (1 - 0.81) = 0.526315789;  exp_avg = 0.9 exp_avg + 0.1 g = (0.095, -0.115, 0.2)
     *           exp_inf = max(0.999 exp_inf, |g| + eps) = (0.50000001, 0.99900001, 2.00000001)  (the middle one
     *           the decayed maximum, not |g|)
     *           p = (0.800000004, -1.8394131, 0.447368421)
     * </pre>
     */
    @Example
    void firstTwoStepsByHand() {
        double[][] p = {{0.900000002, -1.9, 0.5}, {0.800000004, -1.8394131, 0.447368421}};
        double[][] m = {{0.05, -0.1, 0}, {0.095, -0.115, 0.2}};
        double[][] u = {{0.50000001, 1.00000001, 1e-8}, {0.50000001, 0.99900001, 2.00000001}};
        float[][] grads = {{0.5f, -1, 0}, {0.5f, -0.25f, 2}};
        for (boolean offHeap : new boolean[] {false, true}) {
            try (Rig rig = new Rig(0, 3, offHeap); Adamax opt = Adamax.builder(rig.set).build()) {
                rig.setParams(new float[] {1, -2, 0.5f});
                for (int t = 0; t < 2; t++) {
                    rig.setGrads(grads[t]);
                    opt.step(0.1);
                    float[] pe = rig.params(), me = Rig.toArray(opt.state("w", "exp_avg"));
                    float[] ue = Rig.toArray(opt.state("w", "exp_inf"));
                    for (int i = 0; i < 3; i++) {
                        Check.near("step " + (t + 1) + " param " + i, p[t][i], pe[i]);
                        Check.near("step " + (t + 1) + " exp_avg " + i, m[t][i], me[i]);
                        Check.near("step " + (t + 1) + " exp_inf " + i, u[t][i], ue[i]);
                    }
                }
            }
        }
    }

    @Example
    void badOptionsAreRejectedNamingParameterAndValue() {
        AdamaxOptions d = AdamaxOptions.DEFAULTS;
        Check.rejects(IllegalArgumentException.class, () -> d.withBetas(1.0, 0.999), "beta1", "[0, 1)", "1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withBetas(0.9, 2), "beta2", "2.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withEps(-1), "eps", "-1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withWeightDecay(Double.NaN), "weightDecay", "NaN");
        Check.rejects(IllegalArgumentException.class, () -> d.withLrScale(-1), "lrScale", "-1.0");
        try (Rig rig = new Rig(0, 8, false)) {
            Check.rejects(IllegalArgumentException.class, () -> Adamax.builder(rig.set).trackNorms(true).build(),
                    "trackNorms", "Adamax");
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Double> beta1 = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.9, 0.0)),
                Tuple.of(2, Arbitraries.doubles().between(0, 0.999).ofScale(6)));
        Arbitrary<Double> beta2 = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.999, 0.0)),
                Tuple.of(2, Arbitraries.doubles().between(0, 0.99999).ofScale(6)));
        Arbitrary<Double> eps = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(1e-8)),
                Tuple.of(1, logUniform(-12, -3)));
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.doubles().between(1e-5, 0.1).ofScale(6)));
        Arbitrary<Config> configs = Combinators.combine(beta1, beta2, eps, wd, gradScales(), maximize())
                .as(Config::new);
        return Combinators.combine(configs, layouts(), logUniform(-5, -1), Arbitraries.integers().between(-60, 30),
                Arbitraries.longs()).as(Case::new);
    }
}
