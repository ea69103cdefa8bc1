package vecopt.verification;

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
import static vecopt.verification.OptimizerVsReferenceProperties.gradScales;
import static vecopt.verification.OptimizerVsReferenceProperties.layouts;
import static vecopt.verification.OptimizerVsReferenceProperties.logUniform;
import static vecopt.verification.OptimizerVsReferenceProperties.maximize;

import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import vecopt.optim.Adagrad;
import vecopt.optim.AdagradOptions;
import vecopt.reference.AdagradReference;
import vecopt.verification.OptimizerVsReferenceProperties.Layout;

/**
 * Adagrad against PyTorch's {@code _single_tensor_adagrad} ({@link AdagradReference}), element by element, each step
 * from the engine's own state before it, within the bound {@link #bound} derives; a hand-computed two-step example;
 * options rejected with their name and value.
 */
class AdagradProperties {
    record Config(double lrDecay, double weightDecay, double initialAccumulatorValue, double eps, double gradScale,
                  boolean maximize) {
        AdagradOptions options() {
            return new AdagradOptions(lrDecay, weightDecay, initialAccumulatorValue, eps, 1.0, maximize);
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
             Adagrad opt = Adagrad.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            rig.setParams(Rig.values(rnd, l.length(), rnd.nextInt(-8, 3), 3));
            for (int t = 1; t <= l.steps(); t++) {
                rig.setGrads(Rig.grads(rnd, l.length(), k.gradExp()));
                float[] p = rig.params(), g = rig.grads(), s = Rig.toArray(opt.state("w", "sum"));
                float[] p0 = p.clone(), s0 = s.clone();
                if (c.gradScale() != 1) {
                    opt.step(k.lr(), c.gradScale());
                } else {
                    opt.step(k.lr());
                }
                AdagradReference.step(p, g, s, 0, l.length(), k.lr(), c.lrDecay(), c.weightDecay(), c.eps(), t,
                        c.gradScale(), c.maximize());
                float[] pe = rig.params(), se = Rig.toArray(opt.state("w", "sum"));
                for (int i = 0; i < l.length(); i++) {
                    double[] b = bound(c, k.lr(), t, p0[i], g[i], s0[i]);
                    String at = "step " + t + ", element " + i + " (p=" + p0[i] + ", g=" + g[i] + ", sum=" + s0[i]
                            + ")";
                    Check.within("sum", at, se[i], s[i], b[0]);
                    Check.within("param", at, pe[i], p[i], b[1]);
                }
                Check.guards(rig);
            }
        }
    }

    /**
     * The tolerance of {@code sum} and of the parameter: the engine's float sequence ({@code AdagradStep}) traced,
     * plus the reference's double sequence with its two float stores.
     */
    static double[] bound(Config c, double lr, long t, float p0, float g0, float s0) {
        double clr = lr / (1 + (t - 1) * c.lrDecay());
        Traced g = mul(exact(g0), exact(c.signedScale()), FLOAT);
        if (c.weightDecay() != 0) {
            g = fma(exact(p0), floatConstant(c.weightDecay()), g, FLOAT);
        }
        Traced s = fma(g, g, exact(s0), FLOAT);
        Traced std = add(sqrt(s, FLOAT), floatConstant(c.eps()), FLOAT);
        Traced p = fma(div(g, std, FLOAT), floatConstant(-clr), exact(p0), FLOAT);

        Traced rg = mul(exact(g0), exact(c.signedScale()), DOUBLE);
        if (c.weightDecay() != 0) {
            rg = add(rg, mul(doubleConstant(c.weightDecay()), exact(p0), DOUBLE), DOUBLE);
        }
        Traced rs = add(exact(s0), mul(rg, rg, DOUBLE), DOUBLE).round(FLOAT);
        Traced rstd = add(sqrt(rs, DOUBLE), doubleConstant(c.eps()), DOUBLE);
        Traced rp = sub(exact(p0), div(mul(doubleConstant(clr), rg, DOUBLE), rstd, DOUBLE), DOUBLE).round(FLOAT);
        return new double[] {s.err() + rs.err(), p.err() + rp.err()};
    }

    /**
     * The first two steps of a 3-element case, worked by hand from PyTorch's formula: lr 0.1, lr_decay 0.5,
     * initial_accumulator_value 0.25, eps 1e-10; p = (1, -2, 0.5); gradients (0.5, -1, 0) then (0.5, 1, 2).
     * <pre>
     *   step 1: clr = 0.1;            sum = 0.25 + g^2 = (0.5, 1.25, 0.25)
     *           p = (1 - 0.1 * 0.5 / sqrt(0.5), -2 + 0.1 / sqrt(1.25), 0.5 - 0) = (0.929289322, -1.91055728, 0.5)
     *   step 2: clr = 0.1 / 1.5;      sum = (0.75, 2.25, 4.25)
     *           p = (0.929289322 - clr * 0.5 / sqrt(0.75), -1.91055728 - clr / 1.5, 0.5 - clr * 2 / sqrt(4.25))
     *             = (0.890799304, -1.95500173, 0.435323833)
     * </pre>
     * (eps, 1e-10, is below a float ULP of every denominator here.)
     */
    @Example
    void firstTwoStepsByHand() {
        for (boolean offHeap : new boolean[] {false, true}) {
            try (Rig rig = new Rig(0, 3, offHeap);
                 Adagrad opt = Adagrad.builder(rig.set).options(AdagradOptions.DEFAULTS.withLrDecay(0.5)
                         .withInitialAccumulatorValue(0.25)).build()) {
                rig.setParams(new float[] {1, -2, 0.5f});
                float[] sum0 = Rig.toArray(opt.state("w", "sum"));
                for (int i = 0; i < 3; i++) {
                    Check.near("initial sum", 0.25, sum0[i]);
                }
                rig.setGrads(new float[] {0.5f, -1, 0});
                opt.step(0.1);
                float[] p = rig.params(), s = Rig.toArray(opt.state("w", "sum"));
                double[] p1 = {0.929289322, -1.91055728, 0.5}, s1 = {0.5, 1.25, 0.25};
                for (int i = 0; i < 3; i++) {
                    Check.near("step 1 param " + i, p1[i], p[i]);
                    Check.near("step 1 sum " + i, s1[i], s[i]);
                }
                rig.setGrads(new float[] {0.5f, 1, 2});
                opt.step(0.1);
                p = rig.params();
                s = Rig.toArray(opt.state("w", "sum"));
                double[] p2 = {0.890799304, -1.95500173, 0.435323833}, s2 = {0.75, 2.25, 4.25};
                for (int i = 0; i < 3; i++) {
                    Check.near("step 2 param " + i, p2[i], p[i]);
                    Check.near("step 2 sum " + i, s2[i], s[i]);
                }
            }
        }
    }

    @Example
    void badOptionsAreRejectedNamingParameterAndValue() {
        AdagradOptions d = AdagradOptions.DEFAULTS;
        Check.rejects(IllegalArgumentException.class, () -> d.withLrDecay(-0.1), "lrDecay", "-0.1");
        Check.rejects(IllegalArgumentException.class, () -> d.withWeightDecay(Double.NaN), "weightDecay", "NaN");
        Check.rejects(IllegalArgumentException.class, () -> d.withInitialAccumulatorValue(-1),
                "initialAccumulatorValue", "-1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withEps(Double.POSITIVE_INFINITY), "eps", "Infinity");
        Check.rejects(IllegalArgumentException.class, () -> d.withLrScale(-2), "lrScale", "-2.0");
        try (Rig rig = new Rig(0, 8, false)) {
            Check.rejects(IllegalArgumentException.class, () -> Adagrad.builder(rig.set).trackNorms(true).build(),
                    "trackNorms", "Adagrad");
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Double> lrDecay = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(2, logUniform(-6, 0)));
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.doubles().between(1e-5, 0.1).ofScale(6)));
        Arbitrary<Double> initial = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.0, 0.1)),
                Tuple.of(1, logUniform(-4, 1)));
        Arbitrary<Double> eps = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(1e-10)),
                Tuple.of(1, logUniform(-12, -3)));
        Arbitrary<Config> configs = Combinators.combine(lrDecay, wd, initial, eps, gradScales(), maximize())
                .as(Config::new);
        return Combinators.combine(configs, layouts(), logUniform(-5, 0), Arbitraries.integers().between(-60, 30),
                Arbitraries.longs()).as(Case::new);
    }
}
