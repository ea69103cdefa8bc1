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

import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import vecopt.optim.Rmsprop;
import vecopt.optim.RmspropOptions;
import vecopt.reference.RmspropReference;
import vecopt.verification.OptimizerVsReferenceProperties.Layout;

/**
 * RMSprop (plain, centered, momentum, L2, maximize) against PyTorch's {@code _single_tensor_rmsprop}
 * ({@link RmspropReference}), element by element, each step from the engine's own state before it, within the bound
 * {@link #bound} derives; hand-computed two-step examples; options rejected with their name and value.
 */
class RmspropProperties {
    record Config(double alpha, double eps, double weightDecay, double momentum, boolean centered, double gradScale,
                  boolean maximize) {
        RmspropOptions options() {
            return new RmspropOptions(alpha, eps, weightDecay, momentum, centered, 1.0, maximize);
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
             Rmsprop opt = Rmsprop.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            boolean mom = c.momentum() > 0;
            List<String> expected = mom && c.centered() ? List.of("square_avg", "momentum_buffer", "grad_avg")
                    : mom ? List.of("square_avg", "momentum_buffer")
                    : c.centered() ? List.of("square_avg", "grad_avg") : List.of("square_avg");
            if (!opt.stateNames().equals(expected)) {
                throw new AssertionError("state names " + opt.stateNames() + ", expected " + expected);
            }
            rig.setParams(Rig.values(rnd, l.length(), rnd.nextInt(-8, 3), 3));
            for (int t = 1; t <= l.steps(); t++) {
                rig.setGrads(Rig.grads(rnd, l.length(), k.gradExp()));
                float[] p = rig.params(), g = rig.grads(), sa = Rig.toArray(opt.state("w", "square_avg"));
                float[] ga = c.centered() ? Rig.toArray(opt.state("w", "grad_avg")) : null;
                float[] buf = mom ? Rig.toArray(opt.state("w", "momentum_buffer")) : null;
                float[] p0 = p.clone(), sa0 = sa.clone();
                float[] ga0 = ga == null ? null : ga.clone(), buf0 = buf == null ? null : buf.clone();
                if (c.gradScale() != 1) {
                    opt.step(k.lr(), c.gradScale());
                } else {
                    opt.step(k.lr());
                }
                RmspropReference.step(p, g, sa, ga, buf, 0, l.length(), k.lr(), c.alpha(), c.eps(), c.weightDecay(),
                        c.momentum(), c.centered(), c.gradScale(), c.maximize());
                float[] pe = rig.params(), sae = Rig.toArray(opt.state("w", "square_avg"));
                float[] gae = c.centered() ? Rig.toArray(opt.state("w", "grad_avg")) : null;
                float[] bufe = mom ? Rig.toArray(opt.state("w", "momentum_buffer")) : null;
                boolean engineWentNaN = false;
                for (int i = 0; i < l.length(); i++) {
                    double[] b = bound(c, k.lr(), p0[i], g[i], sa0[i], ga0 == null ? 0 : ga0[i],
                            buf0 == null ? 0 : buf0[i]);
                    String at = "step " + t + ", element " + i + " (p=" + p0[i] + ", g=" + g[i] + ", square_avg="
                            + sa0[i] + (ga0 == null ? "" : ", grad_avg=" + ga0[i])
                            + (buf0 == null ? "" : ", buf=" + buf0[i]) + ")";
                    Check.within("square_avg", at, sae[i], sa[i], b[0]);
                    boolean refNaN = Double.isNaN(p[i]), engineNaN = Float.isNaN(pe[i]);
                    if (c.centered() && (refNaN || engineNaN) && !Double.isNaN(p0[i]) && !Double.isNaN(g[i])) {
                        // A side took the square root of a negative variance: sa - ga^2 from its rounded
                        // square_avg and grad_avg (as PyTorch's addcmul does) fell below 0 by rounding, so its sign is
                        // not determined by the formula, and the engine (which fuses the square into the
                        // subtraction) and the reference may land on either side of 0, each its own. Only that is
                        // accepted: the variance is negative by less than the rounding of the two stored values, and
                        // the moments themselves match.
                        if (refNaN) {
                            // the reference's stored values: an ulp of each
                            double var = sa[i] - (double) ga[i] * ga[i];
                            double slack = Math.ulp(sa[i]) + Math.ulp(ga[i] * ga[i]);
                            if (!(var < 0 && -var <= slack)) {
                                throw new AssertionError("reference NaN not from a rounded-negative variance (" + var
                                        + ", slack " + slack + "), " + at);
                            }
                        }
                        if (engineNaN) {
                            // the engine's stored values, the ones its fma(-ga, ga, sa) reads: the exact variance is
                            // >= 0 (sa >= ga^2, Jensen, from zero state), and each stored value is within its bound
                            // of the exact one (b[0], b[1] bound the engine's error plus the reference's), so
                            // sa - ga^2 >= -(b[0] + 2 |ga| b[1] + b[1]^2)
                            double var = sae[i] - (double) gae[i] * gae[i];
                            double slack = b[0] + 2 * Math.abs((double) gae[i]) * b[1] + b[1] * b[1];
                            if (!(var < 0 && -var <= slack)) {
                                throw new AssertionError("engine NaN not from a rounded-negative variance (" + var
                                        + ", slack " + slack + "), " + at);
                            }
                            engineWentNaN = true; // its next steps start from NaN: the trajectory ends here
                        }
                        if (gae != null) {
                            Check.within("grad_avg", at, gae[i], ga[i], b[1]);
                        }
                        continue;
                    }
                    if (gae != null) {
                        Check.within("grad_avg", at, gae[i], ga[i], b[1]);
                    }
                    if (bufe != null) {
                        Check.within("momentum_buffer", at, bufe[i], buf[i], b[2]);
                    }
                    Check.within("param", at, pe[i], p[i], b[3]);
                }
                Check.guards(rig);
                if (engineWentNaN) {
                    return;
                }
            }
        }
    }

    /**
     * The tolerances of square_avg, grad_avg, momentum_buffer and the parameter: the engine's float sequence
     * ({@code RmspropStep}) traced, plus the reference's double sequence with its float stores.
     */
    static double[] bound(Config c, double lr, float p0, float g0, float sa0, float ga0, float buf0) {
        boolean mom = c.momentum() > 0;
        Traced g = mul(exact(g0), exact(c.signedScale()), FLOAT);
        if (c.weightDecay() != 0) {
            g = fma(exact(p0), floatConstant(c.weightDecay()), g, FLOAT);
        }
        Traced sa = fma(exact(sa0), floatConstant(c.alpha()), mul(mul(g, floatConstant(1 - c.alpha()), FLOAT), g,
                FLOAT), FLOAT);
        Traced var = sa;
        Traced ga = exact(0);
        if (c.centered()) {
            ga = fma(exact(ga0), floatConstant(c.alpha()), mul(g, floatConstant(1 - c.alpha()), FLOAT), FLOAT);
            var = sub(sa, mul(ga, ga, FLOAT), FLOAT);
        }
        Traced avg = add(sqrt(var, FLOAT), floatConstant(c.eps()), FLOAT);
        Traced d = div(g, avg, FLOAT);
        Traced buf = exact(0);
        if (mom) {
            buf = fma(exact(buf0), floatConstant(c.momentum()), d, FLOAT);
            d = buf;
        }
        Traced p = fma(d, floatConstant(-lr), exact(p0), FLOAT);

        Traced rg = mul(exact(g0), exact(c.signedScale()), DOUBLE);
        if (c.weightDecay() != 0) {
            rg = add(rg, mul(doubleConstant(c.weightDecay()), exact(p0), DOUBLE), DOUBLE);
        }
        Traced rsa = add(mul(doubleConstant(c.alpha()), exact(sa0), DOUBLE),
                mul(mul(doubleConstant(1 - c.alpha()), rg, DOUBLE), rg, DOUBLE), DOUBLE).round(FLOAT);
        Traced rvar = rsa;
        Traced rga = exact(0);
        if (c.centered()) {
            rga = add(mul(doubleConstant(c.alpha()), exact(ga0), DOUBLE),
                    mul(doubleConstant(1 - c.alpha()), rg, DOUBLE), DOUBLE).round(FLOAT);
            rvar = sub(rsa, mul(rga, rga, DOUBLE), DOUBLE);
        }
        Traced ravg = add(sqrt(rvar, DOUBLE), doubleConstant(c.eps()), DOUBLE);
        Traced rbuf = exact(0);
        Traced rp;
        if (mom) {
            rbuf = add(mul(doubleConstant(c.momentum()), exact(buf0), DOUBLE), div(rg, ravg, DOUBLE), DOUBLE)
                    .round(FLOAT);
            rp = sub(exact(p0), mul(doubleConstant(lr), rbuf, DOUBLE), DOUBLE).round(FLOAT);
        } else {
            rp = sub(exact(p0), div(mul(doubleConstant(lr), rg, DOUBLE), ravg, DOUBLE), DOUBLE).round(FLOAT);
        }
        return new double[] {sa.err() + rsa.err(), ga.err() + rga.err(), buf.err() + rbuf.err(), p.err() + rp.err()};
    }

    /**
     * The first two steps of a 3-element case, worked by hand from PyTorch's formula: lr 0.1, alpha 0.5, eps 1e-8;
     * p = (1, -2, 0.5); gradients (0.5, -1, 0) then (0.5, 1, 2). Centered with momentum 0.9:
     * <pre>
     *   step 1: square_avg = 0.5 g^2 = (0.125, 0.5, 0);  grad_avg = 0.5 g = (0.25, -0.5, 0)
     *           avg = sqrt(square_avg - grad_avg^2) + eps = (0.25, 0.5, 0) + eps
     *           buf = g / avg = (2, -2, 0);  p = p - 0.1 buf = (0.8, -1.8, 0.5)
     *   step 2: square_avg = (0.1875, 0.75, 2);  grad_avg = (0.375, 0.25, 1)
     *           avg = sqrt((0.046875, 0.6875, 1)) + eps;  buf = 0.9 buf + g / avg = (4.1094009, -0.5939546, 2)
     *           p = (0.389059918, -1.74060454, 0.300000002)
     * </pre>
     * Plain (not centered, no momentum): step 1 p = p - 0.1 g / sqrt(0.5 g^2) = (0.858578648, -1.85857865, 0.5);
     * step 2 p = (0.743108597, -1.9740487, 0.358578645). (Values to 9 digits, from the formula in double.)
     */
    @Example
    void firstTwoStepsByHand() {
        RmspropOptions base = RmspropOptions.DEFAULTS.withAlpha(0.5);
        double[][] centeredP = {{0.800000008, -1.8, 0.5}, {0.389059918, -1.74060454, 0.300000002}};
        double[][] centeredBuf = {{1.99999992, -1.99999996, 0}, {4.1094009, -0.5939546, 1.99999998}};
        double[][] plainP = {{0.858578648, -1.85857865, 0.5}, {0.743108597, -1.9740487, 0.358578645}};
        double[][] squareAvg = {{0.125, 0.5, 0}, {0.1875, 0.75, 2}};
        double[][] gradAvg = {{0.25, -0.5, 0}, {0.375, 0.25, 1}};
        float[][] grads = {{0.5f, -1, 0}, {0.5f, 1, 2}};
        for (boolean centered : new boolean[] {true, false}) {
            RmspropOptions o = centered ? base.withCentered(true).withMomentum(0.9) : base;
            try (Rig rig = new Rig(0, 3, centered); Rmsprop opt = Rmsprop.builder(rig.set).options(o).build()) {
                rig.setParams(new float[] {1, -2, 0.5f});
                for (int t = 0; t < 2; t++) {
                    rig.setGrads(grads[t]);
                    opt.step(0.1);
                    float[] p = rig.params(), sa = Rig.toArray(opt.state("w", "square_avg"));
                    for (int i = 0; i < 3; i++) {
                        String at = (centered ? "centered" : "plain") + " step " + (t + 1) + " element " + i;
                        Check.near(at + " param", (centered ? centeredP : plainP)[t][i], p[i]);
                        Check.near(at + " square_avg", squareAvg[t][i], sa[i]);
                        if (centered) {
                            Check.near(at + " grad_avg", gradAvg[t][i], Rig.toArray(opt.state("w", "grad_avg"))[i]);
                            Check.near(at + " momentum_buffer", centeredBuf[t][i],
                                    Rig.toArray(opt.state("w", "momentum_buffer"))[i]);
                        }
                    }
                }
            }
        }
    }

    @Example
    void badOptionsAreRejectedNamingParameterAndValue() {
        RmspropOptions d = RmspropOptions.DEFAULTS;
        Check.rejects(IllegalArgumentException.class, () -> d.withAlpha(1.0), "alpha", "[0, 1)", "1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withAlpha(-0.5), "alpha", "-0.5");
        Check.rejects(IllegalArgumentException.class, () -> d.withEps(-1e-8), "eps", "-1.0E-8");
        Check.rejects(IllegalArgumentException.class, () -> d.withWeightDecay(Double.NaN), "weightDecay", "NaN");
        Check.rejects(IllegalArgumentException.class, () -> d.withMomentum(1.5), "momentum", "1.5");
        Check.rejects(IllegalArgumentException.class, () -> d.withLrScale(Double.POSITIVE_INFINITY), "lrScale",
                "Infinity");
        try (Rig rig = new Rig(0, 8, false)) {
            Check.rejects(IllegalArgumentException.class, () -> Rmsprop.builder(rig.set).trackNorms(true).build(),
                    "trackNorms", "RMSprop");
        }
    }

    /**
     * Valid options. Centered cases draw alpha from [0.5, 0.9999]: with alpha near 0 the variance
     * {@code square_avg - grad_avg^2} is the difference of two nearly equal numbers (0 exactly for alpha = 0), where
     * no relative bound exists for either side (the engine, as PyTorch's float kernels, may even take the root of a
     * rounded negative); the non-centered cases cover alpha 0.
     */
    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Double> alpha = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.99, 0.9)),
                Tuple.of(2, Arbitraries.doubles().between(0.5, 0.9999).ofScale(6)));
        Arbitrary<Double> eps = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(1e-8)),
                Tuple.of(1, logUniform(-12, -3)));
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.doubles().between(1e-5, 0.1).ofScale(6)));
        Arbitrary<Double> momentum = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.0, 0.9)),
                Tuple.of(1, Arbitraries.doubles().between(0, 0.99).ofScale(6)));
        Arbitrary<Boolean> zeroAlpha = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(false)),
                Tuple.of(1, Arbitraries.just(true)));
        Arbitrary<Config> configs = Combinators.combine(alpha, zeroAlpha, eps, wd, momentum,
                        Arbitraries.of(false, true), gradScales(), maximize())
                .as((a, zero, e, w, m, centered, s, max) -> new Config(zero && !centered ? 0.0 : a, e, w, m, centered,
                        s, max));
        return Combinators.combine(configs, layouts(), logUniform(-5, -1), Arbitraries.integers().between(-60, 30),
                Arbitraries.longs()).as(Case::new);
    }
}
