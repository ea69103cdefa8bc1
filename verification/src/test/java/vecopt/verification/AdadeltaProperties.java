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
import static vecopt.verification.Traced.mul;
import static vecopt.verification.Traced.sqrt;
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
import vecopt.optim.Adadelta;
import vecopt.optim.AdadeltaOptions;
import vecopt.reference.AdadeltaReference;
import vecopt.verification.OptimizerVsReferenceProperties.Layout;

/**
 * Adadelta against PyTorch's {@code _single_tensor_adadelta} ({@link AdadeltaReference}), element by element, each
 * step from the engine's own state before it, within the bound {@link #bound} derives; a hand-computed two-step
 * example; options rejected with their name and value.
 */
class AdadeltaProperties {
    record Config(double rho, double eps, double weightDecay, double gradScale, boolean maximize) {
        AdadeltaOptions options() {
            return new AdadeltaOptions(rho, eps, weightDecay, 1.0, maximize);
        }

        double signedScale() {
            return maximize ? -(float) gradScale : (float) gradScale;
        }
    }

    record Case(Config config, Layout layout, double lr, int gradExp, long seed) {
    }

    @Property(tries = 80)
    void matchesReference(@ForAll("cases") Case k) {
        Config c = k.config();
        Layout l = k.layout();
        SplittableRandom rnd = new SplittableRandom(k.seed());
        try (Rig rig = new Rig(l.offset(), l.length(), l.offHeap());
             Adadelta opt = Adadelta.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            rig.setParams(Rig.values(rnd, l.length(), rnd.nextInt(-8, 3), 3));
            for (int t = 1; t <= l.steps(); t++) {
                rig.setGrads(Rig.grads(rnd, l.length(), k.gradExp()));
                float[] p = rig.params(), g = rig.grads();
                float[] sa = Rig.toArray(opt.state("w", "square_avg")), ad = Rig.toArray(opt.state("w", "acc_delta"));
                float[] p0 = p.clone(), sa0 = sa.clone(), ad0 = ad.clone();
                if (c.gradScale() != 1) {
                    opt.step(k.lr(), c.gradScale());
                } else {
                    opt.step(k.lr());
                }
                AdadeltaReference.step(p, g, sa, ad, 0, l.length(), k.lr(), c.rho(), c.eps(), c.weightDecay(),
                        c.gradScale(), c.maximize());
                float[] pe = rig.params(), sae = Rig.toArray(opt.state("w", "square_avg"));
                float[] ade = Rig.toArray(opt.state("w", "acc_delta"));
                for (int i = 0; i < l.length(); i++) {
                    double[] b = bound(c, k.lr(), p0[i], g[i], sa0[i], ad0[i]);
                    String at = "step " + t + ", element " + i + " (p=" + p0[i] + ", g=" + g[i] + ", square_avg="
                            + sa0[i] + ", acc_delta=" + ad0[i] + ")";
                    Check.within("square_avg", at, sae[i], sa[i], b[0]);
                    Check.within("acc_delta", at, ade[i], ad[i], b[1]);
                    Check.within("param", at, pe[i], p[i], b[2]);
                }
                Check.guards(rig);
            }
        }
    }

    /**
     * The tolerances of square_avg, acc_delta and the parameter: the engine's float sequence ({@code AdadeltaStep})
     * traced, plus the reference's double sequence with its float stores.
     */
    static double[] bound(Config c, double lr, float p0, float g0, float sa0, float ad0) {
        Traced g = mul(exact(g0), exact(c.signedScale()), FLOAT);
        if (c.weightDecay() != 0) {
            g = fma(exact(p0), floatConstant(c.weightDecay()), g, FLOAT);
        }
        Traced sa = fma(exact(sa0), floatConstant(c.rho()), mul(mul(g, floatConstant(1 - c.rho()), FLOAT), g, FLOAT),
                FLOAT);
        Traced d = mul(div(sqrt(add(exact(ad0), floatConstant(c.eps()), FLOAT), FLOAT),
                sqrt(add(sa, floatConstant(c.eps()), FLOAT), FLOAT), FLOAT), g, FLOAT);
        Traced ad = fma(exact(ad0), floatConstant(c.rho()), mul(mul(d, floatConstant(1 - c.rho()), FLOAT), d, FLOAT),
                FLOAT);
        Traced p = fma(d, floatConstant(-lr), exact(p0), FLOAT);

        Traced rg = mul(exact(g0), exact(c.signedScale()), DOUBLE);
        if (c.weightDecay() != 0) {
            rg = add(rg, mul(doubleConstant(c.weightDecay()), exact(p0), DOUBLE), DOUBLE);
        }
        Traced rsa = add(mul(doubleConstant(c.rho()), exact(sa0), DOUBLE),
                mul(mul(doubleConstant(1 - c.rho()), rg, DOUBLE), rg, DOUBLE), DOUBLE).round(FLOAT);
        Traced rd = mul(div(sqrt(add(exact(ad0), doubleConstant(c.eps()), DOUBLE), DOUBLE),
                sqrt(add(rsa, doubleConstant(c.eps()), DOUBLE), DOUBLE), DOUBLE), rg, DOUBLE);
        Traced rad = add(mul(doubleConstant(c.rho()), exact(ad0), DOUBLE),
                mul(mul(doubleConstant(1 - c.rho()), rd, DOUBLE), rd, DOUBLE), DOUBLE).round(FLOAT);
        Traced rp = sub(exact(p0), mul(doubleConstant(lr), rd, DOUBLE), DOUBLE).round(FLOAT);
        return new double[] {sa.err() + rsa.err(), ad.err() + rad.err(), p.err() + rp.err()};
    }

    /**
     * The first two steps of a 3-element case, worked by hand from PyTorch's formula: lr 1, rho 0.9, eps 1e-6;
     * p = (1, -2, 0.5); gradients (0.5, -1, 0) then (0.5, -0.25, 2).
     * <pre>
     *   step 1: square_avg = 0.1 g^2 = (0.025, 0.1, 0);  delta = sqrt(1e-6) / sqrt(square_avg + 1e-6) g
     *           acc_delta = 0.1 delta^2 = (9.99960002e-7, 9.9999e-7, 0)
     *           p = p - delta = (0.996837786, -1.99683774, 0.5)
     *   step 2: square_avg = (0.0475, 0.09625, 0.4);  acc_delta = (1.95255237e-6, 1.02985913e-6, 9.999975e-7)
     *           p = (0.993593424, -1.99569814, 0.496837726)
     * </pre>
     */
    @Example
    void firstTwoStepsByHand() {
        double[][] p = {{0.996837786, -1.99683774, 0.5}, {0.993593424, -1.99569814, 0.496837726}};
        double[][] sa = {{0.025, 0.1, 0}, {0.0475, 0.09625, 0.4}};
        double[][] ad = {{9.99960002e-7, 9.9999e-7, 0}, {1.95255237e-6, 1.02985913e-6, 9.999975e-7}};
        float[][] grads = {{0.5f, -1, 0}, {0.5f, -0.25f, 2}};
        for (boolean offHeap : new boolean[] {false, true}) {
            try (Rig rig = new Rig(0, 3, offHeap); Adadelta opt = Adadelta.builder(rig.set).build()) {
                rig.setParams(new float[] {1, -2, 0.5f});
                for (int t = 0; t < 2; t++) {
                    rig.setGrads(grads[t]);
                    opt.step(1.0);
                    float[] pe = rig.params(), sae = Rig.toArray(opt.state("w", "square_avg"));
                    float[] ade = Rig.toArray(opt.state("w", "acc_delta"));
                    for (int i = 0; i < 3; i++) {
                        Check.near("step " + (t + 1) + " param " + i, p[t][i], pe[i]);
                        Check.near("step " + (t + 1) + " square_avg " + i, sa[t][i], sae[i]);
                        Check.near("step " + (t + 1) + " acc_delta " + i, ad[t][i], ade[i]);
                    }
                }
            }
        }
    }

    @Example
    void badOptionsAreRejectedNamingParameterAndValue() {
        AdadeltaOptions d = AdadeltaOptions.DEFAULTS;
        Check.rejects(IllegalArgumentException.class, () -> d.withRho(1.5), "rho", "1.5");
        Check.rejects(IllegalArgumentException.class, () -> d.withEps(0), "eps", "0.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withWeightDecay(-1e-3), "weightDecay", "-0.001");
        Check.rejects(IllegalArgumentException.class, () -> d.withLrScale(Double.NaN), "lrScale", "NaN");
        try (Rig rig = new Rig(0, 8, false)) {
            Check.rejects(IllegalArgumentException.class, () -> Adadelta.builder(rig.set).trackNorms(true).build(),
                    "trackNorms", "Adadelta");
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Double> rho = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.9, 0.95, 0.0, 1.0)),
                Tuple.of(2, Arbitraries.doubles().between(0, 1).ofScale(6)));
        Arbitrary<Double> eps = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(1e-6)),
                Tuple.of(1, logUniform(-12, -2)));
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.doubles().between(1e-5, 0.1).ofScale(6)));
        Arbitrary<Config> configs = Combinators.combine(rho, eps, wd, gradScales(), maximize()).as(Config::new);
        return Combinators.combine(configs, layouts(), logUniform(-3, 0), Arbitraries.integers().between(-60, 30),
                Arbitraries.longs()).as(Case::new);
    }
}
