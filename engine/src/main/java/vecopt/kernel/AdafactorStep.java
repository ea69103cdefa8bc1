package vecopt.kernel;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Adafactor's per-element formulas (Hugging Face {@code transformers.optimization.Adafactor.step}), the scalars a
 * group's step prepares, and the scalar loops of its three passes over a chunk ({@link AdafactorChunk}):
 * <pre>
 *   g  = grad * gradScale                                 (clipping coefficient; negative under maximize)
 *   w  = g * g + eps1                                     (HF: grad**2 + eps[0], two float roundings)
 *   factored (rank >= 2), per row segment of the chunk:
 *     pass 1 (reads p, g): rows[r] += w, cols[c] += w, p^2 summed      (sums in double, see below)
 *     between passes: row = fma(mean_row(w), 1 - beta2t, row * beta2t), col alike,
 *                     rf = 1 / sqrt(row / mean(row))  (in double from the double mean, rounded once)
 *                     cf = 1 / sqrt(col)                                              (float)
 *     pass 2 (reads g): u = (rf * cf) * g, u^2 summed
 *   unfactored (1-D):
 *     pass 1 (reads p, g, exp_avg_sq; writes exp_avg_sq): v = fma(w, 1 - beta2t, v * beta2t),
 *                     u = (1 / sqrt(v)) * g, p^2 and u^2 summed
 *   pass 3 (reads p, g, exp_avg_sq or the factors (and exp_avg); writes p (and exp_avg)):
 *     u = ((u as above) / clipDivisor) * lr
 *     exp_avg = fma(u, 1 - beta1, exp_avg * beta1); u = exp_avg                      (beta1 given)
 *     p = fma(p, -weight_decay * lr, p)                                              (weight_decay != 0)
 *     p = p - u
 * </pre>
 * Sums are in double, in one fixed order every kernel follows: 64 partials per sum, element {@code j} of a row
 * segment (of the chunk, for an unfactored tensor) going to partial {@code j mod 64}, in element order, the 64 then
 * added in order (a row's at the end of its segment, p^2 and update^2 at the end of the chunk). The vector loops
 * add a vector's lanes to consecutive partials, so for 4, 8 or 16 lanes they add the same numbers in the same
 * order as the scalar loop: sums, state and parameters are bitwise the scalar kernels'. 64, not 16: at 512 bits
 * a sum of 16 partials is two chains of vector adds, and out of cache the adds waiting on them held back the
 * loads (pass 1 at half the speed of a C pass over the same streams); 64 partials are 8 independent chains.
 *
 * <p>Groups: where a chunk holds {@link #GROUP} (4) whole rows of one matrix from the current row on, passes 1 and 2
 * take them together ({@link #group}), so that a column's double sum (pass 1) or factor (pass 2) is loaded once for
 * the 4 rows; every kernel takes the same groups. Row {@code r} of a group keeps 16 partials per sum instead of 64:
 * its element {@code j} goes to row partial {@code 16 r + j mod 16}, p^2 partial {@code 16 r + j mod 16} and
 * update^2 partial {@code 16 r + j mod 16}, so each partial still sees one row's elements in element order (the
 * vector loops' 4 rows x 2 registers are 8 independent chains per sum); its row total is its 16 partials added in
 * order. A column's sum gets the group's rows in row order, as row by row: column sums have the same bits either way.
 *
 * <p>Storage: the loops read and write only float32 buffers, those {@link AdafactorStaging#load} puts in the chunk's
 * {@link AdafactorChunk} before each pass ({@code w.params}, {@code w.grads}, {@code w.expAvgSq}, {@code w.expAvg}:
 * the stored buffers where they are float32, else widened copies), and {@link AdafactorStaging#store} rounds back
 * after it, with this step's stochastic-rounding keys ({@link KeyedStep}).
 */
public final class AdafactorStep extends KeyedStep {
    static final ValueLayout.OfFloat F = JAVA_FLOAT_UNALIGNED;
    static final int P = AdafactorChunk.PARTIALS;
    static final int U = AdafactorChunk.PARTIALS;      // offset of the update^2 partials
    static final int ROW = 2 * AdafactorChunk.PARTIALS; // offset of the current row's partials
    /** Whole rows of one matrix that pass 1 takes together (a group), and the partials each of its rows keeps. */
    static final int GROUP = 4;
    static final int GP = AdafactorChunk.PARTIALS / GROUP;
    float gradScale = 1f;
    float eps1;
    float beta2t;
    float oneMinusBeta2t;
    float beta1;
    float oneMinusBeta1;
    boolean firstMoment;
    boolean decay;

    /**
     * Prepares step {@code t} (1 for the first) of a group: {@code beta2t = 1 - t^decayRate} in double (HF's
     * Python float), it and {@code 1 - beta2t} rounded to float where HF's tensor ops receive them.
     *
     * @param beta1       HF's beta1, or NaN for none
     * @param weightDecay whether the group's weight decay is non-zero
     * @param gradScale   the factor each gradient is multiplied by first (clipping coefficient, 1 for none;
     *                    negative under maximize)
     */
    public AdafactorStep prepare(double eps1, double decayRate, double beta1, boolean weightDecay, long t,
                                 double gradScale) {
        double b2 = 1.0 - Math.pow(t, decayRate);
        this.eps1 = (float) eps1;
        this.beta2t = (float) b2;
        this.oneMinusBeta2t = (float) (1.0 - b2);
        this.firstMoment = !Double.isNaN(beta1);
        this.beta1 = firstMoment ? (float) beta1 : 0f;
        this.oneMinusBeta1 = firstMoment ? (float) (1 - beta1) : 0f;
        this.decay = weightDecay;
        this.gradScale = (float) gradScale;
        return this;
    }

    public float beta2t() {
        return beta2t;
    }

    public float oneMinusBeta2t() {
        return oneMinusBeta2t;
    }

    /** Pass 1 of a chunk, scalar. */
    static void sums(Chunk c, AdafactorStep k, AdafactorChunk w) {
        if (w.cols == 0) {
            w.clear(0, 2 * P);
            vectorSums(c, k, w, 0, c.length);
            w.paramSquares = w.total(0);
            w.updateSquares = w.total(U);
            return;
        }
        w.clear(0, 3 * P);
        java.util.Arrays.fill(w.colSums, 0.0);
        final int n = c.length, C = w.cols;
        for (int i = 0; i < n; ) {
            final long pos = w.first + i, gr = pos / C;
            final int col = (int) (pos - gr * C), len = Math.min(C - col, n - i);
            final int colK = colSlot(w, gr, col);
            if (group(w, n, i, gr, col)) {
                for (int r = 0; r < GROUP; r++) {
                    rowSums(c, k, w, i + r * C, C, colK, 0, ROW + r * GP, GP - 1, r * GP, GP - 1);
                }
                groupTotals(w, gr);
                i += GROUP * C;
                continue;
            }
            rowSums(c, k, w, i, len, colK, 0, ROW, P - 1, 0, P - 1);
            w.rowSums[(int) (gr - w.rowFirst)] = w.total(ROW);
            w.clear(ROW, P);
            i += len;
        }
        w.paramSquares = w.total(0);
    }

    /**
     * Whether the row segment at chunk element {@code i} (global row {@code gr}, column {@code col}) starts a group:
     * {@link #GROUP} whole rows of one matrix, all in the chunk. Every kernel walks a chunk's segments the same way
     * and takes the same groups, so the partials below are every kernel's.
     */
    static boolean group(AdafactorChunk w, int n, int i, long gr, int col) {
        return col == 0 && (long) GROUP * w.cols <= n - i && gr / w.rows == (gr + GROUP - 1) / w.rows;
    }

    /** The group's row totals from its rows' {@link #GP} partials each, then the row partials cleared. */
    static void groupTotals(AdafactorChunk w, long gr) {
        final int r0 = (int) (gr - w.rowFirst);
        for (int r = 0; r < GROUP; r++) {
            w.rowSums[r0 + r] = w.total(ROW + r * GP, GP);
        }
        w.clear(ROW, P);
    }

    /** Where column {@code col} of global row {@code gr} sums in the chunk's {@code colSums}. */
    static int colSlot(AdafactorChunk w, long gr, int col) {
        if (w.ring) {
            return gr == w.rowFirst ? col - w.colFirst : w.cols - w.colFirst + col;
        }
        return (int) ((gr / w.rows - w.batchFirst) * w.cols + col);
    }

    /**
     * Pass 1 over elements {@code [from, len)} of the row segment at chunk element {@code start}: element {@code j}
     * adds to row partial {@code rowAt + (j & rowMask)} and p^2 partial {@code pAt + (j & pMask)}.
     */
    static void rowSums(Chunk c, AdafactorStep k, AdafactorChunk w, int start, int len, int colK, int from,
                        int rowAt, int rowMask, int pAt, int pMask) {
        final MemorySegment ps = w.params, gs = w.grads;
        final double[] acc = w.acc, cols = w.colSums;
        final float scale = k.gradScale, eps1 = k.eps1;
        for (int j = from; j < len; j++) {
            final long off = (long) (start + j) * Float.BYTES;
            float p = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            float sq = g * g + eps1;
            acc[rowAt + (j & rowMask)] += sq;
            cols[colK + j] += sq;
            final int q = pAt + (j & pMask);
            acc[q] = Math.fma(p, (double) p, acc[q]);
        }
    }

    /** Pass 1 of an unfactored tensor over chunk elements {@code [from, to)}: exp_avg_sq updated, p^2, u^2 summed. */
    static void vectorSums(Chunk c, AdafactorStep k, AdafactorChunk w, int from, int to) {
        final MemorySegment ps = w.params, gs = w.grads, vs = w.expAvgSq;
        final double[] acc = w.acc;
        final float scale = k.gradScale, eps1 = k.eps1, b2 = k.beta2t, c2 = k.oneMinusBeta2t;
        for (int j = from; j < to; j++) {
            final long off = (long) j * Float.BYTES;
            final int q = j & (P - 1);
            float p = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            float v = Math.fma(g * g + eps1, c2, vs.get(F, off) * b2);
            vs.set(F, off, v);
            float u = (1f / (float) Math.sqrt(v)) * g;
            acc[q] = Math.fma(p, (double) p, acc[q]);
            acc[U + q] = Math.fma(u, (double) u, acc[U + q]);
        }
    }

    /**
     * Pass 2 of a chunk of a factored tensor, scalar: the sum of update^2, in 64 partials ({@code j mod 64}) for a
     * row segment taken alone and in 16 per row ({@code 16 r + j mod 16}) for a {@link #group} of rows, as pass 1.
     */
    static void updateSums(Chunk c, AdafactorStep k, AdafactorChunk w) {
        w.clear(U, P);
        final int n = c.length, C = w.cols, R = w.rows;
        for (int i = 0; i < n; ) {
            final long pos = w.first + i, gr = pos / C;
            final int col = (int) (pos - gr * C), len = Math.min(C - col, n - i);
            final int cf0 = (int) ((gr / R) * C + col);
            if (group(w, n, i, gr, col)) {
                for (int r = 0; r < GROUP; r++) {
                    rowUpdateSums(c, k, w, i + r * C, C, w.rowFactor[(int) gr + r], cf0, 0, U + r * GP, GP - 1);
                }
                i += GROUP * C;
                continue;
            }
            rowUpdateSums(c, k, w, i, len, w.rowFactor[(int) gr], cf0, 0, U, P - 1);
            i += len;
        }
        w.updateSquares = w.total(U);
    }

    /**
     * Pass 2 over elements {@code [from, len)} of a row segment; {@code cf0} its first column's factor index; element
     * {@code j} adds to partial {@code at + (j & mask)}.
     */
    static void rowUpdateSums(Chunk c, AdafactorStep k, AdafactorChunk w, int start, int len, float rf, int cf0,
                              int from, int at, int mask) {
        final MemorySegment gs = w.grads;
        final double[] acc = w.acc;
        final float[] cf = w.colFactor;
        final float scale = k.gradScale;
        for (int j = from; j < len; j++) {
            final int q = at + (j & mask);
            float g = gs.get(F, (long) (start + j) * Float.BYTES) * scale;
            float u = (rf * cf[cf0 + j]) * g;
            acc[q] = Math.fma(u, (double) u, acc[q]);
        }
    }

    /** Pass 3 of a chunk, scalar. */
    static void apply(Chunk c, AdafactorStep k, AdafactorChunk w) {
        if (w.cols == 0) {
            vectorApply(c, k, w, 0, c.length);
            return;
        }
        final int n = c.length, C = w.cols, R = w.rows;
        for (int i = 0; i < n; ) {
            final long pos = w.first + i, gr = pos / C;
            final int col = (int) (pos - gr * C), len = Math.min(C - col, n - i);
            rowApply(c, k, w, i, len, w.rowFactor[(int) gr], (int) ((gr / R) * C + col), 0);
            i += len;
        }
    }

    static void rowApply(Chunk c, AdafactorStep k, AdafactorChunk w, int start, int len, float rf, int cf0,
                         int from) {
        final MemorySegment ps = w.params, gs = w.grads, ms = k.firstMoment ? w.expAvg : null;
        final float[] cf = w.colFactor;
        final float scale = k.gradScale, d = w.clipDivisor, lr = w.lr, decay = w.decay;
        for (int j = from; j < len; j++) {
            final long off = (long) (start + j) * Float.BYTES;
            float g = gs.get(F, off) * scale;
            float u = (((rf * cf[cf0 + j]) * g) / d) * lr;
            finish(ps, ms, off, u, k, decay);
        }
    }

    static void vectorApply(Chunk c, AdafactorStep k, AdafactorChunk w, int from, int to) {
        final MemorySegment ps = w.params, gs = w.grads, vs = w.expAvgSq, ms = k.firstMoment ? w.expAvg : null;
        final float scale = k.gradScale, d = w.clipDivisor, lr = w.lr, decay = w.decay;
        for (int j = from; j < to; j++) {
            final long off = (long) j * Float.BYTES;
            float g = gs.get(F, off) * scale;
            float u = (((1f / (float) Math.sqrt(vs.get(F, off))) * g) / d) * lr;
            finish(ps, ms, off, u, k, decay);
        }
    }

    /** The first moment (if any), the weight decay (if any) and the update, for one element. */
    private static void finish(MemorySegment ps, MemorySegment ms, long off, float u, AdafactorStep k, float decay) {
        if (k.firstMoment) {
            u = Math.fma(u, k.oneMinusBeta1, ms.get(F, off) * k.beta1);
            ms.set(F, off, u);
        }
        float p = ps.get(F, off);
        if (k.decay) {
            p = Math.fma(p, decay, p);
        }
        ps.set(F, off, p - u);
    }
}
