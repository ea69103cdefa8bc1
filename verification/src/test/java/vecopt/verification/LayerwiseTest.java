package vecopt.verification;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import vecopt.clip.NonFinite;
import vecopt.exec.ChunkGrid;
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.optim.Lars;
import vecopt.optim.LarsOptions;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;
import vecopt.reference.LambReference;
import vecopt.reference.LarsReference;

/**
 * LAMB and LARS beyond the properties: bitwise determinism over thread counts and heap or off-heap buffers (per
 * tensor norms summed over the chunk grid in its order), and the trust ratio's edge cases: zero weights, a zero
 * update, non-finite gradients and parameters.
 */
class LayerwiseTest {
    /** Tensors around and across the chunk grid, back to back: a norm spanning three chunks, chunks shared by two. */
    private static final int[] LENGTHS = {3, 2 * ChunkGrid.CHUNK + 77, 1021, 5, ChunkGrid.CHUNK - 2};

    private static final List<BiFunction<ParamSet, Integer, Optimizer<?>>> MAKERS = List.of(
            (s, threads) -> Lamb.builder(s).options(LambOptions.DEFAULTS.withWeightDecay(0.01)).clipGradNorm(1.0)
                    .group("no_decay", LambOptions.DEFAULTS.withMaxWeightNorm(10), t -> t.name().equals("t3"))
                    .threads(threads).build(),
            (s, threads) -> Lars.builder(s).options(LarsOptions.DEFAULTS.withWeightDecay(1e-4).withNesterov(true))
                    .group("no_adapt", LarsOptions.DEFAULTS.withTrustRatio(false), t -> t.name().equals("t0"))
                    .clipGradNorm(1.0).threads(threads).build());

    /** Parameters, state and ratios of 4 steps from the same data: threads 1 on the heap is the baseline. */
    private static List<float[]> run(int maker, int threads, boolean offHeap) {
        SplittableRandom r = new SplittableRandom(99);
        try (TensorsRig rig = new TensorsRig(LENGTHS, false, offHeap)) {
            rig.randomize(r, -1, -6);
            try (Optimizer<?> opt = MAKERS.get(maker).apply(rig.set, threads)) {
                List<float[]> out = new ArrayList<>();
                for (int step = 0; step < 4; step++) {
                    for (int t = 0; t < rig.count(); t++) {
                        rig.setGrads(t, Rig.values(r, LENGTHS[t], -6, 4));
                    }
                    opt.step(0.01);
                    float[] ratios = new float[rig.count() * 2];
                    for (int t = 0; t < rig.count(); t++) {
                        double x = opt instanceof Lamb l ? l.trustRatio("t" + t) : ((Lars) opt).trustRatio("t" + t);
                        ratios[2 * t] = (float) x;
                        ratios[2 * t + 1] = (float) (x - (float) x); // the double's low bits too
                    }
                    out.add(ratios);
                }
                for (int t = 0; t < rig.count(); t++) {
                    out.add(rig.params(t));
                    for (String s : opt.stateNames()) {
                        out.add(Rig.toArray(opt.state("t" + t, s)));
                    }
                }
                return out;
            }
        }
    }

    @Test
    void bitwiseTheSameForAnyThreadCountHeapOrOffHeap() {
        for (int maker = 0; maker < MAKERS.size(); maker++) {
            List<float[]> base = run(maker, 1, false);
            for (int threads = 1; threads <= 3; threads++) {
                for (boolean offHeap : new boolean[] {false, true}) {
                    if (threads == 1 && !offHeap) {
                        continue;
                    }
                    List<float[]> other = run(maker, threads, offHeap);
                    for (int i = 0; i < base.size(); i++) {
                        Check.bitwiseEqual((maker == 0 ? "LAMB" : "LARS") + " array " + i + ", " + threads
                                + " threads" + (offHeap ? ", off-heap" : ""), base.get(i), other.get(i));
                    }
                }
            }
        }
    }

    /** Zero weights: ratio 1 (the update unscaled), for LAMB and LARS, bitwise as the references give it. */
    @Test
    void zeroWeightsTakeRatioOne() {
        float[] g = {0.5f, -0.25f, 2, 1};
        try (Rig rig = new Rig(1, 4, true); Lamb opt = Lamb.builder(rig.set).threads(1).build()) {
            rig.setParams(new float[4]);
            rig.setGrads(g);
            opt.step(0.1);
            float[] p = new float[4], m = new float[4], v = new float[4];
            double ratio = LambReference.step(p, g, m, v, 0, 4, 0.1, 0.9, 0.999, 1e-6, 0, 0, Double.POSITIVE_INFINITY,
                    1, 1, false);
            check(ratio == 1 && opt.trustRatio("w") == 1, "LAMB ratio " + opt.trustRatio("w") + ", ref " + ratio);
            LambProperties.Bound b = LambProperties.bound(new LambProperties.Config(0.9, 0.999, 1e-6, 0, 0,
                    Double.POSITIVE_INFINITY, 1, false), 0.1, 1, new float[4], g, new float[4], new float[4], ratio);
            for (int i = 0; i < 4; i++) {
                Check.within("param", "element " + i, rig.params()[i], p[i], b.p()[i]);
            }
        }
        try (Rig rig = new Rig(1, 4, false); Lars opt = Lars.builder(rig.set).threads(1).build()) {
            rig.setParams(new float[4]);
            rig.setGrads(g);
            opt.step(0.1);
            // ratio 1: p = -lr g exactly (-0.1 g is one float rounding in both)
            check(opt.trustRatio("w") == 1, "LARS ratio " + opt.trustRatio("w"));
            for (int i = 0; i < 4; i++) {
                check(rig.params()[i] == (float) (-0.1f * g[i]), "LARS param " + i + " " + rig.params()[i]);
            }
        }
    }

    /** A zero update (zero gradients, no decay): ratio 1, and the parameters stay bitwise where they were. */
    @Test
    void zeroUpdateTakesRatioOneAndMovesNothing() {
        float[] p = {3, -4, 0.5f};
        try (Rig rig = new Rig(0, 3, false); Lamb lamb = Lamb.builder(rig.set).threads(1).build()) {
            rig.setParams(p);
            rig.setGrads(new float[3]);
            lamb.step(0.1);
            check(lamb.trustRatio("w") == 1, "LAMB ratio " + lamb.trustRatio("w"));
            Check.bitwiseEqual("LAMB params", p, rig.params());
        }
        try (Rig rig = new Rig(0, 3, true); Lars lars = Lars.builder(rig.set).threads(1).build()) {
            rig.setParams(p);
            rig.setGrads(new float[3]);
            lars.step(0.1);
            check(lars.trustRatio("w") == 1, "LARS ratio " + lars.trustRatio("w"));
            Check.bitwiseEqual("LARS params", p, rig.params());
        }
    }

    /**
     * Non-finite input. Under the default policy (SKIP) a NaN gradient changes nothing. Under PROCEED it reaches the
     * ratio as in optax: that tensor's norm is NaN, so its ratio and every one of its parameters are NaN, as the
     * reference's; the other tensors' norms and updates do not see it. An infinite parameter makes the ratio NaN,
     * as in the references: the update holds {@code wd * inf}, NaN even at LARS's default decay 0 (optax's
     * {@code g + 0 * p}), and LAMB's {@code ||w|| / ||u||} is {@code inf / inf}.
     */
    @Test
    void nonFiniteGradientsAndParameters() {
        SplittableRandom r = new SplittableRandom(3);
        try (TensorsRig rig = new TensorsRig(new int[] {40, 40}, false, false);
             Lamb skip = Lamb.builder(rig.set).threads(2).build()) {
            rig.randomize(r, 0, -3);
            float[] g = rig.grads(0);
            g[7] = Float.NaN;
            rig.setGrads(0, g);
            float[] p0 = rig.params(0), p1 = rig.params(1);
            check(skip.step(0.1).skipped(), "a NaN gradient skips the step under SKIP");
            Check.bitwiseEqual("params of t0", p0, rig.params(0));
            Check.bitwiseEqual("params of t1", p1, rig.params(1));
        }
        try (TensorsRig rig = new TensorsRig(new int[] {40, 40}, false, true);
             Lars opt = Lars.builder(rig.set).onNonFinite(NonFinite.PROCEED).threads(2).build()) {
            rig.randomize(r, 0, -3);
            float[] g0 = rig.grads(0), g1 = rig.grads(1);
            g0[7] = Float.NaN;
            rig.setGrads(0, g0);
            float[] p0 = rig.params(0), p1 = rig.params(1), t0 = new float[40], t1 = new float[40];
            opt.step(0.1);
            LarsReference.step(p0, g0, t0, 0, 40, 0.1, 0, 0.001, 0, true, 0.9, false, 1, false);
            double r1 = LarsReference.step(p1, g1, t1, 0, 40, 0.1, 0, 0.001, 0, true, 0.9, false, 1, false);
            check(Double.isNaN(opt.trustRatio("t0")), "ratio of the NaN tensor " + opt.trustRatio("t0"));
            for (int i = 0; i < 40; i++) {
                check(Float.isNaN(rig.params(0)[i]) && Float.isNaN(p0[i]), "t0 element " + i + " is NaN in both");
            }
            check(Math.abs(opt.trustRatio("t1") - r1) <= 0x1p-22 * r1, "t1 ratio " + opt.trustRatio("t1") + " vs " + r1);
            for (int i = 0; i < 40; i++) {
                check(Float.isFinite(rig.params(1)[i]), "t1 element " + i + " finite");
            }
        }
        for (boolean lamb : new boolean[] {false, true}) {
            try (Rig rig = new Rig(0, 4, false);
                 Optimizer<?> opt = lamb
                         ? Lamb.builder(rig.set).options(LambOptions.DEFAULTS.withWeightDecay(0.01))
                         .onNonFinite(NonFinite.PROCEED).threads(1).build()
                         : Lars.builder(rig.set).onNonFinite(NonFinite.PROCEED).threads(1).build()) {
                float[] p = {1, Float.POSITIVE_INFINITY, -2, 0.5f}, g = {0.5f, 0.25f, -1, 2};
                rig.setParams(p);
                rig.setGrads(g);
                opt.step(0.1);
                float[] rp = p.clone();
                double ratio = lamb
                        ? LambReference.step(rp, g, new float[4], new float[4], 0, 4, 0.1, 0.9, 0.999, 1e-6, 0, 0.01,
                        Double.POSITIVE_INFINITY, 1, 1, false)
                        : LarsReference.step(rp, g, new float[4], 0, 4, 0.1, 0, 0.001, 0, true, 0.9, false, 1, false);
                double engine = lamb ? ((Lamb) opt).trustRatio("w") : ((Lars) opt).trustRatio("w");
                check(Double.compare(engine, ratio) == 0, (lamb ? "LAMB" : "LARS") + " ratio " + engine + " vs "
                        + ratio);
                check(Double.isNaN(ratio), "reference ratio " + ratio);
                for (int i = 0; i < 4; i++) {
                    float e = rig.params()[i];
                    check(Float.isFinite(e) == Float.isFinite(rp[i]) && Float.isNaN(e) == Float.isNaN(rp[i]),
                            "element " + i + ": engine " + e + ", reference " + rp[i]);
                }
            }
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
