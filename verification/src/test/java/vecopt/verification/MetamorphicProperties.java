package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import vecopt.optim.Adadelta;
import vecopt.optim.AdadeltaOptions;
import vecopt.optim.Adagrad;
import vecopt.optim.AdagradOptions;
import vecopt.optim.Adam;
import vecopt.optim.Adamax;
import vecopt.optim.Asgd;
import vecopt.optim.AsgdOptions;
import vecopt.optim.AdamaxOptions;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Lion;
import vecopt.optim.NAdam;
import vecopt.optim.NAdamOptions;
import vecopt.optim.LionOptions;
import vecopt.optim.Optimizer;
import vecopt.optim.RAdam;
import vecopt.optim.RAdamOptions;
import vecopt.optim.Rprop;
import vecopt.optim.RpropOptions;
import vecopt.optim.Rmsprop;
import vecopt.optim.RmspropOptions;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.param.ParamSet;

/**
 * Relations that must hold exactly, bit for bit, whatever the formulas' rounding: heap and off-heap agree, thread
 * counts agree, lr = 0 changes no parameter, AdamW and Adam coincide without weight decay, SGD with momentum 0 is
 * plain SGD, maximizing is minimizing the negated gradient.
 */
class MetamorphicProperties {

    /** Runs {@code steps} steps of fresh gradients from {@code seed}; returns params and all state, flattened. */
    static float[][] run(Rig rig, Optimizer<?> opt, long seed, int steps, double lr, int gradExp) {
        return run(rig, opt, seed, steps, lr, gradExp, false);
    }

    /** As above, with every gradient negated when {@code negate}. */
    static float[][] run(Rig rig, Optimizer<?> opt, long seed, int steps, double lr, int gradExp, boolean negate) {
        SplittableRandom r = new SplittableRandom(seed);
        rig.setParams(Rig.values(r, rig.length, -2, 3));
        for (int t = 0; t < steps; t++) {
            float[] g = Rig.values(r, rig.length, gradExp, 4);
            if (negate) {
                for (int i = 0; i < g.length; i++) {
                    g[i] = -g[i];
                }
            }
            rig.setGrads(g);
            opt.step(lr);
        }
        List<String> names = opt.stateNames();
        float[][] out = new float[1 + names.size()][];
        out[0] = rig.params();
        for (int i = 0; i < names.size(); i++) {
            out[i + 1] = Rig.toArray(opt.state("w", names.get(i)));
        }
        return out;
    }

    static void assertSame(float[][] a, float[][] b) {
        assertEquals(a.length, b.length);
        for (int i = 0; i < a.length; i++) {
            Check.bitwiseEqual(i == 0 ? "params" : "state " + i, a[i], b[i]);
        }
    }

    @Provide
    Arbitrary<AdamOptions> adamOptions() {
        return Arbitraries.of(AdamOptions.ADAMW_DEFAULTS, AdamOptions.LLM_PRETRAINING, AdamOptions.FINE_TUNING,
                AdamOptions.LLM_PRETRAINING.withAmsgrad(true), AdamOptions.ADAM_DEFAULTS.withWeightDecay(0.05));
    }

    @Property(tries = 40)
    void heapAndOffHeapAreBitwiseEqual(@ForAll("adamOptions") AdamOptions o, @ForAll @IntRange(max = 3000) int n,
                                       @ForAll long seed) {
        float[][] heap, native_;
        try (Rig rig = new Rig(3, n, false); AdamW opt = AdamW.builder(rig.set).options(o).threads(2).build()) {
            heap = run(rig, opt, seed, 20, 1e-3, -3);
        }
        try (Rig rig = new Rig(3, n, true); AdamW opt = AdamW.builder(rig.set).options(o).threads(2).build()) {
            native_ = run(rig, opt, seed, 20, 1e-3, -3);
        }
        assertSame(heap, native_);
    }

    @Property(tries = 10)
    void poolSizesOneToFourAreBitwiseEqualOver100Steps(@ForAll("adamOptions") AdamOptions o, @ForAll long seed,
                                                       @ForAll boolean offHeap) {
        int n = 3 * vecopt.exec.ChunkGrid.CHUNK + 1234; // four chunks, so threads really split the work
        float[][] first = null;
        double[] firstNorms = null;
        for (int threads = 1; threads <= 4; threads++) {
            try (Rig rig = new Rig(5, n, offHeap);
                 AdamW opt = AdamW.builder(rig.set).options(o).threads(threads).clipGradNorm(1.0).trackNorms(true)
                         .build()) {
                SplittableRandom r = new SplittableRandom(seed);
                rig.setParams(Rig.values(r, n, -2, 3));
                double[] norms = new double[300];
                for (int t = 0; t < 100; t++) {
                    rig.setGrads(Rig.values(r, n, -8, 4));
                    var rep = opt.step(1e-3);
                    norms[3 * t] = rep.gradNorm();
                    norms[3 * t + 1] = rep.updateNorm();
                    norms[3 * t + 2] = rep.paramNorm();
                }
                float[][] out = {rig.params(), Rig.toArray(opt.state("w", "exp_avg")),
                        Rig.toArray(opt.state("w", "exp_avg_sq"))};
                if (first == null) {
                    first = out;
                    firstNorms = norms;
                } else {
                    assertSame(first, out);
                    for (int i = 0; i < norms.length; i++) {
                        assertEquals(Double.doubleToRawLongBits(firstNorms[i]), Double.doubleToRawLongBits(norms[i]),
                                "report value " + i + " differs with " + threads + " threads");
                    }
                }
            }
        }
    }

    /** An optimizer under test, built with {@code maximize} on or off. */
    record Maker(String name, Build build) {
        /** Builds the optimizer over {@code set} with {@code maximize} on or off, on {@code threads} threads. */
        interface Build {
            Optimizer<?> apply(ParamSet set, boolean maximize, int threads);
        }

        Optimizer<?> build(ParamSet set, boolean maximize, int threads) {
            return build.apply(set, maximize, threads);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    @Provide
    Arbitrary<Maker> makers() {
        return Arbitraries.of(
                new Maker("AdamW", (s, max, th) -> AdamW.builder(s)
                        .options(AdamOptions.LLM_PRETRAINING.withMaximize(max)).threads(th).build()),
                new Maker("Adam L2 AMSGrad", (s, max, th) -> Adam.builder(s).options(AdamOptions.ADAM_DEFAULTS
                        .withWeightDecay(0.01).withAmsgrad(true).withMaximize(max)).threads(th).build()),
                new Maker("SGD Nesterov L2", (s, max, th) -> Sgd.builder(s).options(SgdOptions.MOMENTUM
                        .withNesterov(true).withWeightDecay(1e-3).withMaximize(max)).threads(th).build()),
                new Maker("SGD", (s, max, th) -> Sgd.builder(s).options(SgdOptions.PLAIN.withMaximize(max))
                        .threads(th).build()),
                new Maker("Adagrad L2", (s, max, th) -> Adagrad.builder(s).options(AdagradOptions.DEFAULTS
                        .withWeightDecay(0.01).withLrDecay(0.01).withInitialAccumulatorValue(0.1).withMaximize(max))
                        .threads(th).build()),
                new Maker("RMSprop centered momentum L2", (s, max, th) -> Rmsprop.builder(s).options(RmspropOptions
                        .DEFAULTS.withCentered(true).withMomentum(0.9).withWeightDecay(0.01).withMaximize(max))
                        .threads(th).build()),
                new Maker("RMSprop", (s, max, th) -> Rmsprop.builder(s).options(RmspropOptions.DEFAULTS
                        .withMaximize(max)).threads(th).build()),
                new Maker("Lion", (s, max, th) -> Lion.builder(s).options(LionOptions.DEFAULTS.withWeightDecay(0.5)
                        .withMaximize(max)).threads(th).build()),
                new Maker("Adamax L2", (s, max, th) -> Adamax.builder(s).options(AdamaxOptions.DEFAULTS
                        .withWeightDecay(0.01).withMaximize(max)).threads(th).build()),
                new Maker("NAdam L2", (s, max, th) -> NAdam.builder(s).options(NAdamOptions.DEFAULTS
                        .withWeightDecay(0.01).withMaximize(max)).threads(th).build()),
                new Maker("NAdamW", (s, max, th) -> NAdam.builder(s).options(NAdamOptions.DEFAULTS
                        .withWeightDecay(0.1).withDecoupledWeightDecay(true).withMaximize(max)).threads(th).build()),
                new Maker("RAdam L2", (s, max, th) -> RAdam.builder(s).options(RAdamOptions.DEFAULTS
                        .withWeightDecay(0.01).withMaximize(max)).threads(th).build()),
                new Maker("Adadelta L2", (s, max, th) -> Adadelta.builder(s).options(AdadeltaOptions.DEFAULTS
                        .withWeightDecay(0.01).withMaximize(max)).threads(th).build()),
                new Maker("Rprop", (s, max, th) -> Rprop.builder(s).options(RpropOptions.DEFAULTS.withMaximize(max))
                        .threads(th).build()),
                new Maker("ASGD L2 averaging", (s, max, th) -> Asgd.builder(s).options(AsgdOptions.DEFAULTS
                        .withT0(2).withLambd(0.01).withWeightDecay(0.01).withMaximize(max)).threads(th).build()),
                new Maker("RAdamW", (s, max, th) -> RAdam.builder(s).options(RAdamOptions.DEFAULTS
                        .withWeightDecay(0.1).withDecoupledWeightDecay(true).withMaximize(max)).threads(th).build()));
    }

    /**
     * Heap and off-heap buffers, one thread and a pool of two, give the same parameters and state bit for bit, for
     * every optimizer (over two chunks of the grid, so two threads really split the tensor).
     */
    @Property(tries = 12)
    void memoryAndThreadCountsAreBitwiseEqual(@ForAll("makers") Maker maker, @ForAll boolean maximize,
                                              @ForAll long seed) {
        int n = 2 * vecopt.exec.ChunkGrid.CHUNK + 77;
        float[][] first = null;
        for (int run = 0; run < 3; run++) { // heap / 1 thread, heap / 2 threads, off-heap / 2 threads
            try (Rig rig = new Rig(3, n, run == 2);
                 Optimizer<?> opt = maker.build(rig.set, maximize, run == 0 ? 1 : 2)) {
                float[][] out = run(rig, opt, seed, 8, 1e-2, -4);
                if (first == null) {
                    first = out;
                } else {
                    assertSame(first, out);
                }
            }
        }
    }

    /**
     * PyTorch's {@code maximize} negates the gradient before anything else reads it, so maximizing with gradients
     * g is minimizing with -g, bit for bit (negation is exact). Weight decay is on in most makers: a negation
     * placed after the L2 term would break this.
     */
    @Property(tries = 40)
    void maximizeIsMinimizingTheNegatedGradient(@ForAll("makers") Maker maker, @ForAll @IntRange(max = 2000) int n,
                                                @ForAll long seed) {
        float[][] max, min;
        try (Rig rig = new Rig(1, n, seed % 2 == 0); Optimizer<?> opt = maker.build(rig.set, true, 2)) {
            max = run(rig, opt, seed, 12, 1e-2, -3, false);
        }
        try (Rig rig = new Rig(1, n, seed % 2 == 0); Optimizer<?> opt = maker.build(rig.set, false, 2)) {
            min = run(rig, opt, seed, 12, 1e-2, -3, true);
        }
        assertSame(max, min);
    }

    @Property(tries = 60)
    void zeroLrChangesNoParameterButUpdatesState(@ForAll("adamOptions") AdamOptions o,
                                                @ForAll @IntRange(max = 2000) int n, @ForAll long seed) {
        try (Rig rig = new Rig(1, n, seed % 2 == 0); AdamW opt = AdamW.builder(rig.set).options(o).build()) {
            SplittableRandom r = new SplittableRandom(seed);
            float[] p = Rig.values(r, n, -2, 3);
            rig.setParams(p);
            rig.setGrads(Rig.values(r, n, -4, 4));
            opt.step(0.0);
            Check.bitwiseEqual("params after lr=0", p, rig.params());
            float[] m = Rig.toArray(opt.state("w", "exp_avg"));
            float[] g = rig.grads();
            for (int i = 0; i < n; i++) {
                if (g[i] != 0) {
                    assertFalse(m[i] == 0f && o.beta1() < 1, "exp_avg was not updated at " + i);
                }
            }
            assertEquals(1, opt.steps());
        }
    }

    @Property(tries = 40)
    void adamWWithoutDecayIsAdamWithoutDecay(@ForAll("adamOptions") AdamOptions o,
                                             @ForAll @IntRange(max = 2000) int n, @ForAll long seed) {
        AdamOptions noDecay = o.withWeightDecay(0);
        float[][] w, a;
        try (Rig rig = new Rig(0, n, false); AdamW opt = AdamW.builder(rig.set).options(noDecay).build()) {
            w = run(rig, opt, seed, 30, 3e-3, -5);
        }
        try (Rig rig = new Rig(0, n, false); Adam opt = Adam.builder(rig.set).options(noDecay).build()) {
            a = run(rig, opt, seed, 30, 3e-3, -5);
        }
        assertSame(w, a);
    }

    @Property(tries = 40)
    void sgdWithMomentumZeroIsPlainSgd(@ForAll @IntRange(max = 2000) int n, @ForAll long seed,
                                       @ForAll boolean weightDecay) {
        SgdOptions plain = SgdOptions.PLAIN.withWeightDecay(weightDecay ? 1e-3 : 0);
        float[][] zeroMomentum, reference;
        try (Rig rig = new Rig(2, n, true);
             Sgd opt = Sgd.builder(rig.set).options(plain.withMomentum(0).withDampening(0.3)).build()) {
            zeroMomentum = run(rig, opt, seed, 10, 0.05, -2);
            assertEquals(List.of(), opt.stateNames(), "momentum 0 keeps no buffer");
        }
        try (Rig rig = new Rig(2, n, true)) { // plain SGD by hand: p = fma(g, -lr, p) per element, in float
            SplittableRandom r = new SplittableRandom(seed);
            float[] p = Rig.values(r, n, -2, 3);
            for (int t = 0; t < 10; t++) {
                float[] g = Rig.values(r, n, -2, 4);
                for (int i = 0; i < n; i++) {
                    float gi = weightDecay ? Math.fma(p[i], (float) 1e-3, g[i] * 1f) : g[i] * 1f;
                    p[i] = Math.fma(gi, (float) -0.05, p[i]);
                }
            }
            reference = new float[][] {p};
        }
        assertSame(zeroMomentum, reference);
    }
}
