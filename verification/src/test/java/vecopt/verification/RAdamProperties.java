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
import vecopt.kernel.RAdamStep;
import vecopt.optim.RAdam;
import vecopt.optim.RAdamOptions;
import vecopt.reference.RAdamReference;
import vecopt.verification.OptimizerVsReferenceProperties.Layout;

/**
 * RAdam (L2 and decoupled decay) against PyTorch's {@code _single_tensor_radam} ({@link RAdamReference}), element by
 * element, each step from the engine's own state before it, within the bound {@link #bound} derives; the
 * {@code rho_t > 5} switch where PyTorch makes it; hand-computed examples; options rejected with their name and
 * value.
 */
class RAdamProperties {
    record Config(double beta1, double beta2, double eps, double weightDecay, boolean decoupled, double gradScale,
                  boolean maximize) {
        RAdamOptions options() {
            return new RAdamOptions(beta1, beta2, eps, weightDecay, decoupled, 1.0, maximize);
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
             RAdam opt = RAdam.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            rig.setParams(Rig.values(rnd, l.length(), rnd.nextInt(-8, 3), 3));
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
                RAdamReference.step(p, g, m, v, 0, l.length(), k.lr(), c.beta1(), c.beta2(), c.eps(),
                        c.weightDecay(), c.decoupled(), t, c.gradScale(), c.maximize());
                float[] pe = rig.params(), me = Rig.toArray(opt.state("w", "exp_avg"));
                float[] ve = Rig.toArray(opt.state("w", "exp_avg_sq"));
                for (int i = 0; i < l.length(); i++) {
                    double[] b = bound(c, k.lr(), t, p0[i], g[i], m0[i], v0[i]);
                    String at = "step " + t + ", element " + i + " (p=" + p0[i] + ", g=" + g[i] + ", exp_avg=" + m0[i]
                            + ", exp_avg_sq=" + v0[i] + ", rectified=" + RAdamReference.rectified(c.beta2(), t) + ")";
                    Check.within("exp_avg", at, me[i], m[i], b[0]);
                    Check.within("exp_avg_sq", at, ve[i], v[i], b[1]);
                    Check.within("param", at, pe[i], p[i], b[2]);
                }
                Check.guards(rig);
            }
        }
    }

    /**
     * The tolerances of exp_avg, exp_avg_sq and the parameter: the engine's float sequence ({@code RAdamStep}, the
     * per-step scalars folded into one float) traced, plus the reference's double sequence with its float stores.
     */
    static double[] bound(Config c, double lr, long t, float p0, float g0, float m0, float v0) {
        double bc1 = 1 - Math.pow(c.beta1(), t), bc2 = 1 - Math.pow(c.beta2(), t);
        double rhoInf = 2 / (1 - c.beta2()) - 1, rhoT = RAdamStep.rho(c.beta2(), t);
        boolean rectified = rhoT > 5.0;
        double rect = rectified ? Math.sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT))
                : 1;
        double k = rectified ? lr * rect * Math.sqrt(bc2) / bc1 : lr / bc1;
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
        Traced d = rectified ? div(m, add(sqrt(v, FLOAT), floatConstant(c.eps()), FLOAT), FLOAT) : m;
        Traced p = fma(d, floatConstant(-k), pd, FLOAT);

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
        Traced step = mul(div(rm, doubleConstant(bc1), DOUBLE), doubleConstant(lr), DOUBLE);
        if (rectified) {
            Traced adaptive = div(doubleConstant(Math.sqrt(bc2)), add(sqrt(rv, DOUBLE), doubleConstant(c.eps()), DOUBLE),
                    DOUBLE);
            step = mul(mul(step, adaptive, DOUBLE), doubleConstant(rect), DOUBLE);
        }
        Traced rp = sub(rparam, step, DOUBLE).round(FLOAT);
        return new double[] {m.err() + rm.err(), v.err() + rv.err(), p.err() + rp.err()};
    }

    /**
     * The first two steps of a 3-element case, worked by hand from PyTorch's formula: lr 0.1, betas (0.9, 0.999),
     * eps 1e-8; p = (1, -2, 0.5); gradients (0.5, -1, 0) then (0.5, -0.25, 2). rho_1 = 1 and rho_2 = 1.9995 (rho_2
     * exceeds 5 for no beta2 < 1), so both are momentum steps, p -= lr * exp_avg / (1 - 0.9^t):
     * <pre>
     *   step 1: exp_avg = (0.05, -0.1, 0);        p = p - 0.1 exp_avg / 0.1  = (0.95, -1.9, 0.5)
     *   step 2: exp_avg = (0.095, -0.115, 0.2);   p = p - 0.1 exp_avg / 0.19 = (0.9, -1.83947368, 0.394736842)
     * </pre>
     * Then the switch: with a constant gradient 0.5 from p = 1, steps 1 to 5 move p by lr * 0.5 each (rho_5 =
     * 4.996), and step 6 (rho_6 = 5.994) is the first adaptive one: rect = 0.0258211128, sqrt(bc2) / (sqrt(v) + eps)
     * = 1.99999948, so p goes from 0.75 to 0.747417889.
     */
    @Example
    void firstTwoStepsAndTheSwitchByHand() {
        double[][] p = {{0.95, -1.9, 0.5}, {0.9, -1.83947368, 0.394736842}};
        double[][] m = {{0.05, -0.1, 0}, {0.095, -0.115, 0.2}};
        float[][] grads = {{0.5f, -1, 0}, {0.5f, -0.25f, 2}};
        try (Rig rig = new Rig(0, 3, true); RAdam opt = RAdam.builder(rig.set).build()) {
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
        double[] constant = {0.95, 0.9, 0.85, 0.8, 0.75, 0.747417889387};
        try (Rig rig = new Rig(0, 1, false); RAdam opt = RAdam.builder(rig.set).build()) {
            rig.setParams(new float[] {1});
            rig.setGrads(new float[] {0.5f});
            for (int t = 0; t < 6; t++) {
                if (RAdamReference.rectified(0.999, t + 1) != (t == 5)) {
                    throw new AssertionError("rho_t > 5 at step " + (t + 1) + ": " + RAdamReference.rectified(0.999,
                            t + 1));
                }
                opt.step(0.1);
                Check.near("constant gradient, step " + (t + 1), constant[t], rig.params()[0]);
            }
        }
    }

    @Example
    void badOptionsAreRejectedNamingParameterAndValue() {
        RAdamOptions d = RAdamOptions.DEFAULTS;
        Check.rejects(IllegalArgumentException.class, () -> d.withBetas(-0.1, 0.999), "beta1", "-0.1");
        Check.rejects(IllegalArgumentException.class, () -> d.withBetas(0.9, 1.0), "beta2", "[0, 1)", "1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withEps(-1e-8), "eps", "-1.0E-8");
        Check.rejects(IllegalArgumentException.class, () -> d.withWeightDecay(Double.POSITIVE_INFINITY),
                "weightDecay", "Infinity");
        Check.rejects(IllegalArgumentException.class, () -> d.withLrScale(-1), "lrScale", "-1.0");
        try (Rig rig = new Rig(0, 8, false)) {
            Check.rejects(IllegalArgumentException.class, () -> RAdam.builder(rig.set).trackNorms(true).build(),
                    "trackNorms", "RAdam");
        }
    }

    /** Valid options; beta2 often near its defaults, so that 100-step trajectories cross rho_t = 5. */
    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Double> beta1 = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.9, 0.0)),
                Tuple.of(2, Arbitraries.doubles().between(0, 0.999).ofScale(6)));
        Arbitrary<Double> beta2 = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.of(0.999, 0.99, 0.9, 0.0)),
                Tuple.of(2, Arbitraries.doubles().between(0.6, 0.99999).ofScale(6)));
        Arbitrary<Double> eps = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(1e-8)),
                Tuple.of(1, logUniform(-12, -3)));
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.doubles().between(1e-5, 0.1).ofScale(6)));
        Arbitrary<Config> configs = Combinators.combine(beta1, beta2, eps, wd, Arbitraries.of(false, true),
                gradScales(), maximize()).as(Config::new);
        return Combinators.combine(configs, layouts(), logUniform(-5, -1), Arbitraries.integers().between(-60, 30),
                Arbitraries.longs()).as(Case::new);
    }
}
