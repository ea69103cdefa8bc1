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

import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import vecopt.optim.NAdam;
import vecopt.optim.NAdamOptions;
import vecopt.reference.NAdamReference;
import vecopt.verification.OptimizerVsReferenceProperties.Layout;

/**
 * NAdam (L2 and decoupled decay) against PyTorch's {@code _single_tensor_nadam} ({@link NAdamReference}), element
 * by element, each step from the engine's own state before it, within the bound {@link #bound} derives, and its
 * {@code mu_product} bit for bit; a hand-computed two-step example; options rejected with their name and value.
 */
class NAdamProperties {
    record Config(double beta1, double beta2, double eps, double weightDecay, double momentumDecay,
                  boolean decoupled, double gradScale, boolean maximize) {
        NAdamOptions options() {
            return new NAdamOptions(beta1, beta2, eps, weightDecay, momentumDecay, decoupled, 1.0, maximize);
        }

        double signedScale() {
            return maximize ? -(float) gradScale : (float) gradScale;
        }
    }

    record Case(Config config, Layout layout, double lr, int gradExp, long seed) {
    }

    @Property(tries = 60) // each try checks every element of every step: 60 keep this suite near 15 s
    void matchesReference(@ForAll("cases") Case k) {
        Config c = k.config();
        Layout l = k.layout();
        SplittableRandom rnd = new SplittableRandom(k.seed());
        try (Rig rig = new Rig(l.offset(), l.length(), l.offHeap());
             NAdam opt = NAdam.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            rig.setParams(Rig.values(rnd, l.length(), rnd.nextInt(-8, 3), 3));
            float muProduct = 1f;
            for (int t = 1; t <= l.steps(); t++) {
                rig.setGrads(Rig.grads(rnd, l.length(), k.gradExp()));
                float[] p = rig.params(), g = rig.grads();
                float[] m = Rig.toArray(opt.state("w", "exp_avg")), v = Rig.toArray(opt.state("w", "exp_avg_sq"));
                float[] p0 = p.clone(), m0 = m.clone(), v0 = v.clone();
                if (c.gradScale() != 1) {
                    opt.step(k.lr(), c.gradScale());
                } else {
                    opt.step(k.lr());
                }
                muProduct = NAdamReference.muProduct(muProduct, c.beta1(), c.momentumDecay(), t);
                if (Float.compare(muProduct, (float) opt.muProduct("default")) != 0) {
                    throw new AssertionError("mu_product at step " + t + ": engine " + opt.muProduct("default")
                            + ", reference " + muProduct);
                }
                NAdamReference.step(p, g, m, v, 0, l.length(), k.lr(), c.beta1(), c.beta2(), c.eps(),
                        c.weightDecay(), c.momentumDecay(), c.decoupled(), t, muProduct, c.gradScale(),
                        c.maximize());
                float[] pe = rig.params(), me = Rig.toArray(opt.state("w", "exp_avg"));
                float[] ve = Rig.toArray(opt.state("w", "exp_avg_sq"));
                for (int i = 0; i < l.length(); i++) {
                    double[] b = bound(c, k.lr(), t, muProduct, p0[i], g[i], m0[i], v0[i]);
                    String at = "step " + t + ", element " + i + " (p=" + p0[i] + ", g=" + g[i] + ", exp_avg=" + m0[i]
                            + ", exp_avg_sq=" + v0[i] + ")";
                    Check.within("exp_avg", at, me[i], m[i], b[0]);
                    Check.within("exp_avg_sq", at, ve[i], v[i], b[1]);
                    Check.within("param", at, pe[i], p[i], b[2]);
                }
                Check.guards(rig);
            }
        }
    }

    /**
     * The tolerances of exp_avg, exp_avg_sq and the parameter: the engine's float sequence ({@code NAdamStep})
     * traced, plus the reference's double sequence with its float stores (the parameter stored after each of its
     * in-place updates).
     */
    static double[] bound(Config c, double lr, long t, float muProduct, float p0, float g0, float m0, float v0) {
        double bc2 = 1 - Math.pow(c.beta2(), t);
        double mu = c.beta1() * (1. - 0.5 * Math.pow(0.96, t * c.momentumDecay()));
        double muNext = c.beta1() * (1. - 0.5 * Math.pow(0.96, (t + 1) * c.momentumDecay()));
        double c1 = -lr * (1 - mu) / (1 - muProduct), c2 = (-lr * muNext) / (1 - muProduct * muNext);
        boolean l2 = !c.decoupled() && c.weightDecay() != 0;
        double decay = c.decoupled() ? 1 - lr * c.weightDecay() : 1;

        Traced g = mul(exact(g0), exact(c.signedScale()), FLOAT);
        if (l2) {
            g = fma(exact(p0), floatConstant(c.weightDecay()), g, FLOAT);
        }
        Traced pd = mul(exact(p0), floatConstant(decay), FLOAT);
        Traced m = fma(exact(m0), floatConstant(c.beta1()), mul(g, floatConstant(1 - c.beta1()), FLOAT), FLOAT);
        Traced v = fma(exact(v0), floatConstant(c.beta2()),
                mul(mul(g, floatConstant(1 - c.beta2()), FLOAT), g, FLOAT), FLOAT);
        Traced d = add(sqrt(div(v, floatConstant(bc2), FLOAT), FLOAT), floatConstant(c.eps()), FLOAT);
        Traced p = fma(div(m, d, FLOAT), floatConstant(c2), fma(div(g, d, FLOAT), floatConstant(c1), pd, FLOAT),
                FLOAT);

        Traced rg = mul(exact(g0), exact(c.signedScale()), DOUBLE);
        if (l2) {
            rg = add(rg, mul(doubleConstant(c.weightDecay()), exact(p0), DOUBLE), DOUBLE);
        }
        Traced rparam = c.decoupled() && c.weightDecay() != 0
                ? mul(exact(p0), doubleConstant(decay), DOUBLE).round(FLOAT) : exact(p0);
        Traced rm = add(mul(doubleConstant(c.beta1()), exact(m0), DOUBLE),
                mul(doubleConstant(1 - c.beta1()), rg, DOUBLE), DOUBLE).round(FLOAT);
        Traced rv = add(mul(doubleConstant(c.beta2()), exact(v0), DOUBLE),
                mul(mul(doubleConstant(1 - c.beta2()), rg, DOUBLE), rg, DOUBLE), DOUBLE).round(FLOAT);
        Traced rd = add(sqrt(div(rv, doubleConstant(bc2), DOUBLE), DOUBLE), doubleConstant(c.eps()), DOUBLE);
        Traced rp1 = add(rparam, mul(doubleConstant(c1), div(rg, rd, DOUBLE), DOUBLE), DOUBLE).round(FLOAT);
        Traced rp = add(rp1, mul(doubleConstant(c2), div(rm, rd, DOUBLE), DOUBLE), DOUBLE).round(FLOAT);
        return new double[] {m.err() + rm.err(), v.err() + rv.err(), p.err() + rp.err()};
    }

    /**
     * The first two steps of a 3-element case, worked by hand from PyTorch's formula: lr 0.1, betas (0.9, 0.999),
     * eps 1e-8, momentum_decay 4e-3; p = (1, -2, 0.5); gradients (0.5, -1, 0) then (0.5, -0.25, 2).
     * <pre>
     *   step 1: mu_1 = 0.9 (1 - 0.5 * 0.96^0.004) = 0.450073474, mu_2 = 0.450146935, mu_product = mu_1 (in float:
     *           0.450073481); exp_avg = (0.05, -0.1, 0), exp_avg_sq = (0.00025, 0.001, 0), denom = |g| + eps
     *           p = p - 0.1 (1 - mu_1) / (1 - mu_product) sign(g) - 0.1 mu_2 / (1 - mu_product mu_2) exp_avg / denom
     *             = (0.894354823, -1.89435482, 0.5)
     *   step 2: mu_product = 0.202599198; exp_avg = (0.095, -0.115, 0.2), exp_avg_sq = (0.00049975, 0.0010615, 0.004)
     *           p = (0.815986389, -1.86287978, 0.395501954)
     * </pre>
     * (Computed in double from the formula, mu_product rounded to float as PyTorch's float32 tensor holds it.)
     */
    @Example
    void firstTwoStepsByHand() {
        double[][] p = {{0.894354823, -1.89435482, 0.5}, {0.815986389, -1.86287978, 0.395501954}};
        double[][] m = {{0.05, -0.1, 0}, {0.095, -0.115, 0.2}};
        double[][] v = {{0.00025, 0.001, 0}, {0.00049975, 0.0010615, 0.004}};
        double[] muProduct = {0.450073481, 0.202599198};
        float[][] grads = {{0.5f, -1, 0}, {0.5f, -0.25f, 2}};
        for (boolean offHeap : new boolean[] {false, true}) {
            try (Rig rig = new Rig(0, 3, offHeap); NAdam opt = NAdam.builder(rig.set).build()) {
                rig.setParams(new float[] {1, -2, 0.5f});
                Check.near("mu_product before any step", 1.0, (float) opt.muProduct("default"));
                for (int t = 0; t < 2; t++) {
                    rig.setGrads(grads[t]);
                    opt.step(0.1);
                    float[] pe = rig.params(), me = Rig.toArray(opt.state("w", "exp_avg"));
                    float[] ve = Rig.toArray(opt.state("w", "exp_avg_sq"));
                    Check.near("step " + (t + 1) + " mu_product", muProduct[t], (float) opt.muProduct("default"));
                    for (int i = 0; i < 3; i++) {
                        Check.near("step " + (t + 1) + " param " + i, p[t][i], pe[i]);
                        Check.near("step " + (t + 1) + " exp_avg " + i, m[t][i], me[i]);
                        Check.near("step " + (t + 1) + " exp_avg_sq " + i, v[t][i], ve[i]);
                    }
                }
            }
        }
    }

    @Example
    void badOptionsAreRejectedNamingParameterAndValue() {
        NAdamOptions d = NAdamOptions.DEFAULTS;
        Check.rejects(IllegalArgumentException.class, () -> d.withBetas(1.0, 0.999), "beta1", "[0, 1)", "1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withBetas(0.9, -1), "beta2", "-1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withEps(0), "eps", "0.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withWeightDecay(-0.1), "weightDecay", "-0.1");
        Check.rejects(IllegalArgumentException.class, () -> d.withMomentumDecay(Double.NaN), "momentumDecay", "NaN");
        Check.rejects(IllegalArgumentException.class, () -> d.withLrScale(-3), "lrScale", "-3.0");
        try (Rig rig = new Rig(0, 8, false)) {
            Check.rejects(IllegalArgumentException.class, () -> NAdam.builder(rig.set).trackNorms(true).build(),
                    "trackNorms", "NAdam");
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
        Arbitrary<Double> psi = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(4e-3, 0.0)),
                Tuple.of(1, logUniform(-4, 0)));
        Arbitrary<Config> configs = Combinators.combine(beta1, beta2, eps, wd, psi, Arbitraries.of(false, true),
                gradScales(), maximize()).as(Config::new);
        return Combinators.combine(configs, layouts(), logUniform(-5, -1), Arbitraries.integers().between(-60, 30),
                Arbitraries.longs()).as(Case::new);
    }
}
