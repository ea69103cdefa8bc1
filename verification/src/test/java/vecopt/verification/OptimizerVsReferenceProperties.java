package vecopt.verification;

import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import vecopt.kernel.KernelProvider;
import vecopt.optim.Adam;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.Sgd;
import vecopt.exec.ChunkGrid;
import vecopt.reference.AdamReference;
import vecopt.reference.SgdReference;

/**
 * The engine's AdamW, Adam (L2), AMSGrad and SGD (momentum, dampening, Nesterov, L2), each also with
 * {@code maximize}, against the scalar reference,
 * element by element, on single steps and on trajectories of 100 steps. Each step is checked from the engine's own
 * state before it (so a wrong step counter, bias correction or lost state write shows at the step where it happens),
 * against the tolerance {@link AdamBound} / {@link SgdBound} derive for that element.
 */
class OptimizerVsReferenceProperties {
    static final int LANES = KernelProvider.kernels().lanes();

    /** Shape of a case: where the tensor sits, how long it is, which memory, how many threads, how many steps. */
    record Layout(int length, int offset, boolean offHeap, int threads, int steps) {
    }

    record AdamCase(AdamConfig config, Layout layout, double lr, int gradExp, long seed) {
    }

    record SgdCase(SgdConfig config, Layout layout, double lr, int gradExp, long seed) {
    }

    @Property(tries = 150)
    void adamFamilyMatchesReference(@ForAll("adamCases") AdamCase k) {
        AdamConfig c = k.config();
        Layout l = k.layout();
        SplittableRandom rnd = new SplittableRandom(k.seed());
        try (Rig rig = new Rig(l.offset(), l.length(), l.offHeap());
             Optimizer<?> opt = c.decoupled()
                     ? AdamW.builder(rig.set).options(c.options()).threads(l.threads()).build()
                     : Adam.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            rig.setParams(Rig.values(rnd, l.length(), rnd.nextInt(-8, 3), 3));
            for (int t = 1; t <= l.steps(); t++) {
                rig.setGrads(Rig.values(rnd, l.length(), k.gradExp(), 4));
                float[] p = rig.params(), g = rig.grads();
                float[] m = Rig.toArray(opt.state("w", "exp_avg")), v = Rig.toArray(opt.state("w", "exp_avg_sq"));
                float[] x = c.amsgrad() ? Rig.toArray(opt.state("w", "max_exp_avg_sq")) : null;
                float[] p0 = p.clone(), m0 = m.clone(), v0 = v.clone(), x0 = x == null ? null : x.clone();
                if (c.gradScale() != 1) {
                    opt.step(k.lr(), c.gradScale());
                } else {
                    opt.step(k.lr());
                }
                AdamReference.step(p, g, m, v, x, 0, l.length(), k.lr(), c.beta1(), c.beta2(), c.eps(),
                        c.weightDecay(), c.decoupled(), t, c.gradScale(), c.maximize());
                float[] pe = rig.params(), me = Rig.toArray(opt.state("w", "exp_avg"));
                float[] ve = Rig.toArray(opt.state("w", "exp_avg_sq"));
                float[] xe = c.amsgrad() ? Rig.toArray(opt.state("w", "max_exp_avg_sq")) : null;
                for (int i = 0; i < l.length(); i++) {
                    AdamBound b = AdamBound.of(c, k.lr(), t, p0[i], g[i], m0[i], v0[i], x0 == null ? 0 : x0[i]);
                    String at = "step " + t + ", element " + i + " (p=" + p0[i] + ", g=" + g[i] + ", m=" + m0[i]
                            + ", v=" + v0[i] + ")";
                    Check.within("exp_avg", at, me[i], m[i], b.m());
                    Check.within("exp_avg_sq", at, ve[i], v[i], b.v());
                    if (xe != null) {
                        Check.within("max_exp_avg_sq", at, xe[i], x[i], b.vmax());
                    }
                    Check.within("param", at, pe[i], p[i], b.p());
                }
                Check.guards(rig);
            }
        }
    }

    @Property(tries = 150)
    void sgdMatchesReference(@ForAll("sgdCases") SgdCase k) {
        SgdConfig c = k.config();
        Layout l = k.layout();
        SplittableRandom rnd = new SplittableRandom(k.seed());
        try (Rig rig = new Rig(l.offset(), l.length(), l.offHeap());
             Sgd opt = Sgd.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            rig.setParams(Rig.values(rnd, l.length(), rnd.nextInt(-8, 3), 3));
            boolean momentum = c.momentum() != 0;
            for (int t = 1; t <= l.steps(); t++) {
                rig.setGrads(Rig.values(rnd, l.length(), k.gradExp(), 4));
                float[] p = rig.params(), g = rig.grads();
                float[] buf = momentum ? Rig.toArray(opt.state("w", "momentum_buffer")) : null;
                float[] p0 = p.clone(), buf0 = buf == null ? null : buf.clone();
                if (c.gradScale() != 1) {
                    opt.step(k.lr(), c.gradScale());
                } else {
                    opt.step(k.lr());
                }
                SgdReference.step(p, g, buf, 0, l.length(), k.lr(), c.momentum(), c.dampening(), c.weightDecay(),
                        c.nesterov(), t == 1, c.gradScale(), c.maximize());
                float[] pe = rig.params();
                float[] be = momentum ? Rig.toArray(opt.state("w", "momentum_buffer")) : null;
                for (int i = 0; i < l.length(); i++) {
                    SgdBound b = SgdBound.of(c, k.lr(), t == 1, p0[i], g[i], buf0 == null ? 0 : buf0[i]);
                    String at = "step " + t + ", element " + i + " (p=" + p0[i] + ", g=" + g[i] + ")";
                    if (be != null) {
                        Check.within("momentum_buffer", at, be[i], buf[i], b.buf());
                    }
                    Check.within("param", at, pe[i], p[i], b.p());
                }
                Check.guards(rig);
            }
        }
    }

    // ---- generators: edge cases first (PyTorch defaults, lengths around the vector width), then the valid ranges

    static Arbitrary<Layout> layouts() {
        Arbitrary<Integer> edgeLengths = Arbitraries.of(0, 1, LANES - 1, LANES, LANES + 1, 1021);
        Arbitrary<Integer> anyLength = Arbitraries.integers().between(0, 3000);
        Arbitrary<Integer> offsets = Arbitraries.integers().between(0, 37).edgeCases(config -> config.includeOnly(0, 1));
        Arbitrary<Layout> small = Combinators.combine(
                Arbitraries.frequencyOf(Tuple.of(1, edgeLengths), Tuple.of(1, anyLength)), offsets,
                Arbitraries.of(false, true), Arbitraries.integers().between(1, 3), Arbitraries.of(1, 100))
                .as(Layout::new);
        // Longer than one chunk: crosses the grid, so several chunks (and threads) share the tensor. Few steps: each
        // step checks every element against its derived bound.
        Arbitrary<Layout> large = Combinators.combine(
                Arbitraries.integers().between(ChunkGrid.CHUNK + 1, ChunkGrid.CHUNK + 3 * LANES + 7), offsets,
                Arbitraries.of(false, true), Arbitraries.integers().between(1, 3), Arbitraries.integers().between(1, 2))
                .as(Layout::new);
        return Arbitraries.frequencyOf(Tuple.of(9, small), Tuple.of(1, large));
    }

    static Arbitrary<Double> logUniform(double fromExp10, double toExp10) {
        return Arbitraries.doubles().between(fromExp10, toExp10).ofScale(6).map(e -> Math.pow(10, e));
    }

    static Arbitrary<Double> gradScales() {
        return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(1.0)),
                Tuple.of(1, Arbitraries.doubles().between(1e-3, 1.0).ofScale(6)));
    }

    /** PyTorch's {@code maximize}: one case in four. */
    static Arbitrary<Boolean> maximize() {
        return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(false)), Tuple.of(1, Arbitraries.just(true)));
    }

    @Provide
    Arbitrary<AdamCase> adamCases() {
        Arbitrary<Double> beta1 = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.9, 0.0)),
                Tuple.of(2, Arbitraries.doubles().between(0, 0.999).ofScale(6)));
        Arbitrary<Double> beta2 = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.999, 0.95, 0.0)),
                Tuple.of(2, Arbitraries.doubles().between(0, 0.99999).ofScale(6)));
        Arbitrary<Double> eps = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(1e-8)),
                Tuple.of(2, logUniform(-12, -3)));
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(2, Arbitraries.doubles().between(1e-4, 0.3).ofScale(6)));
        Arbitrary<AdamConfig> configs = Combinators.combine(Arbitraries.of(true, false), beta1, beta2, eps, wd,
                Arbitraries.of(false, true), gradScales(), maximize()).as(AdamConfig::new);
        return Combinators.combine(configs, layouts(), logUniform(-6, -1), Arbitraries.integers().between(-60, 30),
                Arbitraries.longs()).as(AdamCase::new);
    }

    @Provide
    Arbitrary<SgdCase> sgdCases() {
        Arbitrary<Double> momentum = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.of(0.0, 0.9)),
                Tuple.of(2, Arbitraries.doubles().between(0, 0.99).ofScale(6)));
        Arbitrary<Double> dampening = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.doubles().between(0, 1).ofScale(6)));
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.doubles().between(1e-5, 0.1).ofScale(6)));
        Arbitrary<SgdConfig> configs = Combinators.combine(momentum, dampening, wd, Arbitraries.of(false, true),
                        gradScales(), maximize())
                .filter((mom, damp, w, nest, s, max) -> !nest || (mom > 0 && damp == 0))
                .as(SgdConfig::new);
        return Combinators.combine(configs, layouts(), logUniform(-5, 0), Arbitraries.integers().between(-60, 30),
                Arbitraries.longs()).as(SgdCase::new);
    }
}
