package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import vecopt.optim.Asgd;
import vecopt.optim.AsgdOptions;
import vecopt.reference.AsgdReference;
import vecopt.verification.OptimizerVsReferenceProperties.Layout;

/**
 * ASGD against PyTorch's {@code _single_tensor_asgd} ({@link AsgdReference}), element by element, each step from the
 * engine's own state before it (parameters, {@code ax}, and the group's {@code eta} and {@code mu}), within the
 * bound {@link #bound} derives; the running scalars {@code eta} and {@code mu} bit for bit (both sides compute them
 * in double from the same inputs and round once); a hand-computed two-step example, checked against PyTorch 2.13;
 * options rejected with their name and value.
 */
class AsgdProperties {
    record Config(double lambd, double alpha, double t0, double weightDecay, double gradScale, boolean maximize) {
        AsgdOptions options() {
            return new AsgdOptions(lambd, alpha, t0, weightDecay, 1.0, maximize);
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
             Asgd opt = Asgd.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            rig.setParams(Rig.values(rnd, l.length(), rnd.nextInt(-8, 3), 3));
            for (int t = 1; t <= l.steps(); t++) {
                rig.setGrads(Rig.grads(rnd, l.length(), k.gradExp()));
                float[] p = rig.params(), g = rig.grads(), ax = Rig.toArray(opt.state("w", "ax"));
                float[] p0 = p.clone(), ax0 = ax.clone();
                // the scalars this step uses: the engine's own, from after its previous step (fresh before the first)
                AsgdReference.Scalars s = t == 1 ? new AsgdReference.Scalars()
                        : AsgdReference.Scalars.of((float) opt.eta("default"), (float) opt.mu("default"));
                float eta = t == 1 ? (float) k.lr() : s.eta, mu = s.mu;
                if (c.gradScale() != 1) {
                    opt.step(k.lr(), c.gradScale());
                } else {
                    opt.step(k.lr());
                }
                AsgdReference.step(p, g, ax, s, 0, l.length(), k.lr(), c.lambd(), c.alpha(), c.t0(),
                        c.weightDecay(), t, c.gradScale(), c.maximize());
                String when = "step " + t + " (eta=" + eta + ", mu=" + mu + ")";
                assertEquals(Float.floatToRawIntBits(s.eta), Float.floatToRawIntBits((float) opt.eta("default")),
                        "eta after " + when);
                assertEquals(Float.floatToRawIntBits(s.mu), Float.floatToRawIntBits((float) opt.mu("default")),
                        "mu after " + when);
                float[] pe = rig.params(), axe = Rig.toArray(opt.state("w", "ax"));
                for (int i = 0; i < l.length(); i++) {
                    double[] b = bound(c, eta, mu, p0[i], g[i], ax0[i]);
                    String at = when + ", element " + i + " (p=" + p0[i] + ", g=" + g[i] + ", ax=" + ax0[i] + ")";
                    Check.within("param", at, pe[i], p[i], b[0]);
                    Check.within("ax", at, axe[i], ax[i], b[1]);
                }
                Check.guards(rig);
            }
        }
    }

    /**
     * The tolerances of the parameter and ax at a step that uses {@code eta} and {@code mu}: the engine's float
     * sequence ({@code AsgdStep}) traced, plus the reference's double sequence with its float stores.
     */
    static double[] bound(Config c, float eta, float mu, float p0, float g0, float ax0) {
        boolean average = mu != 1f;
        Traced g = mul(exact(g0), exact(c.signedScale()), FLOAT);
        if (c.weightDecay() != 0) {
            g = fma(exact(p0), floatConstant(c.weightDecay()), g, FLOAT);
        }
        Traced p = fma(g, exact(-eta), mul(exact(p0), floatConstant(1 - c.lambd() * eta), FLOAT), FLOAT);
        Traced ax = average ? add(exact(ax0), mul(sub(p, exact(ax0), FLOAT), exact(mu), FLOAT), FLOAT) : p;

        Traced rg = mul(exact(g0), exact(c.signedScale()), DOUBLE);
        if (c.weightDecay() != 0) {
            rg = add(rg, mul(doubleConstant(c.weightDecay()), exact(p0), DOUBLE), DOUBLE);
        }
        Traced rpd = mul(exact(p0), doubleConstant(1 - c.lambd() * eta), DOUBLE).round(FLOAT);
        Traced rp = sub(rpd, mul(exact(eta), rg, DOUBLE), DOUBLE).round(FLOAT);
        Traced rax = average ? add(exact(ax0), mul(sub(rp, exact(ax0), DOUBLE), exact(mu), DOUBLE), DOUBLE)
                .round(FLOAT) : rp;
        return new double[] {p.err() + rp.err(), ax.err() + rax.err()};
    }

    /**
     * The first two steps of a 3-element case, worked by hand from PyTorch's formula: lr 0.1, lambd 0.5, alpha 0.75,
     * t0 -1 (so averaging starts at step 2); p = (1, -2, 0.5); gradients (0.5, -1, 0) then (0.5, -0.25, 2).
     * <pre>
     *   step 1: eta = lr = 0.1, mu = 1;  p = (1 - 0.05) p - 0.1 g = (0.9, -1.8, 0.475);  ax = p
     *           then eta = 0.1 / (1 + 0.5 * 0.1 * 1)^0.75 = 0.0964068795,  mu = 1 / max(1, 1 + 1) = 0.5
     *   step 2: p = (1 - 0.5 eta) p - eta g = (0.808413465, -1.68913209, 0.259289607)
     *           ax = ax + (p - ax) * 0.5 = (0.854206732, -1.74456604, 0.367144804)
     *           then eta = 0.1 / 1.1^0.75 = 0.0931012445,  mu = 1 / 3
     * </pre>
     * (PyTorch 2.13's {@code torch.optim.ASGD(..., foreach=False)} gives these to float precision.)
     */
    @Example
    void firstTwoStepsByHand() {
        double[][] p = {{0.9, -1.8, 0.475}, {0.8084134645040392, -1.6891320886101526, 0.2592896071871451}};
        double[][] ax = {p[0], {0.8542067322520195, -1.7445660443050763, 0.36714480359357254}};
        double[] eta = {0.09640687946943231, 0.09310124446222229};
        double[] mu = {0.5, 1 / 3.0};
        float[][] grads = {{0.5f, -1, 0}, {0.5f, -0.25f, 2}};
        AsgdOptions o = AsgdOptions.DEFAULTS.withLambd(0.5).withAlpha(0.75).withT0(-1);
        for (boolean offHeap : new boolean[] {false, true}) {
            try (Rig rig = new Rig(0, 3, offHeap); Asgd opt = Asgd.builder(rig.set).options(o).build()) {
                rig.setParams(new float[] {1, -2, 0.5f});
                for (int t = 0; t < 2; t++) {
                    rig.setGrads(grads[t]);
                    opt.step(0.1);
                    float[] pe = rig.params(), axe = Rig.toArray(opt.state("w", "ax"));
                    for (int i = 0; i < 3; i++) {
                        Check.near("step " + (t + 1) + " param " + i, p[t][i], pe[i]);
                        Check.near("step " + (t + 1) + " ax " + i, ax[t][i], axe[i]);
                    }
                    Check.near("step " + (t + 1) + " eta", eta[t], (float) opt.eta("default"));
                    Check.near("step " + (t + 1) + " mu", mu[t], (float) opt.mu("default"));
                }
            }
        }
    }

    /** PyTorch's float32 step counter stops at 2^24; eta and mu are computed from the counter, not the true step. */
    @Example
    void stepCounterSaturatesAsPyTorchsFloat32() {
        AsgdReference.Scalars a = new AsgdReference.Scalars(), b = new AsgdReference.Scalars();
        float[] none = new float[0];
        AsgdReference.step(none, none, none, a, 0, 0, 0.01, 1e-4, 0.75, 0, 0, (1L << 24) + 1, 1, false);
        AsgdReference.step(none, none, none, b, 0, 0, 0.01, 1e-4, 0.75, 0, 0, 1L << 24, 1, false);
        assertEquals(a.eta, b.eta);
        assertEquals(a.mu, b.mu);
        float counter = 1 << 24;
        assertEquals(counter, counter + 1f, "2^24 + 1 rounds to 2^24 in float32");
    }

    @Example
    void badOptionsAreRejectedNamingParameterAndValue() {
        AsgdOptions d = AsgdOptions.DEFAULTS;
        Check.rejects(IllegalArgumentException.class, () -> d.withLambd(-1e-4), "lambd", "-1.0E-4");
        Check.rejects(IllegalArgumentException.class, () -> d.withAlpha(Double.POSITIVE_INFINITY), "alpha",
                "Infinity");
        Check.rejects(IllegalArgumentException.class, () -> d.withT0(Double.NaN), "t0", "NaN");
        Check.rejects(IllegalArgumentException.class, () -> d.withWeightDecay(-0.5), "weightDecay", "-0.5");
        Check.rejects(IllegalArgumentException.class, () -> d.withLrScale(-1), "lrScale", "-1.0");
        try (Rig rig = new Rig(0, 8, false)) {
            Check.rejects(IllegalArgumentException.class, () -> Asgd.builder(rig.set).trackNorms(true).build(),
                    "trackNorms", "ASGD");
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Double> lambd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(1e-4, 0.0)),
                Tuple.of(2, logUniform(-6, 0)));
        Arbitrary<Double> alpha = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.75, 0.0)),
                Tuple.of(2, Arbitraries.doubles().between(0, 2).ofScale(6)));
        // t0: PyTorch's 1e6 (never averages here), and points inside a 100-step run, negative ones included
        Arbitrary<Double> t0 = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(1e6, 0.0, -1.0)),
                Tuple.of(2, Arbitraries.doubles().between(-3, 60).ofScale(2)));
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.doubles().between(1e-5, 0.1).ofScale(6)));
        Arbitrary<Config> configs = Combinators.combine(lambd, alpha, t0, wd, gradScales(), maximize())
                .as(Config::new);
        return Combinators.combine(configs, layouts(), logUniform(-5, -1), Arbitraries.integers().between(-60, 30),
                Arbitraries.longs()).as(Case::new);
    }
}
