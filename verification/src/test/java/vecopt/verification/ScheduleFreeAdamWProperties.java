package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
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
import vecopt.optim.ScheduleFreeAdamW;
import vecopt.optim.ScheduleFreeAdamWOptions;
import vecopt.reference.ScheduleFreeAdamWReference;
import vecopt.reference.ScheduleFreeAdamWReference.StepScalars;
import vecopt.verification.OptimizerVsReferenceProperties.Layout;

/**
 * Schedule-free AdamW against {@code schedule_free}'s {@code AdamWScheduleFree} ({@link ScheduleFreeAdamWReference}),
 * element by element, each step from the engine's own state before it (parameters, {@code z}, {@code exp_avg_sq} and
 * the group's {@code lr_max}, {@code weight_sum}), within the bound {@link #bound} derives, on single steps and
 * 100-step trajectories, warmup on and off, r and weight_lr_power varied, weight decay; {@code lr_max} and
 * {@code weight_sum} bit for bit (both sides compute them in double by the same operations). The train/eval switch
 * against the reference within its derived bound, and its round trip: what holds exactly and what within a bound.
 * A hand-computed two-step example; bad options and a step in eval mode refused.
 */
class ScheduleFreeAdamWProperties {
    record Hyper(double beta1, double beta2, double eps, double weightDecay) {
    }

    record Averaging(long warmupSteps, double r, double weightLrPower) {
    }

    record Config(Hyper h, Averaging a, double gradScale, boolean maximize) {
        ScheduleFreeAdamWOptions options() {
            return new ScheduleFreeAdamWOptions(h.beta1(), h.beta2(), h.eps(), h.weightDecay(), a.warmupSteps(),
                    a.r(), a.weightLrPower(), 1.0, maximize);
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
        Hyper h = c.h();
        Averaging a = c.a();
        Layout l = k.layout();
        SplittableRandom rnd = new SplittableRandom(k.seed());
        try (Rig rig = new Rig(l.offset(), l.length(), l.offHeap());
             ScheduleFreeAdamW opt = ScheduleFreeAdamW.builder(rig.set).options(c.options()).threads(l.threads())
                     .build()) {
            rig.setParams(Rig.values(rnd, l.length(), rnd.nextInt(-8, 3), 3));
            opt.train();
            for (int t = 1; t <= l.steps(); t++) {
                rig.setGrads(Rig.grads(rnd, l.length(), k.gradExp()));
                float[] p = rig.params(), g = rig.grads();
                float[] z = Rig.toArray(opt.state("w", "z")), v = Rig.toArray(opt.state("w", "exp_avg_sq"));
                float[] p0 = p.clone(), z0 = t == 1 ? p.clone() : z.clone(), v0 = v.clone();
                // the scalars this step starts from: the engine's own, from after its previous step
                ScheduleFreeAdamWReference.Scalars s = t == 1 ? new ScheduleFreeAdamWReference.Scalars()
                        : ScheduleFreeAdamWReference.Scalars.of(t - 1, opt.lrMax("default"),
                        opt.weightSum("default"), true);
                s.trainMode = true;
                if (c.gradScale() != 1) {
                    opt.step(k.lr(), c.gradScale());
                } else {
                    opt.step(k.lr());
                }
                StepScalars sc = ScheduleFreeAdamWReference.advance(s, k.lr(), h.beta2(), a.warmupSteps(), a.r(),
                        a.weightLrPower());
                ScheduleFreeAdamWReference.step(p, g, z, v, 0, l.length(), sc, t == 1, h.beta1(), h.beta2(),
                        h.eps(), h.weightDecay(), c.gradScale(), c.maximize());
                String when = "step " + t + " (lr=" + sc.lr() + ", ckp1=" + sc.ckp1() + ")";
                assertEquals(s.lrMax, opt.lrMax("default"), "lr_max after " + when);
                assertEquals(s.weightSum, opt.weightSum("default"), "weight_sum after " + when);
                float[] pe = rig.params(), ze = Rig.toArray(opt.state("w", "z"));
                float[] ve = Rig.toArray(opt.state("w", "exp_avg_sq"));
                for (int i = 0; i < l.length(); i++) {
                    double[] b = bound(c, sc, p0[i], g[i], z0[i], v0[i]);
                    String at = when + ", element " + i + " (y=" + p0[i] + ", g=" + g[i] + ", z=" + z0[i] + ", v="
                            + v0[i] + ")";
                    Check.within("y", at, pe[i], p[i], b[0]);
                    Check.within("z", at, ze[i], z[i], b[1]);
                    Check.within("exp_avg_sq", at, ve[i], v[i], b[2]);
                }
                Check.guards(rig);
            }
        }
    }

    /**
     * The tolerances of y, z and exp_avg_sq at a step with scalars {@code sc}: the engine's float sequence
     * ({@code ScheduleFreeStep}) traced, plus the reference's double sequence with its float stores traced.
     */
    static double[] bound(Config c, StepScalars sc, float y0, float g0, float z0, float v0) {
        Hyper h = c.h();
        double coef = sc.lr() * (h.beta1() * (1 - sc.ckp1()) - 1);
        Traced g = mul(exact(g0), exact(c.signedScale()), FLOAT);
        Traced v = fma(exact(v0), floatConstant(h.beta2()),
                mul(mul(g, floatConstant(1 - h.beta2()), FLOAT), g, FLOAT), FLOAT);
        Traced d = add(sqrt(div(v, floatConstant(sc.bc2()), FLOAT), FLOAT), floatConstant(h.eps()), FLOAT);
        Traced u = div(g, d, FLOAT);
        if (h.weightDecay() != 0) {
            u = fma(exact(y0), floatConstant(h.weightDecay()), u, FLOAT);
        }
        Traced yl = lerp(exact(y0), exact(z0), sc.ckp1());
        Traced y = fma(u, floatConstant(coef), yl, FLOAT);
        Traced z = fma(u, floatConstant(-sc.lr()), exact(z0), FLOAT);

        Traced rg = mul(exact(g0), exact(c.signedScale()), DOUBLE).round(FLOAT);
        Traced rv = mul(exact(v0), doubleConstant(h.beta2()), DOUBLE).round(FLOAT);
        rv = add(rv, mul(mul(doubleConstant(1 - h.beta2()), rg, DOUBLE), rg, DOUBLE), DOUBLE).round(FLOAT);
        Traced rd = div(rv, doubleConstant(sc.bc2()), DOUBLE).round(FLOAT);
        rd = sqrt(rd, DOUBLE).round(FLOAT);
        rd = add(rd, doubleConstant(h.eps()), DOUBLE).round(FLOAT);
        Traced ru = div(rg, rd, DOUBLE).round(FLOAT);
        if (h.weightDecay() != 0) {
            ru = add(ru, mul(doubleConstant(h.weightDecay()), exact(y0), DOUBLE), DOUBLE).round(FLOAT);
        }
        Traced ryl = add(exact(y0), mul(doubleConstant(sc.ckp1()), sub(exact(z0), exact(y0), DOUBLE), DOUBLE),
                DOUBLE).round(FLOAT);
        Traced ry = add(ryl, mul(doubleConstant(coef), ru, DOUBLE), DOUBLE).round(FLOAT);
        Traced rz = sub(exact(z0), mul(doubleConstant(sc.lr()), ru, DOUBLE), DOUBLE).round(FLOAT);
        return new double[] {y.err() + ry.err(), z.err() + rz.err(), v.err() + rv.err()};
    }

    /**
     * The engine's lerp with weight {@code w} (double, rounded to float once) traced: {@code fma(b - a, w, a)} for
     * {@code |w| < 0.5}, else {@code fma(b - a, -(1 - w), b)}; the exact result is {@code a + w (b - a)} either way.
     */
    static Traced lerp(Traced a, Traced b, double w) {
        Traced diff = sub(b, a, FLOAT);
        if (Math.abs((float) w) < 0.5f) {
            return fma(diff, floatConstant(w), a, FLOAT);
        }
        Traced oneMinus = sub(exact(1), floatConstant(w), FLOAT);
        return fma(diff, new Traced(-oneMinus.x(), oneMinus.err()), b, FLOAT);
    }

    /**
     * The switch against the reference's {@code p.lerp_(end=z, weight=...)} in double, within both traces; then the
     * round trip: {@code eval(); train()} returns every element to y within the traced error of the two lerps (whose
     * exact result is y: {@code (1 - (1 - beta1)) (1 - (1 - 1/beta1)) = 1}), and exactly, bit for bit, where
     * {@code z == y}. It is not exact in float in general. A second {@code eval()} (or {@code train()}) in the same
     * mode moves nothing.
     */
    @Property(tries = 60)
    void trainEvalSwitchAndRoundTrip(@ForAll("cases") Case k) {
        Config c = k.config();
        double beta1 = c.h().beta1();
        Layout l = k.layout();
        SplittableRandom rnd = new SplittableRandom(k.seed());
        try (Rig rig = new Rig(l.offset(), l.length(), l.offHeap());
             ScheduleFreeAdamW opt = ScheduleFreeAdamW.builder(rig.set).options(c.options()).threads(l.threads())
                     .build()) {
            rig.setParams(Rig.values(rnd, l.length(), rnd.nextInt(-8, 3), 3));
            opt.train();
            int steps = Math.min(l.steps(), 3);
            for (int t = 0; t < steps; t++) {
                rig.setGrads(Rig.grads(rnd, l.length(), k.gradExp()));
                opt.step(k.lr());
            }
            float[] y = rig.params(), z = Rig.toArray(opt.state("w", "z"));
            opt.eval();
            assertFalse(opt.trainMode());
            float[] x = rig.params(), rx = y.clone();
            ScheduleFreeAdamWReference.switchMode(rx, z, 0, l.length(), beta1, false);
            opt.eval(); // already in eval mode: nothing moves
            Check.bitwiseEqual("a second eval()", x, rig.params());
            opt.train();
            float[] back = rig.params(), rback = x.clone();
            ScheduleFreeAdamWReference.switchMode(rback, z, 0, l.length(), beta1, true);
            for (int i = 0; i < l.length(); i++) {
                String at = "element " + i + " (y=" + y[i] + ", z=" + z[i] + ", beta1=" + beta1 + ")";
                Traced te = lerp(exact(y[i]), exact(z[i]), 1 - 1 / beta1);
                double w = 1 - 1 / beta1;
                Traced tr = add(exact(y[i]), mul(doubleConstant(w), sub(exact(z[i]), exact(y[i]), DOUBLE), DOUBLE),
                        DOUBLE).round(FLOAT);
                Check.within("eval x", at, x[i], rx[i], te.err() + tr.err());
                Traced trip = lerp(te, exact(z[i]), 1 - beta1); // exact result: y[i]
                Check.within("eval then train", at, back[i], y[i], trip.err());
                Traced rtrip = lerp(exact(x[i]), exact(z[i]), 1 - beta1);
                Traced rref = add(exact(x[i]), mul(doubleConstant(1 - beta1), sub(exact(z[i]), exact(x[i]), DOUBLE),
                        DOUBLE), DOUBLE).round(FLOAT);
                Check.within("train y", at, back[i], rback[i], rtrip.err() + rref.err());
                if (Float.floatToRawIntBits(z[i]) == Float.floatToRawIntBits(y[i])) {
                    assertEquals(Float.floatToRawIntBits(y[i]), Float.floatToRawIntBits(x[i]), "x where z == y, " + at);
                    assertEquals(Float.floatToRawIntBits(y[i]), Float.floatToRawIntBits(back[i]),
                            "round trip where z == y, " + at);
                }
            }
            Check.guards(rig);
        }
    }

    /**
     * Before the first step there is no z (the original creates it in the first step): train() and eval() switch
     * the mode and move nothing, bit for bit.
     */
    @Example
    void switchBeforeTheFirstStepMovesNothing() {
        try (Rig rig = new Rig(3, 37, true); ScheduleFreeAdamW opt = ScheduleFreeAdamW.builder(rig.set).build()) {
            float[] p = Rig.values(new SplittableRandom(5), 37, 0, 3);
            rig.setParams(p);
            assertFalse(opt.trainMode(), "starts in eval mode, as the original (train_mode=False)");
            opt.train();
            assertTrue(opt.trainMode());
            Check.bitwiseEqual("after train()", p, rig.params());
            opt.eval();
            Check.bitwiseEqual("after eval()", p, rig.params());
        }
    }

    /**
     * The first two steps of a 2-element case, worked by hand from the original's formula: lr 0.1 with
     * warmup_steps 2, betas (0.9, 0.5), eps 0 (exact square roots), weight_decay 0, r 0, weight_lr_power 2;
     * p = (1, -2); gradients (0.5, -1) then (0.25, 0.5).
     * <pre>
     *   step 1 (k 0): sched 1/2, lr 0.05, bc2 1 - 0.5 = 0.5, lr_max 0.05, weight 0.05^2 = 0.0025, weight_sum 0.0025,
     *                 ckp1 1.  z = p = (1, -2);  v = 0.5 g^2 = (0.125, 0.5);  denom = sqrt(v / 0.5) = (0.5, 1)
     *                 u = g / denom = (1, -1);  y = lerp(y, z, 1) = z = (1, -2);  y += 0.05 (0.9 * 0 - 1) u:
     *                 y = (0.95, -1.95);  z -= 0.05 u: z = (0.95, -1.95)
     *   step 2 (k 1): sched 1, lr 0.1, bc2 1 - 0.25 = 0.75, lr_max 0.1, weight 0.01, weight_sum 0.0125, ckp1 0.8
     *                 v = 0.5 v + 0.5 g^2 = (0.09375, 0.375);  v / bc2 = (0.125, 0.5);  denom = (1/sqrt8, 1/sqrt2)
     *                 u = g / denom = (0.25 sqrt8, 0.5 sqrt2) = (1/sqrt2, 1/sqrt2) = (0.70710678, 0.70710678)
     *                 y = lerp(y, z, 0.8) = y (y == z);  y += 0.1 (0.9 * 0.2 - 1) u = -0.082 u:
     *                 y = (0.95 - 0.0579827560, -1.95 - 0.0579827560) = (0.892017244, -2.007982756)
     *                 z -= 0.1 u:  z = (0.879289322, -2.020710678)
     *   eval:         x = lerp(y, z, 1 - 1/0.9 = -1/9) = y + (y - z) / 9,  y - z = 0.018 u = 0.0127279221,
     *                 x = y + 0.00141421356 = (0.893431458, -2.006568542)
     * </pre>
     */
    @Example
    void firstTwoStepsByHand() {
        double u = Math.sqrt(0.5);
        double[][] y = {{0.95, -1.95}, {0.95 - 0.082 * u, -1.95 - 0.082 * u}};
        double[][] z = {{0.95, -1.95}, {0.95 - 0.1 * u, -1.95 - 0.1 * u}};
        double[][] v = {{0.125, 0.5}, {0.09375, 0.375}};
        double[] x = {0.95 - 0.082 * u + 0.002 * u, -1.95 - 0.082 * u + 0.002 * u};
        double[] lrMax = {0.05, 0.1}, weightSum = {0.0025, 0.0125};
        float[][] grads = {{0.5f, -1}, {0.25f, 0.5f}};
        ScheduleFreeAdamWOptions o = ScheduleFreeAdamWOptions.DEFAULTS.withBetas(0.9, 0.5).withEps(0)
                .withWarmupSteps(2);
        for (boolean offHeap : new boolean[] {false, true}) {
            try (Rig rig = new Rig(0, 2, offHeap);
                 ScheduleFreeAdamW opt = ScheduleFreeAdamW.builder(rig.set).options(o).build()) {
                rig.setParams(new float[] {1, -2});
                opt.train();
                for (int t = 0; t < 2; t++) {
                    rig.setGrads(grads[t]);
                    opt.step(0.1);
                    float[] pe = rig.params(), ze = Rig.toArray(opt.state("w", "z"));
                    float[] ve = Rig.toArray(opt.state("w", "exp_avg_sq"));
                    for (int i = 0; i < 2; i++) {
                        Check.near("step " + (t + 1) + " y " + i, y[t][i], pe[i]);
                        Check.near("step " + (t + 1) + " z " + i, z[t][i], ze[i]);
                        Check.near("step " + (t + 1) + " exp_avg_sq " + i, v[t][i], ve[i]);
                    }
                    Check.near("step " + (t + 1) + " lr_max", lrMax[t], (float) opt.lrMax("default"));
                    Check.near("step " + (t + 1) + " weight_sum", weightSum[t], (float) opt.weightSum("default"));
                }
                opt.eval();
                float[] xe = rig.params();
                for (int i = 0; i < 2; i++) {
                    Check.near("eval x " + i, x[i], xe[i]);
                }
            }
        }
    }

    /** A step in eval mode throws, as the original raises, and changes nothing: parameters, state, counters. */
    @Example
    void stepInEvalModeIsRefused() {
        try (Rig rig = new Rig(1, 40, false);
             ScheduleFreeAdamW opt = ScheduleFreeAdamW.builder(rig.set).threads(1).build()) {
            SplittableRandom rnd = new SplittableRandom(9);
            rig.setParams(Rig.values(rnd, 40, 0, 3));
            rig.setGrads(Rig.values(rnd, 40, -4, 3));
            Check.rejects(IllegalStateException.class, () -> opt.step(0.01), "eval mode", "train()");
            opt.train();
            opt.step(0.01);
            opt.eval();
            float[] p = rig.params(), z = Rig.toArray(opt.state("w", "z"));
            float[] v = Rig.toArray(opt.state("w", "exp_avg_sq"));
            double lrMax = opt.lrMax("default"), weightSum = opt.weightSum("default");
            Check.rejects(IllegalStateException.class, () -> opt.step(0.01), "eval mode");
            Check.rejects(IllegalStateException.class, () -> opt.step(0.01, 0.5), "eval mode");
            Check.bitwiseEqual("params", p, rig.params());
            Check.bitwiseEqual("z", z, Rig.toArray(opt.state("w", "z")));
            Check.bitwiseEqual("exp_avg_sq", v, Rig.toArray(opt.state("w", "exp_avg_sq")));
            assertEquals(1, opt.steps());
            assertEquals(1, opt.groups().get(0).steps());
            assertEquals(lrMax, opt.lrMax("default"));
            assertEquals(weightSum, opt.weightSum("default"));
        }
    }

    @Example
    void badOptionsAreRejectedNamingParameterAndValue() {
        ScheduleFreeAdamWOptions d = ScheduleFreeAdamWOptions.DEFAULTS;
        Check.rejects(IllegalArgumentException.class, () -> d.withBetas(0, 0.999), "beta1", "0.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withBetas(1, 0.999), "beta1", "1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withBetas(0.9, 1), "beta2", "1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withEps(-1e-8), "eps", "-1.0E-8");
        Check.rejects(IllegalArgumentException.class, () -> d.withWeightDecay(Double.NaN), "weightDecay", "NaN");
        Check.rejects(IllegalArgumentException.class, () -> d.withWarmupSteps(-1), "warmupSteps", "-1");
        Check.rejects(IllegalArgumentException.class, () -> d.withR(Double.POSITIVE_INFINITY), "r", "Infinity");
        Check.rejects(IllegalArgumentException.class, () -> d.withWeightLrPower(-2), "weightLrPower", "-2.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withLrScale(-1), "lrScale", "-1.0");
        try (Rig rig = new Rig(0, 8, false)) {
            Check.rejects(IllegalArgumentException.class, () -> ScheduleFreeAdamW.builder(rig.set).trackNorms(true)
                    .build(), "trackNorms", "ScheduleFreeAdamW");
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Double> beta1 = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.of(0.9, 0.5, 0.95)),
                Tuple.of(2, Arbitraries.doubles().between(0.05, 0.999).ofScale(6)));
        Arbitrary<Double> beta2 = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.999, 0.95, 0.0)),
                Tuple.of(2, Arbitraries.doubles().between(0, 0.99999).ofScale(6)));
        Arbitrary<Double> eps = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(1e-8)),
                Tuple.of(2, logUniform(-12, -3)));
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.doubles().between(1e-4, 0.3).ofScale(6)));
        // warmup: off, shorter than a 100-step run, and longer than it
        Arbitrary<Long> warmup = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0L)),
                Tuple.of(2, Arbitraries.longs().between(1, 150)));
        Arbitrary<Double> r = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.doubles().between(-1, 3).ofScale(4)));
        Arbitrary<Double> wlp = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(2.0, 0.0)),
                Tuple.of(1, Arbitraries.doubles().between(0, 4).ofScale(4)));
        Arbitrary<Config> configs = Combinators.combine(
                Combinators.combine(beta1, beta2, eps, wd).as(Hyper::new),
                Combinators.combine(warmup, r, wlp).as(Averaging::new), gradScales(), maximize()).as(Config::new);
        return Combinators.combine(configs, layouts(), logUniform(-5, -1), Arbitraries.integers().between(-60, 30),
                Arbitraries.longs()).as(Case::new);
    }
}
