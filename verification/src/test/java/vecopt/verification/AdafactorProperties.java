package vecopt.verification;

import static vecopt.verification.OptimizerVsReferenceProperties.LANES;
import static vecopt.verification.OptimizerVsReferenceProperties.gradScales;
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

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Arrays;
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
import vecopt.optim.Adafactor;
import vecopt.optim.AdafactorOptions;
import vecopt.reference.AdafactorReference;

/**
 * Adafactor against Hugging Face's {@code Adafactor.step} ({@link AdafactorReference}) on sets of shaped tensors
 * (1 x N, N x 1, M x N around the vector width and around the chunk size, rank 3, 1-D), each step from the
 * engine's own state before it, every parameter, moment and row/column state within the bound {@link #bound}
 * derives; the row and column sums and RMS(p) against exact sums; SIMD against scalar, thread counts and
 * heap/off-heap bitwise; a hand-computed two-step example; bad options refused by name.
 */
class AdafactorProperties {
    record Config(AdafactorOptions options, double lrFactor, double gradScale, boolean maximize) {
        double signedScale() {
            return maximize ? -(float) gradScale : (float) gradScale;
        }

        AdafactorReference.Options reference() {
            AdafactorOptions o = options;
            return new AdafactorReference.Options(o.lr(), o.eps1(), o.eps2(), o.clipThreshold(), o.decayRate(),
                    o.beta1(), o.weightDecay(), o.scaleParameter(), o.relativeStep(), o.warmupInit());
        }
    }

    record Layout(long[][] shapes, int[] gaps, boolean offHeap, int threads, int steps) {
        @Override
        public String toString() {
            StringBuilder b = new StringBuilder("Layout[");
            for (long[] s : shapes) {
                b.append(Arrays.toString(s));
            }
            return b.append(" gaps ").append(Arrays.toString(gaps)).append(offHeap ? " off-heap" : "").append(", ")
                    .append(threads).append(" threads, ").append(steps).append(" steps]").toString();
        }
    }

    record Case(Config config, Layout layout, int gradExp, long seed) {
    }

    @Property(tries = 60)
    void matchesReference(@ForAll("cases") Case k) {
        run(k);
    }

    /** 100-step trajectories of a few small tensors (each step checked from the engine's state before it). */
    @Property(tries = 6)
    void matchesReferenceOver100Steps(@ForAll("configs") Config c, @ForAll long seed) {
        long[][] shapes = {{LANES + 1, LANES - 1}, {3, LANES, 5}, {LANES + 3}, {1, 2 * LANES + 1}, {LANES, 1}};
        run(new Case(c, new Layout(shapes, new int[] {0, 3, 0, 1, 0}, seed % 2 == 0, 2, 100), -4, seed));
    }

    private static void run(Case k) {
        Config c = k.config();
        Layout l = k.layout();
        SplittableRandom rnd = new SplittableRandom(k.seed());
        try (ShapedRig rig = new ShapedRig(l.shapes(), l.gaps(), l.offHeap());
             Adafactor opt = Adafactor.builder(rig.set).options(c.options()).threads(l.threads()).build()) {
            rig.randomize(rnd, rnd.nextInt(-8, 3), k.gradExp());
            for (int t = 1; t <= l.steps(); t++) {
                int n = rig.count();
                float[][] p0 = new float[n][], g = new float[n][];
                AdafactorReference.State[] s0 = new AdafactorReference.State[n];
                for (int i = 0; i < n; i++) {
                    rig.setGrads(i, Rig.grads(rnd, rig.lengths[i], k.gradExp()));
                    p0[i] = rig.params(i);
                    g[i] = rig.grads(i);
                    s0[i] = state(opt, "t" + i, l.shapes()[i], t - 1);
                }
                if (c.gradScale() != 1) {
                    opt.step(c.lrFactor(), c.gradScale());
                } else {
                    opt.step(c.lrFactor());
                }
                for (int i = 0; i < n; i++) {
                    check(c, "tensor t" + i + " " + Arrays.toString(l.shapes()[i]) + " step " + t, l.shapes()[i],
                            p0[i], g[i], s0[i], rig.params(i), state(opt, "t" + i, l.shapes()[i], t));
                }
                if (!rig.guardsIntact()) {
                    throw new AssertionError("an element outside the tensors was written");
                }
            }
        }
    }

    /** The engine's state of a tensor, as the reference's. */
    static AdafactorReference.State state(Adafactor opt, String name, long[] shape, long steps) {
        AdafactorReference.State s = new AdafactorReference.State();
        s.step = steps;
        if (shape.length >= 2) {
            s.expAvgSqRow = Rig.toArray(opt.state(name, "exp_avg_sq_row"));
            s.expAvgSqCol = Rig.toArray(opt.state(name, "exp_avg_sq_col"));
        } else {
            s.expAvgSq = Rig.toArray(opt.state(name, "exp_avg_sq"));
        }
        if (opt.stateNames().contains("exp_avg") && opt.groups().get(0).options().beta1() != null) {
            s.expAvg = Rig.toArray(opt.state(name, "exp_avg"));
        }
        return s;
    }

    private static AdafactorReference.State copy(AdafactorReference.State s) {
        AdafactorReference.State c = new AdafactorReference.State();
        c.step = s.step;
        c.expAvgSqRow = s.expAvgSqRow == null ? null : s.expAvgSqRow.clone();
        c.expAvgSqCol = s.expAvgSqCol == null ? null : s.expAvgSqCol.clone();
        c.expAvgSq = s.expAvgSq == null ? null : s.expAvgSq.clone();
        c.expAvg = s.expAvg == null ? null : s.expAvg.clone();
        return c;
    }

    /** One tensor's step: the reference from the engine's state before it, then every value within its bound. */
    private static void check(Config c, String where, long[] shape, float[] p0, float[] g,
                              AdafactorReference.State s0, float[] pe, AdafactorReference.State se) {
        int n = p0.length;
        float[] p = p0.clone();
        AdafactorReference.State r = copy(s0);
        AdafactorReference.step(p, g, shape, r, c.reference(), c.lrFactor(), c.gradScale(), c.maximize());
        Bound b = bound(c, shape, p0, g, s0);
        for (int i = 0; i < n; i++) {
            String at = where + ", element " + i + " (p=" + p0[i] + ", g=" + g[i] + ")";
            Check.within("param", at, pe[i], p[i], b.p()[i]);
            if (r.expAvg != null) {
                Check.within("exp_avg", at, se.expAvg[i], r.expAvg[i], b.m()[i]);
            }
            if (r.expAvgSq != null) {
                Check.within("exp_avg_sq", at, se.expAvgSq[i], r.expAvgSq[i], b.v()[i]);
            }
        }
        if (r.expAvgSqRow != null) {
            for (int i = 0; i < r.expAvgSqRow.length; i++) {
                Check.within("exp_avg_sq_row", where + ", row " + i, se.expAvgSqRow[i], r.expAvgSqRow[i], b.row()[i]);
            }
            for (int i = 0; i < r.expAvgSqCol.length; i++) {
                Check.within("exp_avg_sq_col", where + ", col " + i, se.expAvgSqCol[i], r.expAvgSqCol[i], b.col()[i]);
            }
        }
    }

    record Bound(double[] p, double[] m, double[] v, double[] row, double[] col) {
    }

    /** A sum in double of traced values, in any order: within (n + 1) 2^-52 (sum |x| + E) of itself (Higham 4.4). */
    private static Traced dsum(Traced[] xs, int from, int count, int stride) {
        double s = 0, a = 0, e = 0;
        for (int i = 0, k = from; i < count; i++, k += stride) {
            s += xs[k].x();
            a += Math.abs(xs[k].x());
            e += xs[k].err();
        }
        a *= 1 + 0x1p-50;
        return new Traced(s, e + (count + 1) * 0x1p-52 * (a + e));
    }

    /**
     * The tolerances: the engine's float sequence ({@code AdafactorStep}: the row and column means of
     * {@code g*g + eps1} summed in double and rounded, the state's fused updates, the factors, u, the RMS and
     * clipping, the lr, the first moment, the decay and the update) traced, plus the reference's double sequence
     * with its float stores traced, so |engine - reference| <= the sum of the two errors. The per-tensor
     * reductions (the norms of p and u, the row means) carry every element's error into every element's bound.
     */
    static Bound bound(Config c, long[] shape, float[] p0, float[] g0, AdafactorReference.State s0) {
        AdafactorOptions o = c.options();
        int n = p0.length;
        long t = s0.step + 1;
        double b2t = 1.0 - Math.pow(t, o.decayRate());
        Traced[] ge = new Traced[n], gr = new Traced[n], we = new Traced[n], wr = new Traced[n];
        for (int i = 0; i < n; i++) {
            ge[i] = mul(exact(g0[i]), exact(c.signedScale()), FLOAT);
            gr[i] = mul(exact(g0[i]), exact(c.signedScale()), DOUBLE);
            we[i] = add(mul(ge[i], ge[i], FLOAT), floatConstant(o.eps1()), FLOAT);
            wr[i] = add(mul(gr[i], gr[i], DOUBLE), exact(o.eps1()), DOUBLE);
        }
        Traced[] ue = new Traced[n], ur = new Traced[n];
        double[] bv = new double[n], brow = new double[0], bcol = new double[0];
        if (shape.length >= 2) {
            int cols = (int) shape[shape.length - 1], rows = (int) shape[shape.length - 2], batches = n / (rows * cols);
            Traced[] rowE = new Traced[batches * rows], rowR = new Traced[batches * rows];
            Traced[] colE = new Traced[batches * cols], colR = new Traced[batches * cols];
            brow = new double[rowE.length];
            bcol = new double[colE.length];
            for (int rr = 0; rr < rowE.length; rr++) {
                Traced me = div(dsum(we, rr * cols, cols, 1), exact(cols), DOUBLE).round(FLOAT);
                Traced mr = div(dsum(wr, rr * cols, cols, 1), exact(cols), DOUBLE);
                rowE[rr] = fma(me, floatConstant(1 - b2t), mul(exact(s0.expAvgSqRow[rr]), floatConstant(b2t), FLOAT),
                        FLOAT);
                rowR[rr] = add(mul(exact(s0.expAvgSqRow[rr]), doubleConstant(b2t), DOUBLE),
                        mul(mr, doubleConstant(1 - b2t), DOUBLE), DOUBLE).round(FLOAT);
                brow[rr] = rowE[rr].err() + rowR[rr].err();
            }
            for (int b = 0; b < batches; b++) {
                for (int j = 0; j < cols; j++) {
                    int cc = b * cols + j;
                    Traced me = div(dsum(we, b * rows * cols + j, rows, cols), exact(rows), DOUBLE).round(FLOAT);
                    Traced mr = div(dsum(wr, b * rows * cols + j, rows, cols), exact(rows), DOUBLE);
                    colE[cc] = fma(me, floatConstant(1 - b2t), mul(exact(s0.expAvgSqCol[cc]), floatConstant(b2t),
                            FLOAT), FLOAT);
                    colR[cc] = add(mul(exact(s0.expAvgSqCol[cc]), doubleConstant(b2t), DOUBLE),
                            mul(mr, doubleConstant(1 - b2t), DOUBLE), DOUBLE).round(FLOAT);
                    bcol[cc] = colE[cc].err() + colR[cc].err();
                }
                Traced meanE = div(dsum(rowE, b * rows, rows, 1), exact(rows), DOUBLE);
                Traced meanR = div(dsum(rowR, b * rows, rows, 1), exact(rows), DOUBLE);
                for (int i = 0; i < rows; i++) {
                    int rr = b * rows + i;
                    Traced rfE = div(exact(1), sqrt(div(rowE[rr], meanE, DOUBLE), DOUBLE), DOUBLE).round(FLOAT);
                    Traced rfR = div(exact(1), sqrt(div(rowR[rr], meanR, DOUBLE), DOUBLE), DOUBLE);
                    for (int j = 0; j < cols; j++) {
                        int k = rr * cols + j, cc = b * cols + j;
                        Traced cfE = div(exact(1), sqrt(colE[cc], FLOAT), FLOAT);
                        Traced cfR = div(exact(1), sqrt(colR[cc], DOUBLE), DOUBLE);
                        ue[k] = mul(mul(rfE, cfE, FLOAT), ge[k], FLOAT);
                        ur[k] = mul(mul(rfR, cfR, DOUBLE), gr[k], DOUBLE);
                    }
                }
            }
        } else {
            for (int i = 0; i < n; i++) {
                Traced ve = fma(we[i], floatConstant(1 - b2t), mul(exact(s0.expAvgSq[i]), floatConstant(b2t), FLOAT),
                        FLOAT);
                Traced vr = add(mul(exact(s0.expAvgSq[i]), doubleConstant(b2t), DOUBLE),
                        mul(wr[i], doubleConstant(1 - b2t), DOUBLE), DOUBLE).round(FLOAT);
                bv[i] = ve.err() + vr.err();
                ue[i] = mul(div(exact(1), sqrt(ve, FLOAT), FLOAT), ge[i], FLOAT);
                ur[i] = mul(div(exact(1), sqrt(vr, DOUBLE), DOUBLE), gr[i], DOUBLE);
            }
        }
        double[] px = new double[n];
        for (int i = 0; i < n; i++) {
            px[i] = p0[i];
        }
        Traced rootN = doubleConstant(Math.sqrt(n));
        Traced normP = TrustBound.norm(px, new double[n]);
        Traced rmsE = div(normP.round(FLOAT), floatConstant(Math.sqrt(n)), FLOAT);
        Traced rmsR = div(normP, rootN, DOUBLE);
        double rel = (o.relativeStep() ? Math.min(o.warmupInit() ? 1e-6 * t : 1e-2, 1.0 / Math.sqrt(t)) : o.lr())
                * c.lrFactor();
        Traced lrE = o.scaleParameter() ? mul(Traced.max(floatConstant(o.eps2()), rmsE), floatConstant(rel), FLOAT)
                : floatConstant(rel);
        Traced lrR = o.scaleParameter() ? mul(Traced.max(exact(o.eps2()), rmsR), doubleConstant(rel), DOUBLE)
                : doubleConstant(rel);
        Traced normUE = TrustBound.norm(values(ue), errors(ue)).round(FLOAT);
        Traced normUR = TrustBound.norm(values(ur), errors(ur));
        Traced dE = Traced.max(div(div(normUE, floatConstant(Math.sqrt(n)), FLOAT), floatConstant(o.clipThreshold()),
                FLOAT), exact(1));
        Traced dR = Traced.max(div(div(normUR, rootN, DOUBLE), exact(o.clipThreshold()), DOUBLE), exact(1));
        Traced decE = mul(floatConstant(-o.weightDecay()), lrE, FLOAT);
        Traced decR = mul(exact(-o.weightDecay()), lrR, DOUBLE);
        double[] bp = new double[n], bm = new double[n];
        for (int i = 0; i < n; i++) {
            Traced u2e = mul(div(ue[i], dE, FLOAT), lrE, FLOAT);
            Traced u2r = mul(div(ur[i], dR, DOUBLE), lrR, DOUBLE);
            if (o.beta1() != null) {
                double b1 = o.beta1();
                u2e = fma(u2e, floatConstant(1 - b1), mul(exact(s0.expAvg[i]), floatConstant(b1), FLOAT), FLOAT);
                u2r = add(mul(exact(s0.expAvg[i]), exact(b1), DOUBLE), mul(u2r, doubleConstant(1 - b1), DOUBLE),
                        DOUBLE).round(FLOAT);
                bm[i] = u2e.err() + u2r.err();
            }
            Traced pe = exact(p0[i]), pr = exact(p0[i]);
            if (o.weightDecay() != 0) {
                pe = fma(pe, decE, pe, FLOAT);
                pr = add(pr, mul(pr, decR, DOUBLE), DOUBLE).round(FLOAT);
            }
            bp[i] = sub(pe, u2e, FLOAT).err() + sub(pr, u2r, DOUBLE).round(FLOAT).err();
        }
        return new Bound(bp, bm, bv, brow, bcol);
    }

    private static double[] values(Traced[] t) {
        double[] x = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            x[i] = t[i].x();
        }
        return x;
    }

    private static double[] errors(Traced[] t) {
        double[] x = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            x[i] = t[i].err();
        }
        return x;
    }

    // ---- the sums behind the factored state and RMS, against exact sums ----

    /**
     * The engine's row and column sums and RMS(p) after a first step, against exact sums: at step 1 {@code beta2t =
     * 1 - 1^decayRate = 0}, so {@code exp_avg_sq_row = fma(mean, 1, 0 * 0)} is exactly the engine's row mean of
     * {@code w = g*g + eps1} rounded to float (columns alike), and {@code rms(name)} is RMS(p). The oracle sums the
     * same float {@code w} (computed here as the kernels do: {@code fl(fl(g * scale)^2) + eps1} in float) exactly
     * in {@link BigDecimal}. A partial dropped or added twice, a row summed into its neighbour's total, a column
     * missing a row: each moves a sum by a whole element's share or more, far beyond the bound (a few float
     * roundings), which the summation order alone cannot. Shapes: the generated sets (groups of 4 whole rows with
     * vector and scalar columns, rank 3 with rows per matrix not a multiple of 4, chunks crossing rows) and the
     * bench's geometry in small.
     */
    @Property(tries = 30)
    void rowColumnSumsAndRmsMatchExactSums(@ForAll("configs") Config c, @ForAll("sumShapeSets") long[][] shapes,
                                          @ForAll boolean vectorized,
                                          @ForAll @net.jqwik.api.constraints.IntRange(min = 1, max = 3) int threads,
                                          @ForAll boolean offHeap, @ForAll long seed) {
        int[] gaps = new int[shapes.length];
        Arrays.fill(gaps, 3);
        SplittableRandom rnd = new SplittableRandom(seed);
        try (ShapedRig rig = new ShapedRig(shapes, gaps, offHeap);
             Adafactor opt = Adafactor.builder(rig.set).options(c.options()).vectorized(vectorized).threads(threads)
                     .build()) {
            rig.randomize(rnd, rnd.nextInt(-8, 3), rnd.nextInt(-20, 4));
            float[][] p0 = new float[rig.count()][], g = new float[rig.count()][];
            for (int i = 0; i < rig.count(); i++) {
                p0[i] = rig.params(i);
                g[i] = rig.grads(i);
            }
            if (c.gradScale() != 1) {
                opt.step(c.lrFactor(), c.gradScale());
            } else {
                opt.step(c.lrFactor());
            }
            final float scale = (float) c.signedScale(), eps1 = (float) c.options().eps1();
            for (int i = 0; i < rig.count(); i++) {
                String where = "tensor t" + i + " " + Arrays.toString(shapes[i]) + " ("
                        + (vectorized ? "SIMD" : "scalar") + ", " + threads + " threads)";
                int n = p0[i].length;
                BigDecimal pp = BigDecimal.ZERO;
                for (float x : p0[i]) {
                    pp = pp.add(new BigDecimal(x).multiply(new BigDecimal(x)));
                }
                double rms = pp.divide(BigDecimal.valueOf(n), MC).sqrt(MC).doubleValue();
                Check.within("RMS(p)", where, opt.rms("t" + i), (float) rms, rms * RMS_REL);
                if (shapes[i].length < 2) {
                    continue;
                }
                int cols = (int) shapes[i][shapes[i].length - 1], rows = (int) shapes[i][shapes[i].length - 2];
                BigDecimal[] rowSum = new BigDecimal[n / cols], colSum = new BigDecimal[n / rows];
                Arrays.fill(rowSum, BigDecimal.ZERO);
                Arrays.fill(colSum, BigDecimal.ZERO);
                for (int e = 0; e < n; e++) {
                    float gs = g[i][e] * scale;
                    BigDecimal w = new BigDecimal(gs * gs + eps1);
                    int r = e / cols, col = (r / rows) * cols + e % cols;
                    rowSum[r] = rowSum[r].add(w);
                    colSum[col] = colSum[col].add(w);
                }
                float[] rowState = Rig.toArray(opt.state("t" + i, "exp_avg_sq_row"));
                float[] colState = Rig.toArray(opt.state("t" + i, "exp_avg_sq_col"));
                for (int r = 0; r < rowSum.length; r++) {
                    double mean = rowSum[r].divide(BigDecimal.valueOf(cols), MC).doubleValue();
                    Check.within("row mean (exp_avg_sq_row at step 1)", where + ", row " + r, rowState[r],
                            (float) mean, mean * meanRel(cols));
                }
                for (int k = 0; k < colSum.length; k++) {
                    double mean = colSum[k].divide(BigDecimal.valueOf(rows), MC).doubleValue();
                    Check.within("column mean (exp_avg_sq_col at step 1)", where + ", column " + k, colState[k],
                            (float) mean, mean * meanRel(rows));
                }
            }
        }
    }

    private static final MathContext MC = new MathContext(40);

    /**
     * Relative bound of a mean of {@code n} positive terms as the engine computes it against the exact mean y: the
     * double sum in any order (every partial, chunk total and tensor total is one node of a tree over the n terms)
     * is within gamma_(n-1) = (n-1) u / (1 - (n-1) u) of the exact sum (Higham, Accuracy and Stability of Numerical
     * Algorithms, 4.2; positive terms, so relative to the sum itself), u = 2^-53; the division by n one more u;
     * the rounding to float at most 2^-24 of the result (normal: every w >= eps1 >= 1e-38 here). The float oracle
     * value (float) y is itself within 2^-24 y of y, so engine - (float) y is within y (g + 2^-24 (1 + g) + 2^-24)
     * with g = (1 + gamma)(1 + u) - 1; doubled for slack in the products' second-order terms.
     */
    private static double meanRel(int n) {
        double u = 0x1p-53, gamma = (n - 1) * u / (1 - (n - 1) * u), g = (1 + gamma) * (1 + u) - 1;
        return 2 * (g + 0x1p-24 * (1 + g) + 0x1p-24);
    }

    /**
     * RMS(p) = fl(fl(sqrt(s)) / fl(sqrt(n))) with s the double sum of the exact p^2 (exact in double: 48-bit
     * products) within gamma_(n-1) of the exact S (sqrt halves that), each sqrt one double rounding then one float
     * rounding, the division one float rounding: (1 + gamma / 2)(1 + 2^-53)^2 (1 + 2^-24)^3 / (1 - 2^-24) - 1
     * relative, plus 2^-24 for the oracle's own rounding to float; gamma for up to 2^27 terms is below 2^-26, so
     * 6 * 2^-24 covers it all with room.
     */
    private static final double RMS_REL = 6 * 0x1p-24;

    /**
     * The generated sets, and the bench's geometry in small (8192 wide: a chunk of 32 whole rows, then a chunk of
     * one), and rows crossing a chunk boundary with groups on both sides (1000 wide).
     */
    @Provide
    Arbitrary<long[][]> sumShapeSets() {
        Arbitrary<long[]> grouped = Arbitraries.of(new long[] {Adafactor.CHUNK / 8192 + 1, 8192},
                new long[] {2, 6, 17}, new long[] {3, 5, LANES + 3}, new long[] {Adafactor.CHUNK / 1000 + 8, 1000},
                new long[] {13, 2 * LANES});
        return Arbitraries.frequencyOf(Tuple.of(2, anyShapeSets()), Tuple.of(1, Combinators.combine(shapeSets(),
                grouped).as((s, l) -> {
                    long[][] out = Arrays.copyOf(s, s.length + 1);
                    out[s.length] = l;
                    return out;
                })));
    }

    // ---- bitwise: SIMD against scalar, 1/2/3 threads, heap and off-heap ----

    @Property(tries = 25)
    void bitwiseAcrossKernelsThreadsAndMemory(@ForAll("configs") Config c, @ForAll("anyShapeSets") long[][] shapes,
                                              @ForAll long seed) {
        int[] gaps = new int[shapes.length];
        Arrays.fill(gaps, 5);
        float[][] first = null;
        String firstName = null;
        // (vectorized, threads, offHeap)
        Object[][] variants = {{true, 1, false}, {false, 1, false}, {true, 2, true}, {true, 3, false},
                {false, 3, true}};
        for (Object[] v : variants) {
            SplittableRandom rnd = new SplittableRandom(seed);
            try (ShapedRig rig = new ShapedRig(shapes, gaps, (Boolean) v[2]);
                 Adafactor opt = Adafactor.builder(rig.set).options(c.options()).vectorized((Boolean) v[0])
                         .threads((Integer) v[1]).build()) {
                rig.randomize(rnd, -2, -6);
                for (int t = 0; t < 4; t++) {
                    for (int i = 0; i < rig.count(); i++) {
                        rig.setGrads(i, Rig.grads(rnd, rig.lengths[i], -6));
                    }
                    opt.step(c.lrFactor());
                }
                List<float[]> all = new ArrayList<>();
                for (int i = 0; i < rig.count(); i++) {
                    all.add(rig.params(i));
                    for (String s : opt.stateNames()) {
                        boolean has = switch (s) {
                            case "exp_avg_sq_row", "exp_avg_sq_col" -> shapes[i].length >= 2;
                            case "exp_avg_sq" -> shapes[i].length < 2;
                            default -> true;
                        };
                        if (has) {
                            all.add(Rig.toArray(opt.state("t" + i, s)));
                        }
                    }
                }
                String name = (((Boolean) v[0]) ? "SIMD" : "scalar") + ", " + v[1] + " threads, "
                        + (((Boolean) v[2]) ? "off-heap" : "heap");
                float[][] got = all.toArray(new float[0][]);
                if (first == null) {
                    first = got;
                    firstName = name;
                } else {
                    for (int a = 0; a < got.length; a++) {
                        Check.bitwiseEqual(name + " against " + firstName + ", array " + a, first[a], got[a]);
                    }
                }
            }
        }
    }

    /**
     * A row of zero gradients against rows of 2^27: at step 1 the zero row's state is eps1 (1e-30) and the row mean
     * about 1.4e16, a quotient of 7e-47, below float's smallest subnormal (1.4e-45). In float (HF's float32
     * arithmetic) it is 0, the row factor infinite, its updates {@code inf * 0 = NaN}, and the update's RMS spreads
     * the NaN over the whole tensor. The engine's factor, in double, is finite: over three steps (the zero row's
     * state stays near eps1, the others' near 2^54), SIMD and scalar, every value is finite and within the bound of
     * the float64 reference. Found by CI's random runs of
     * {@link #matchesReference} (a spike of 2^16 on a gradient exponent of 6, with a row of zeros).
     */
    @Example
    void zeroRowAgainstHugeMeans() {
        long[] shape = {3, LANES + 3};
        int n = (int) (shape[0] * shape[1]), cols = (int) shape[1];
        Config c = new Config(AdafactorOptions.DEFAULTS.withWeightDecay(0.01), 1.0, 1.0, false);
        for (boolean vectorized : new boolean[] {true, false}) {
            SplittableRandom rnd = new SplittableRandom(5);
            try (ShapedRig rig = new ShapedRig(new long[][] {shape}, new int[] {1}, false);
                 Adafactor opt = Adafactor.builder(rig.set).options(c.options()).vectorized(vectorized).build()) {
                rig.randomize(rnd, -2, 0);
                for (int t = 1; t <= 3; t++) {
                    float[] g = new float[n];
                    for (int i = cols; i < n; i++) {
                        g[i] = (rnd.nextBoolean() ? 1 : -1) * 0x1p27f;
                    }
                    rig.setGrads(0, g);
                    float[] p0 = rig.params(0);
                    AdafactorReference.State s0 = state(opt, "t0", shape, t - 1);
                    opt.step(1.0);
                    float[] p = rig.params(0);
                    String where = (vectorized ? "SIMD" : "scalar") + ", step " + t;
                    for (int i = 0; i < n; i++) {
                        if (!Float.isFinite(p[i])) {
                            throw new AssertionError(where + ", element " + i + ": " + p[i] + " (from " + p0[i] + ")");
                        }
                    }
                    float[] rf = Rig.toArray(opt.state("t0", "exp_avg_sq_row"));
                    if (!(rf[0] < 1e-29f && rf[1] > 0x1p53f)) {
                        throw new AssertionError(where + ": the case lost its point, rows " + Arrays.toString(rf));
                    }
                    check(c, where, shape, p0, g, s0, p, state(opt, "t0", shape, t));
                }
            }
        }
    }

    // ---- hand-computed ----

    /**
     * Two steps worked by hand from HF's formula (each number below evaluated in double, printed to 10 digits), lr 0.1
     * (relative_step off), scale_parameter off, clip_threshold 1, decay_rate -0.8, eps1 1e-30 (below a float's
     * resolution of every w here but the zero gradients'), weight decay 0, no beta1; a 2x2 matrix
     * W = [[1, 2], [3, 4]] and a vector b = (1, -1, 2).
     * <pre>
     *   step 1: beta2t = 1 - 1^-0.8 = 0: the state is this step's means.
     *     W, g = [[1, 0], [0, 2]]: w = g^2 = [[1, 0], [0, 4]]
     *       row = (mean(1, 0), mean(0, 4)) = (0.5, 2); col = (mean(1, 0), mean(0, 4)) = (0.5, 2); mean(row) = 1.25
     *       rf = 1 / sqrt(row / 1.25) = (sqrt 2.5, sqrt 0.625); cf = 1 / sqrt(col) = (sqrt 2, sqrt 0.5)
     *       u = rf cf g: u00 = sqrt(2.5 * 2) = sqrt 5, u11 = sqrt(0.625 * 0.5) * 2 = sqrt 1.25, u01 = u10 = 0
     *       RMS(u) = sqrt((5 + 1.25) / 4) = 1.25 > 1: u / 1.25
     *       W = [[1 - 0.1 sqrt(5) / 1.25, 2], [3, 4 - 0.1 sqrt(1.25) / 1.25]] = [[0.8211145618, 2], [3, 3.9105572809]]
     *     b, g = (2, 0, 1): v = g^2 + eps1 = (4, 1e-30, 1); u = g / sqrt(v) = (1, 0 / 1e-15 = 0, 1)
     *       RMS(u) = sqrt(2 / 3) = 0.8164965809 < 1: no clipping; b = (0.9, -1, 1.9)
     *   step 2: beta2t = 1 - 2^-0.8 = 1 - 0.5743491775 = 0.4256508225
     *     W, g = [[1, 1], [1, 1]]: w = 1 everywhere; row = 0.4256508225 (0.5, 2) + 0.5743491775 (1, 1)
     *       = (0.7871745887, 1.4256508225), col the same; mean(row) = 1.1064127056
     *       rf = sqrt(1.1064127056 / row) = (1.1855586519, 0.8809514865); cf = 1 / sqrt(col) = (1.1271052353, 0.8375165842)
     *       u = rf cf: u00 = 1.3362493633, u01 = u10 = 0.9929250324, u11 = 0.7378114798
     *       RMS(u) = sqrt((1.3362493633^2 + 2 * 0.9929250324^2 + 0.7378114798^2) / 4) = 1.0370304215 > 1
     *       W -= 0.1 u / 1.0370304215: W = [[0.6922611226, 1.9042530468], [2.9042530468, 3.8394107201]]
     *     b, g = (-1, 1, 0): v = 0.4256508225 (4, 1e-30, 1) + 0.5743491775 (1, 1, 1e-30)
     *       = (2.2769524675, 0.5743491775, 0.4256508225); u = g / sqrt(v) = (-0.6627092275, 1.3195079108, 0)
     *       RMS(u) = 0.8525031079 < 1: no clipping; b = (0.9662709227, -1.1319507911, 1.9)
     * </pre>
     */
    @Example
    void firstTwoStepsByHand() {
        double[][] w = {{0.8211145618, 2, 3, 3.9105572809}, {0.6922611226, 1.9042530468, 2.9042530468, 3.8394107201}};
        double[][] b = {{0.9, -1, 1.9}, {0.9662709227, -1.1319507911, 1.9}};
        float[][] gw = {{1, 0, 0, 2}, {1, 1, 1, 1}};
        float[][] gb = {{2, 0, 1}, {-1, 1, 0}};
        AdafactorOptions o = AdafactorOptions.DEFAULTS.manual(0.1).withScaleParameter(false);
        for (boolean offHeap : new boolean[] {false, true}) {
            try (ShapedRig rig = new ShapedRig(new long[][] {{2, 2}, {3}}, new int[] {0, 1}, offHeap);
                 Adafactor opt = Adafactor.builder(rig.set).options(o).build()) {
                rig.setParams(0, new float[] {1, 2, 3, 4});
                rig.setParams(1, new float[] {1, -1, 2});
                for (int t = 0; t < 2; t++) {
                    rig.setGrads(0, gw[t]);
                    rig.setGrads(1, gb[t]);
                    opt.step(1.0);
                    float[] pw = rig.params(0), pb = rig.params(1);
                    for (int i = 0; i < 4; i++) {
                        near("step " + (t + 1) + " W " + i, w[t][i], pw[i]);
                    }
                    for (int i = 0; i < 3; i++) {
                        near("step " + (t + 1) + " b " + i, b[t][i], pb[i]);
                    }
                }
                float[] row = Rig.toArray(opt.state("t0", "exp_avg_sq_row"));
                near("step 2 row 0", 0.7871745887, row[0]);
                near("step 2 row 1", 1.4256508225, row[1]);
                float[] v = Rig.toArray(opt.state("t1", "exp_avg_sq"));
                near("step 2 v 0", 2.2769524675, v[0]);
            }
        }
    }

    /**
     * Within 2^-20 relative of the hand computation (the engine's floats went through a few dozen roundings of
     * 2^-24 each, without cancellation), plus 1e-9 relative for the 10 digits the values are given to.
     */
    private static void near(String what, double expected, float actual) {
        if (!(Math.abs(actual - expected) <= 0x1p-20 * Math.abs(expected) + 1e-9 * Math.abs(expected))) {
            throw new AssertionError(what + ": expected " + expected + " (by hand), engine " + actual);
        }
    }

    // ---- continueFrom ----

    /**
     * An optimizer over other buffers that continues from one after three steps takes over its factored state
     * ({@code exp_avg_sq_row}, {@code exp_avg_sq_col}), {@code exp_avg_sq} and {@code exp_avg}: its next two steps
     * are bitwise those of the original.
     */
    @Example
    void continueFromCarriesTheFactoredState() {
        long[][] shapes = {{LANES + 3, 2 * LANES + 1}, {2, 3, LANES}, {LANES + 5}};
        AdafactorOptions o = AdafactorOptions.DEFAULTS.withBeta1(0.9).withWeightDecay(0.01);
        SplittableRandom rnd = new SplittableRandom(11);
        try (ShapedRig a = new ShapedRig(shapes, new int[] {0, 2, 1}, false);
             ShapedRig b = new ShapedRig(shapes, new int[] {3, 0, 0}, true);
             Adafactor first = Adafactor.builder(a.set).options(o).build()) {
            a.randomize(rnd, -2, -6);
            for (int t = 0; t < 3; t++) {
                for (int i = 0; i < a.count(); i++) {
                    a.setGrads(i, Rig.grads(rnd, a.lengths[i], -6));
                }
                first.step(1.0);
            }
            for (int i = 0; i < a.count(); i++) {
                b.setParams(i, a.params(i));
            }
            try (Adafactor moved = Adafactor.builder(b.set).options(o).build()) {
                moved.continueFrom(first);
                for (int t = 0; t < 2; t++) {
                    for (int i = 0; i < a.count(); i++) {
                        float[] g = Rig.grads(rnd, a.lengths[i], -6);
                        a.setGrads(i, g);
                        b.setGrads(i, g);
                    }
                    first.step(1.0);
                    moved.step(1.0);
                    for (int i = 0; i < a.count(); i++) {
                        Check.bitwiseEqual("t" + i + " params after continueFrom, step " + (t + 1), a.params(i),
                                b.params(i));
                        for (String s : shapes[i].length >= 2 ? new String[] {"exp_avg_sq_row", "exp_avg_sq_col",
                                "exp_avg"} : new String[] {"exp_avg_sq", "exp_avg"}) {
                            Check.bitwiseEqual("t" + i + " " + s, Rig.toArray(first.state("t" + i, s)),
                                    Rig.toArray(moved.state("t" + i, s)));
                        }
                    }
                }
            }
        }
    }

    // ---- options ----

    @Example
    void badOptionsAreRefusedNamingOptionAndValue() {
        AdafactorOptions d = AdafactorOptions.DEFAULTS;
        Check.rejects(IllegalArgumentException.class, () -> d.withLr(0.01), "lr", "0.01", "relativeStep");
        Check.rejects(IllegalArgumentException.class, () -> d.manual(0.01).withWarmupInit(true), "warmupInit",
                "relativeStep=false");
        Check.rejects(IllegalArgumentException.class, () -> d.withLr(null).withRelativeStep(false), "lr", "null");
        Check.rejects(IllegalArgumentException.class, () -> d.manual(-1), "lr", "-1.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withEps(-1e-30, 1e-3), "eps1", "-1.0E-30");
        Check.rejects(IllegalArgumentException.class, () -> d.withEps(1e-30, Double.NaN), "eps2", "NaN");
        Check.rejects(IllegalArgumentException.class, () -> d.withClipThreshold(0), "clipThreshold", "0.0");
        Check.rejects(IllegalArgumentException.class, () -> d.withDecayRate(0.5), "decayRate", "0.5");
        Check.rejects(IllegalArgumentException.class, () -> d.withBeta1(1.5), "beta1", "1.5");
        Check.rejects(IllegalArgumentException.class, () -> d.withWeightDecay(-0.1), "weightDecay", "-0.1");
        Check.rejects(IllegalArgumentException.class, () -> d.withLrScale(Double.POSITIVE_INFINITY), "lrScale",
                "Infinity");
        try (ShapedRig rig = new ShapedRig(new long[][] {{4, 4}}, new int[] {0}, false)) {
            Check.rejects(IllegalArgumentException.class, () -> Adafactor.builder(rig.set).trackNorms(true).build(),
                    "trackNorms", "Adafactor");
            Check.rejects(IllegalArgumentException.class, () -> Adafactor.builder(rig.set).eightBitState().build(),
                    "eightBitState", "Adafactor");
        }
    }

    // ---- generators ----

    @Provide
    Arbitrary<Config> configs() {
        Arbitrary<Boolean> relative = Arbitraries.of(true, false);
        Arbitrary<Boolean> warmup = Arbitraries.of(true, false);
        Arbitrary<Boolean> scale = Arbitraries.of(true, false);
        Arbitrary<Double> lr = logUniform(-4, -1);
        Arbitrary<Double> beta1 = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(-1.0)),
                Tuple.of(1, Arbitraries.doubles().between(0, 0.99).ofScale(4)));
        Arbitrary<Double> wd = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.doubles().between(1e-4, 0.1).ofScale(6)));
        Arbitrary<Double> clip = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(1.0)),
                Tuple.of(1, logUniform(-2, 1)));
        Arbitrary<Double> decay = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(-0.8)),
                Tuple.of(1, Arbitraries.doubles().between(-1.0, 0).ofScale(3)));
        Arbitrary<Double> eps1 = Arbitraries.of(1e-30, 1e-20);
        Arbitrary<AdafactorOptions> options = Combinators.combine(relative, warmup, scale, lr, beta1, wd, clip, decay)
                .as((rel, wu, sc, l, b1, w, cl, dr) -> new AdafactorOptions(rel ? null : l, 1e-30, 1e-3, cl, dr,
                        b1 < 0 ? null : b1, w, sc, rel, rel && wu, 1.0, false));
        return Combinators.combine(options, eps1, Arbitraries.of(1.0, 1.0, 0.5), gradScales(), maximize())
                .as((o, e1, f, gs, max) -> new Config(o.withEps(e1, o.eps2()).withMaximize(max), f, gs, max));
    }

    /** Shapes: 1 x N, N x 1, M x N with M, N around the vector width, rank 3, 1-D; some crossing chunks. */
    @Provide
    Arbitrary<long[][]> shapeSets() {
        Arbitrary<Integer> dim = Arbitraries.of(1, 2, 3, LANES - 1, LANES, LANES + 1, 2 * LANES + 3, 37);
        Arbitrary<long[]> matrix = Combinators.combine(dim, dim).as((a, b) -> new long[] {a, b});
        Arbitrary<long[]> rank3 = Combinators.combine(Arbitraries.integers().between(1, 4), dim, dim)
                .as((a, b, c) -> new long[] {a, b, c});
        Arbitrary<long[]> vector = dim.map(a -> new long[] {a});
        Arbitrary<long[]> small = Arbitraries.frequencyOf(Tuple.of(3, matrix), Tuple.of(1, rank3), Tuple.of(1, vector));
        return small.list().ofMinSize(1).ofMaxSize(4).map(l -> l.toArray(new long[0][]));
    }

    /** Small shape sets, and one in five with a tensor larger than a chunk. */
    @Provide
    Arbitrary<long[][]> anyShapeSets() {
        return Arbitraries.frequencyOf(Tuple.of(4, shapeSets()), Tuple.of(1, largeShapeSets()));
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<long[][]> shapes = Arbitraries.frequencyOf(Tuple.of(6, shapeSets()), Tuple.of(1, largeShapeSets()));
        Arbitrary<Layout> layouts = shapes.flatMap(s -> Combinators.combine(
                Arbitraries.integers().between(0, 9).array(int[].class).ofSize(s.length), Arbitraries.of(false, true),
                Arbitraries.integers().between(1, 3), Arbitraries.integers().between(1, total(s) > 20000 ? 2 : 10))
                .as((gaps, off, th, st) -> new Layout(s, gaps, off, th, st)));
        return Combinators.combine(configs(), layouts, Arbitraries.integers().between(-20, 6), Arbitraries.longs())
                .as(Case::new);
    }

    /**
     * A small set and a tensor larger than a chunk of Adafactor's grid, cut so that rows cross chunk boundaries: a
     * row longer than a chunk (1 x N), a column longer than a chunk (N x 1), rows of odd lengths, a rank-3 batch, a
     * 1-D tensor.
     */
    private Arbitrary<long[][]> largeShapeSets() {
        int k = Adafactor.CHUNK;
        Arbitrary<long[]> large = Arbitraries.of(new long[] {1, k + 2 * LANES + 3}, new long[] {k + 5, 1},
                new long[] {3, k / 2 + 7}, new long[] {k / 100 + 1, 101}, new long[] {2, 3, k / 5 + 1},
                new long[] {k + LANES + 1}, new long[] {LANES + 1, k / LANES + 3});
        return Combinators.combine(shapeSets(), large).as((s, l) -> {
            long[][] out = Arrays.copyOf(s, s.length + 1);
            out[s.length] = l;
            return out;
        });
    }

    private static long total(long[][] shapes) {
        long n = 0;
        for (long[] s : shapes) {
            long e = 1;
            for (long d : s) {
                e *= d;
            }
            n += e;
        }
        return n;
    }
}
