package vecopt.verification;

import static vecopt.verification.OptimizerVsReferenceProperties.gradScales;
import static vecopt.verification.OptimizerVsReferenceProperties.layouts;
import static vecopt.verification.OptimizerVsReferenceProperties.logUniform;
import static vecopt.verification.OptimizerVsReferenceProperties.maximize;

import java.util.Arrays;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import vecopt.optim.Rprop;
import vecopt.optim.RpropOptions;
import vecopt.reference.RpropReference;
import vecopt.verification.OptimizerVsReferenceProperties.Layout;

/**
 * Rprop against PyTorch's {@code _single_tensor_rprop} ({@link RpropReference}), each step from the engine's own
 * state before it, bit for bit: every operation of Rprop is one correctly rounded float operation or a selection on
 * both sides (the derived bound is 0), so any difference is a wrong sign, factor, clamp or skipped element; a
 * hand-computed two-step example; options rejected with their name and value.
 */
class RpropProperties {
    record Config(double etaMinus, double etaPlus, double stepSizeMin, double stepSizeMax, double gradScale,
                  boolean maximize) {
        RpropOptions options() {
            return new RpropOptions(etaMinus, etaPlus, stepSizeMin, stepSizeMax, 1.0, maximize);
        }
    }

    record Case(Config config, Layout layout, double lr, int gradExp, long seed) {
    }

    @Property(tries = 100)
    void matchesReferenceBitForBit(@ForAll("cases") Case k) {
        Config c = k.config();
        Layout l = k.layout();
        SplittableRandom rnd = new SplittableRandom(k.seed());
        try (Rig rig = new Rig(l.offset(), l.length(), l.offHeap());
             Rprop opt = Rprop.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            rig.setParams(Rig.values(rnd, l.length(), rnd.nextInt(-8, 3), 3));
            for (int t = 1; t <= l.steps(); t++) {
                float[] grads = Rig.grads(rnd, l.length(), k.gradExp());
                rig.setGrads(grads);
                float[] p = rig.params(), g = rig.grads();
                float[] prev = Rig.toArray(opt.state("w", "prev")), ss = Rig.toArray(opt.state("w", "step_size"));
                if (t == 1) {
                    Arrays.fill(ss, (float) k.lr()); // torch.full_like(grad, lr) at the first step
                }
                if (c.gradScale() != 1) {
                    opt.step(k.lr(), c.gradScale());
                } else {
                    opt.step(k.lr());
                }
                RpropReference.step(p, g, prev, ss, 0, l.length(), c.etaMinus(), c.etaPlus(), c.stepSizeMin(),
                        c.stepSizeMax(), c.gradScale(), c.maximize());
                String at = "step " + t;
                Check.bitwiseEqual(at + " param", p, rig.params());
                Check.bitwiseEqual(at + " prev", prev, Rig.toArray(opt.state("w", "prev")));
                Check.bitwiseEqual(at + " step_size", ss, Rig.toArray(opt.state("w", "step_size")));
                Check.guards(rig);
            }
        }
    }

    /**
     * The first two steps of a 3-element case, worked by hand from PyTorch's formula: lr 0.1, etas (0.5, 1.2),
     * step_sizes (1e-6, 50); p = (1, -2, 0.5); gradients (0.5, -1, 0) then (-0.5, -0.25, 2).
     * <pre>
     *   step 1: prev = 0, so every factor is 1: step_size = (0.1, 0.1, 0.1); p = p - 0.1 sign(g) = (0.9, -1.9, 0.5);
     *           prev = g = (0.5, -1, 0)
     *   step 2: g * prev = (-0.25, 0.25, 0): step_size = (0.05, 0.12, 0.1); the first gradient is zeroed (sign
     *           change): p = (0.9, -1.9 + 0.12, 0.5 - 0.1) = (0.9, -1.78, 0.4); prev = (0, -0.25, 2)
     * </pre>
     */
    @Example
    void firstTwoStepsByHand() {
        double[][] p = {{0.9, -1.9, 0.5}, {0.9, -1.78, 0.4}};
        double[][] ss = {{0.1, 0.1, 0.1}, {0.05, 0.12, 0.1}};
        double[][] prev = {{0.5, -1, 0}, {0, -0.25, 2}};
        float[][] grads = {{0.5f, -1, 0}, {-0.5f, -0.25f, 2}};
        for (boolean offHeap : new boolean[] {false, true}) {
            try (Rig rig = new Rig(0, 3, offHeap); Rprop opt = Rprop.builder(rig.set).build()) {
                rig.setParams(new float[] {1, -2, 0.5f});
                for (int t = 0; t < 2; t++) {
                    rig.setGrads(grads[t]);
                    opt.step(0.1);
                    float[] pe = rig.params(), se = Rig.toArray(opt.state("w", "step_size"));
                    float[] ve = Rig.toArray(opt.state("w", "prev"));
                    for (int i = 0; i < 3; i++) {
                        Check.near("step " + (t + 1) + " param " + i, p[t][i], pe[i]);
                        Check.near("step " + (t + 1) + " step_size " + i, ss[t][i], se[i]);
                        Check.near("step " + (t + 1) + " prev " + i, prev[t][i], ve[i]);
                    }
                }
            }
        }
    }

    @Example
    void badOptionsAreRejectedNamingParameterAndValue() {
        RpropOptions d = RpropOptions.DEFAULTS;
        Check.rejects(IllegalArgumentException.class, () -> d.withEtas(1.0, 1.2), "etaMinus", "(0, 1)", "1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withEtas(0.5, 1.0), "etaPlus", "> 1", "1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withStepSizes(-1, 50), "stepSizeMin", "-1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withStepSizes(1, 0.5), "stepSizeMax", "0.5");
        Check.rejects(IllegalArgumentException.class, () -> d.withLrScale(Double.NaN), "lrScale", "NaN");
        try (Rig rig = new Rig(0, 8, false)) {
            Check.rejects(IllegalArgumentException.class, () -> Rprop.builder(rig.set).trackNorms(true).build(),
                    "trackNorms", "Rprop");
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Double> etaMinus = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.5)),
                Tuple.of(1, Arbitraries.doubles().between(0.01, 0.99).ofScale(4)));
        Arbitrary<Double> etaPlus = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(1.2)),
                Tuple.of(1, Arbitraries.doubles().between(1.01, 3).ofScale(4)));
        Arbitrary<Double> min = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(1e-6)),
                Tuple.of(1, logUniform(-9, -2)));
        Arbitrary<Double> max = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(50.0)),
                Tuple.of(1, logUniform(-1, 2)));
        Arbitrary<Config> configs = Combinators.combine(etaMinus, etaPlus, min, max, gradScales(), maximize())
                .as(Config::new);
        return Combinators.combine(configs, layouts(), logUniform(-5, -1), Arbitraries.integers().between(-60, 30),
                Arbitraries.longs()).as(Case::new);
    }
}
