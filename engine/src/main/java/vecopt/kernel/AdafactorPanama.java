package vecopt.kernel;

import static vecopt.kernel.AdafactorStep.GP;
import static vecopt.kernel.AdafactorStep.GROUP;
import static vecopt.kernel.AdafactorStep.P;
import static vecopt.kernel.AdafactorStep.ROW;
import static vecopt.kernel.AdafactorStep.U;
import static vecopt.kernel.PanamaKernels.DSPECIES;
import static vecopt.kernel.PanamaKernels.HALF;
import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Adafactor's vector loops ({@link AdafactorStep} states the formulas and the summation order). Each row segment
 * (each chunk, for an unfactored tensor) runs whole vectors here and its remaining elements through the scalar
 * loop. A vector's lanes add to consecutive partials ({@code j mod 64} for element {@code j} of the segment: the
 * lane count divides 64), so the sums, and therefore the state and parameters, are bitwise the scalar loops'. With
 * 512-bit vectors the factored passes' sums run whole blocks of 64 elements with each sum's 64 partials in 8
 * registers ({@code rowSumBlocks}, {@code updateSumBlocks}); the rest of a segment, and every loop at narrower
 * widths, keeps the partials in the chunk's {@code acc} array. Row segments shorter than a vector (tensors with
 * fewer than 16 columns at 512 bits) run entirely in the scalar loop. A group of 4 whole rows
 * ({@link AdafactorStep#group}) runs its 4 rows in one loop at 512 bits in passes 1 and 2 ({@code groupSums},
 * {@code groupUpdateSums}: a column's sum or factor loaded once for the 4 rows, 16 partials per row and sum in 2
 * registers), its remaining columns in the scalar loop. Pass 3 without beta1 takes the same groups at every width
 * ({@code rowsApply}: one loop for a group's rows and for a row segment taken alone, so no vector loop of the pass
 * runs rarely; it sums nothing, so its bits do not depend on the grouping); with beta1 it runs row by row.
 */
final class AdafactorPanama {
    private static final int L = SPECIES.length();
    private static final int H = L / 2;
    private static final int D = DSPECIES.length();
    /** Bytes of a {@code HALF} vector: the stride of the block loops' loads. */
    private static final long HB = (long) D * Float.BYTES;
    /**
     * Whether the block loops run: a block of {@code P} elements is 8 halves ({@code D} = 8 doubles, 512-bit
     * vectors). Narrower vectors would need 16 or 32 accumulators per sum; they run the loops with the partials
     * in memory (as before the blocks).
     */
    private static final boolean BLOCKS = P == 8 * D;
    /** Whether a group's rows run vector loops: their {@link AdafactorStep#GP} partials must take whole vectors. */
    private static final boolean GROUP_VECTORS = GP % L == 0;

    private AdafactorPanama() {
    }

    static void sums(Chunk c, AdafactorStep k, AdafactorChunk w) {
        final int n = c.length;
        if (w.cols == 0) {
            w.clear(0, 2 * P);
            int bound = SPECIES.loopBound(n);
            vectorSums(c, k, w, bound);
            AdafactorStep.vectorSums(c, k, w, bound, n);
            w.paramSquares = w.total(0);
            w.updateSquares = w.total(U);
            return;
        }
        w.clear(0, 3 * P);
        java.util.Arrays.fill(w.colSums, 0.0);
        final int C = w.cols;
        for (int i = 0; i < n; ) {
            final long pos = w.first + i, gr = pos / C;
            final int col = (int) (pos - gr * C), len = Math.min(C - col, n - i);
            final int colK = AdafactorStep.colSlot(w, gr, col);
            if (AdafactorStep.group(w, n, i, gr, col)) {
                final int bound = GROUP_VECTORS ? SPECIES.loopBound(C) : 0;
                int from = 0;
                if (BLOCKS) {
                    groupSums(c, k, w, i, bound, colK);
                    from = bound;
                }
                for (int r = 0; r < GROUP; r++) {
                    final int row = i + r * C;
                    if (from < bound) {
                        rowSums(c, k, w, row, from, bound, colK, ROW + r * GP, GP - 1, r * GP, GP - 1);
                    }
                    AdafactorStep.rowSums(c, k, w, row, C, colK, bound, ROW + r * GP, GP - 1, r * GP, GP - 1);
                }
                AdafactorStep.groupTotals(w, gr);
                i += GROUP * C;
                continue;
            }
            final int bound = SPECIES.loopBound(len);
            int from = 0;
            if (BLOCKS) {
                from = bound & -P;
                rowSumBlocks(c, k, w, i, from, colK);
            }
            if (from < bound) {
                rowSums(c, k, w, i, from, bound, colK, ROW, P - 1, 0, P - 1);
            }
            AdafactorStep.rowSums(c, k, w, i, len, colK, bound, ROW, P - 1, 0, P - 1);
            w.rowSums[(int) (gr - w.rowFirst)] = w.total(ROW);
            w.clear(ROW, P);
            i += len;
        }
        w.paramSquares = w.total(0);
    }

    /**
     * Pass 1 over whole vectors {@code [from, bound)} of the row segment at chunk element {@code start}, the
     * partials in the chunk's array: element {@code j} to row partial {@code rowAt + (j & rowMask)} and p^2
     * partial {@code pAt + (j & pMask)} (each mask + 1 a multiple of the lane count).
     */
    private static void rowSums(Chunk c, AdafactorStep k, AdafactorChunk w, int start, int from, int bound, int colK,
                                int rowAt, int rowMask, int pAt, int pMask) {
        final MemorySegment ps = w.params, gs = w.grads;
        final double[] acc = w.acc, cols = w.colSums;
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector eps1 = FloatVector.broadcast(SPECIES, k.eps1);
        for (int j = from; j < bound; j += L) {
            final long off = (long) (start + j) * Float.BYTES;
            final int rq = rowAt + (j & rowMask), pq = pAt + (j & pMask);
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector sq = g.mul(g).add(eps1);
            DoubleVector s0 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector s1 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 1);
            DoubleVector p0 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector p1 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 1);
            DoubleVector.fromArray(DSPECIES, acc, rq).add(s0).intoArray(acc, rq);
            DoubleVector.fromArray(DSPECIES, acc, rq + H).add(s1).intoArray(acc, rq + H);
            DoubleVector.fromArray(DSPECIES, cols, colK + j).add(s0).intoArray(cols, colK + j);
            DoubleVector.fromArray(DSPECIES, cols, colK + j + H).add(s1).intoArray(cols, colK + j + H);
            p0.fma(p0, DoubleVector.fromArray(DSPECIES, acc, pq)).intoArray(acc, pq);
            p1.fma(p1, DoubleVector.fromArray(DSPECIES, acc, pq + H)).intoArray(acc, pq + H);
        }
    }

    /**
     * Pass 1 over the whole vectors {@code [0, end)} of a group's 4 rows (the first at chunk element {@code start}),
     * 512-bit vectors: per 16 columns each column's two double vectors are loaded once, the 4 rows' {@code g^2 + eps1}
     * added in row order (the bits of adding row by row) and stored once, a quarter of the column traffic of a row
     * at a time (at 8192 columns the chunk's column sums, 64 KB, do not stay in L1). Each row keeps 16 row partials
     * and 16 p^2 partials ({@code j mod 16}) in 2 registers each: 16 independent chains, one add each per 16 columns.
     */
    private static void groupSums(Chunk c, AdafactorStep k, AdafactorChunk w, int start, int end, int colK) {
        final MemorySegment ps = w.params, gs = w.grads;
        final double[] acc = w.acc, cols = w.colSums;
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector eps1 = FloatVector.broadcast(SPECIES, k.eps1);
        final long rb = (long) w.cols * Float.BYTES;
        DoubleVector r00 = DoubleVector.fromArray(DSPECIES, acc, ROW);
        DoubleVector r01 = DoubleVector.fromArray(DSPECIES, acc, ROW + D);
        DoubleVector r10 = DoubleVector.fromArray(DSPECIES, acc, ROW + GP);
        DoubleVector r11 = DoubleVector.fromArray(DSPECIES, acc, ROW + GP + D);
        DoubleVector r20 = DoubleVector.fromArray(DSPECIES, acc, ROW + 2 * GP);
        DoubleVector r21 = DoubleVector.fromArray(DSPECIES, acc, ROW + 2 * GP + D);
        DoubleVector r30 = DoubleVector.fromArray(DSPECIES, acc, ROW + 3 * GP);
        DoubleVector r31 = DoubleVector.fromArray(DSPECIES, acc, ROW + 3 * GP + D);
        DoubleVector a00 = DoubleVector.fromArray(DSPECIES, acc, 0);
        DoubleVector a01 = DoubleVector.fromArray(DSPECIES, acc, D);
        DoubleVector a10 = DoubleVector.fromArray(DSPECIES, acc, GP);
        DoubleVector a11 = DoubleVector.fromArray(DSPECIES, acc, GP + D);
        DoubleVector a20 = DoubleVector.fromArray(DSPECIES, acc, 2 * GP);
        DoubleVector a21 = DoubleVector.fromArray(DSPECIES, acc, 2 * GP + D);
        DoubleVector a30 = DoubleVector.fromArray(DSPECIES, acc, 3 * GP);
        DoubleVector a31 = DoubleVector.fromArray(DSPECIES, acc, 3 * GP + D);
        for (int j = 0; j < end; j += L) {
            final long o0 = (long) (start + j) * Float.BYTES, o1 = o0 + rb, o2 = o1 + rb, o3 = o2 + rb;
            final int ck = colK + j;
            DoubleVector c0 = DoubleVector.fromArray(DSPECIES, cols, ck);
            DoubleVector c1 = DoubleVector.fromArray(DSPECIES, cols, ck + D);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, o0, ORDER).mul(scale);
            FloatVector sq = g.mul(g).add(eps1);
            DoubleVector s0 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector s1 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 1);
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, o0, ORDER);
            DoubleVector q0 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector q1 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 1);
            r00 = r00.add(s0);
            r01 = r01.add(s1);
            c0 = c0.add(s0);
            c1 = c1.add(s1);
            a00 = q0.fma(q0, a00);
            a01 = q1.fma(q1, a01);
            g = FloatVector.fromMemorySegment(SPECIES, gs, o1, ORDER).mul(scale);
            sq = g.mul(g).add(eps1);
            s0 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 0);
            s1 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 1);
            p = FloatVector.fromMemorySegment(SPECIES, ps, o1, ORDER);
            q0 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 0);
            q1 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 1);
            r10 = r10.add(s0);
            r11 = r11.add(s1);
            c0 = c0.add(s0);
            c1 = c1.add(s1);
            a10 = q0.fma(q0, a10);
            a11 = q1.fma(q1, a11);
            g = FloatVector.fromMemorySegment(SPECIES, gs, o2, ORDER).mul(scale);
            sq = g.mul(g).add(eps1);
            s0 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 0);
            s1 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 1);
            p = FloatVector.fromMemorySegment(SPECIES, ps, o2, ORDER);
            q0 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 0);
            q1 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 1);
            r20 = r20.add(s0);
            r21 = r21.add(s1);
            c0 = c0.add(s0);
            c1 = c1.add(s1);
            a20 = q0.fma(q0, a20);
            a21 = q1.fma(q1, a21);
            g = FloatVector.fromMemorySegment(SPECIES, gs, o3, ORDER).mul(scale);
            sq = g.mul(g).add(eps1);
            s0 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 0);
            s1 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 1);
            p = FloatVector.fromMemorySegment(SPECIES, ps, o3, ORDER);
            q0 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 0);
            q1 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 1);
            r30 = r30.add(s0);
            r31 = r31.add(s1);
            c0 = c0.add(s0);
            c1 = c1.add(s1);
            a30 = q0.fma(q0, a30);
            a31 = q1.fma(q1, a31);
            c0.intoArray(cols, ck);
            c1.intoArray(cols, ck + D);
        }
        r00.intoArray(acc, ROW);
        r01.intoArray(acc, ROW + D);
        r10.intoArray(acc, ROW + GP);
        r11.intoArray(acc, ROW + GP + D);
        r20.intoArray(acc, ROW + 2 * GP);
        r21.intoArray(acc, ROW + 2 * GP + D);
        r30.intoArray(acc, ROW + 3 * GP);
        r31.intoArray(acc, ROW + 3 * GP + D);
        a00.intoArray(acc, 0);
        a01.intoArray(acc, D);
        a10.intoArray(acc, GP);
        a11.intoArray(acc, GP + D);
        a20.intoArray(acc, 2 * GP);
        a21.intoArray(acc, 2 * GP + D);
        a30.intoArray(acc, 3 * GP);
        a31.intoArray(acc, 3 * GP + D);
    }

    /**
     * Pass 1 over the whole blocks of {@code P} elements of a row segment, {@code [0, end)} from chunk element
     * {@code start}: the block's 4 vectors are 8 halves, half {@code v} adding to partials {@code 8v..8v+7}, each
     * sum's 64 partials kept in 8 registers. Eight independent add chains per sum, not two: with two, the adds
     * waiting on their chain filled the scheduler and held back the loads, and out of cache the pass ran at half
     * its streams' speed (thread CPU time per element at 16M, a 4096-wide matrix: 0.44 ns against the C traffic
     * pass's 0.21).
     */
    private static void rowSumBlocks(Chunk c, AdafactorStep k, AdafactorChunk w, int start, int end, int colK) {
        final MemorySegment ps = w.params, gs = w.grads;
        final double[] acc = w.acc, cols = w.colSums;
        final FloatVector scale = FloatVector.broadcast(HALF, k.gradScale);
        final FloatVector eps1 = FloatVector.broadcast(HALF, k.eps1);
        DoubleVector r0 = DoubleVector.fromArray(DSPECIES, acc, ROW);
        DoubleVector r1 = DoubleVector.fromArray(DSPECIES, acc, ROW + D);
        DoubleVector r2 = DoubleVector.fromArray(DSPECIES, acc, ROW + 2 * D);
        DoubleVector r3 = DoubleVector.fromArray(DSPECIES, acc, ROW + 3 * D);
        DoubleVector r4 = DoubleVector.fromArray(DSPECIES, acc, ROW + 4 * D);
        DoubleVector r5 = DoubleVector.fromArray(DSPECIES, acc, ROW + 5 * D);
        DoubleVector r6 = DoubleVector.fromArray(DSPECIES, acc, ROW + 6 * D);
        DoubleVector r7 = DoubleVector.fromArray(DSPECIES, acc, ROW + 7 * D);
        DoubleVector a0 = DoubleVector.fromArray(DSPECIES, acc, 0);
        DoubleVector a1 = DoubleVector.fromArray(DSPECIES, acc, D);
        DoubleVector a2 = DoubleVector.fromArray(DSPECIES, acc, 2 * D);
        DoubleVector a3 = DoubleVector.fromArray(DSPECIES, acc, 3 * D);
        DoubleVector a4 = DoubleVector.fromArray(DSPECIES, acc, 4 * D);
        DoubleVector a5 = DoubleVector.fromArray(DSPECIES, acc, 5 * D);
        DoubleVector a6 = DoubleVector.fromArray(DSPECIES, acc, 6 * D);
        DoubleVector a7 = DoubleVector.fromArray(DSPECIES, acc, 7 * D);
        for (int j = 0; j < end; j += P) {
            final long off = (long) (start + j) * Float.BYTES;
            final int ck = colK + j;
            {
                FloatVector g0 = FloatVector.fromMemorySegment(HALF, gs, off, ORDER).mul(scale);
                DoubleVector s0 = (DoubleVector) g0.mul(g0).add(eps1).convertShape(VectorOperators.F2D, DSPECIES, 0);
                r0 = r0.add(s0);
                DoubleVector.fromArray(DSPECIES, cols, ck).add(s0).intoArray(cols, ck);
                DoubleVector p0 = (DoubleVector) FloatVector.fromMemorySegment(HALF, ps, off, ORDER)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a0 = p0.fma(p0, a0);
                FloatVector g1 = FloatVector.fromMemorySegment(HALF, gs, off + HB, ORDER).mul(scale);
                DoubleVector s1 = (DoubleVector) g1.mul(g1).add(eps1).convertShape(VectorOperators.F2D, DSPECIES, 0);
                r1 = r1.add(s1);
                DoubleVector.fromArray(DSPECIES, cols, ck + D).add(s1).intoArray(cols, ck + D);
                DoubleVector p1 = (DoubleVector) FloatVector.fromMemorySegment(HALF, ps, off + HB, ORDER)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a1 = p1.fma(p1, a1);
                FloatVector g2 = FloatVector.fromMemorySegment(HALF, gs, off + 2 * HB, ORDER).mul(scale);
                DoubleVector s2 = (DoubleVector) g2.mul(g2).add(eps1).convertShape(VectorOperators.F2D, DSPECIES, 0);
                r2 = r2.add(s2);
                DoubleVector.fromArray(DSPECIES, cols, ck + 2 * D).add(s2).intoArray(cols, ck + 2 * D);
                DoubleVector p2 = (DoubleVector) FloatVector.fromMemorySegment(HALF, ps, off + 2 * HB, ORDER)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a2 = p2.fma(p2, a2);
                FloatVector g3 = FloatVector.fromMemorySegment(HALF, gs, off + 3 * HB, ORDER).mul(scale);
                DoubleVector s3 = (DoubleVector) g3.mul(g3).add(eps1).convertShape(VectorOperators.F2D, DSPECIES, 0);
                r3 = r3.add(s3);
                DoubleVector.fromArray(DSPECIES, cols, ck + 3 * D).add(s3).intoArray(cols, ck + 3 * D);
                DoubleVector p3 = (DoubleVector) FloatVector.fromMemorySegment(HALF, ps, off + 3 * HB, ORDER)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a3 = p3.fma(p3, a3);
                FloatVector g4 = FloatVector.fromMemorySegment(HALF, gs, off + 4 * HB, ORDER).mul(scale);
                DoubleVector s4 = (DoubleVector) g4.mul(g4).add(eps1).convertShape(VectorOperators.F2D, DSPECIES, 0);
                r4 = r4.add(s4);
                DoubleVector.fromArray(DSPECIES, cols, ck + 4 * D).add(s4).intoArray(cols, ck + 4 * D);
                DoubleVector p4 = (DoubleVector) FloatVector.fromMemorySegment(HALF, ps, off + 4 * HB, ORDER)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a4 = p4.fma(p4, a4);
                FloatVector g5 = FloatVector.fromMemorySegment(HALF, gs, off + 5 * HB, ORDER).mul(scale);
                DoubleVector s5 = (DoubleVector) g5.mul(g5).add(eps1).convertShape(VectorOperators.F2D, DSPECIES, 0);
                r5 = r5.add(s5);
                DoubleVector.fromArray(DSPECIES, cols, ck + 5 * D).add(s5).intoArray(cols, ck + 5 * D);
                DoubleVector p5 = (DoubleVector) FloatVector.fromMemorySegment(HALF, ps, off + 5 * HB, ORDER)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a5 = p5.fma(p5, a5);
                FloatVector g6 = FloatVector.fromMemorySegment(HALF, gs, off + 6 * HB, ORDER).mul(scale);
                DoubleVector s6 = (DoubleVector) g6.mul(g6).add(eps1).convertShape(VectorOperators.F2D, DSPECIES, 0);
                r6 = r6.add(s6);
                DoubleVector.fromArray(DSPECIES, cols, ck + 6 * D).add(s6).intoArray(cols, ck + 6 * D);
                DoubleVector p6 = (DoubleVector) FloatVector.fromMemorySegment(HALF, ps, off + 6 * HB, ORDER)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a6 = p6.fma(p6, a6);
                FloatVector g7 = FloatVector.fromMemorySegment(HALF, gs, off + 7 * HB, ORDER).mul(scale);
                DoubleVector s7 = (DoubleVector) g7.mul(g7).add(eps1).convertShape(VectorOperators.F2D, DSPECIES, 0);
                r7 = r7.add(s7);
                DoubleVector.fromArray(DSPECIES, cols, ck + 7 * D).add(s7).intoArray(cols, ck + 7 * D);
                DoubleVector p7 = (DoubleVector) FloatVector.fromMemorySegment(HALF, ps, off + 7 * HB, ORDER)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a7 = p7.fma(p7, a7);
            }
        }
        r0.intoArray(acc, ROW);
        r1.intoArray(acc, ROW + D);
        r2.intoArray(acc, ROW + 2 * D);
        r3.intoArray(acc, ROW + 3 * D);
        r4.intoArray(acc, ROW + 4 * D);
        r5.intoArray(acc, ROW + 5 * D);
        r6.intoArray(acc, ROW + 6 * D);
        r7.intoArray(acc, ROW + 7 * D);
        a0.intoArray(acc, 0);
        a1.intoArray(acc, D);
        a2.intoArray(acc, 2 * D);
        a3.intoArray(acc, 3 * D);
        a4.intoArray(acc, 4 * D);
        a5.intoArray(acc, 5 * D);
        a6.intoArray(acc, 6 * D);
        a7.intoArray(acc, 7 * D);
    }

    private static void vectorSums(Chunk c, AdafactorStep k, AdafactorChunk w, int bound) {
        final MemorySegment ps = w.params, gs = w.grads, vs = w.expAvgSq;
        final double[] acc = w.acc;
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector eps1 = FloatVector.broadcast(SPECIES, k.eps1);
        final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2t);
        final FloatVector c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2t);
        final FloatVector one = FloatVector.broadcast(SPECIES, 1f);
        for (int j = 0; j < bound; j += L) {
            final long off = (long) j * Float.BYTES;
            final int q = j & (P - 1);
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector v = g.mul(g).add(eps1).fma(c2, FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).mul(b2));
            v.intoMemorySegment(vs, off, ORDER);
            FloatVector u = one.div(v.lanewise(VectorOperators.SQRT)).mul(g);
            DoubleVector p0 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector p1 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 1);
            DoubleVector u0 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector u1 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 1);
            p0.fma(p0, DoubleVector.fromArray(DSPECIES, acc, q)).intoArray(acc, q);
            p1.fma(p1, DoubleVector.fromArray(DSPECIES, acc, q + H)).intoArray(acc, q + H);
            u0.fma(u0, DoubleVector.fromArray(DSPECIES, acc, U + q)).intoArray(acc, U + q);
            u1.fma(u1, DoubleVector.fromArray(DSPECIES, acc, U + q + H)).intoArray(acc, U + q + H);
        }
    }

    static void updateSums(Chunk c, AdafactorStep k, AdafactorChunk w) {
        w.clear(U, P);
        final int n = c.length, C = w.cols, R = w.rows;
        for (int i = 0; i < n; ) {
            final long pos = w.first + i, gr = pos / C;
            final int col = (int) (pos - gr * C), len = Math.min(C - col, n - i);
            final int cf0 = (int) ((gr / R) * C + col);
            if (AdafactorStep.group(w, n, i, gr, col)) {
                final int bound = GROUP_VECTORS ? SPECIES.loopBound(C) : 0;
                int from = 0;
                if (BLOCKS) {
                    groupUpdateSums(c, k, w, i, bound, (int) gr, cf0);
                    from = bound;
                }
                for (int r = 0; r < GROUP; r++) {
                    final float rf = w.rowFactor[(int) gr + r];
                    if (from < bound) {
                        rowUpdateSums(c, k, w, i + r * C, from, bound, rf, cf0, U + r * GP, GP - 1);
                    }
                    AdafactorStep.rowUpdateSums(c, k, w, i + r * C, C, rf, cf0, bound, U + r * GP, GP - 1);
                }
                i += GROUP * C;
                continue;
            }
            final float rf = w.rowFactor[(int) gr];
            final int bound = SPECIES.loopBound(len);
            int from = 0;
            if (BLOCKS) {
                from = bound & -P;
                updateSumBlocks(c, k, w, i, from, rf, cf0);
            }
            if (from < bound) {
                rowUpdateSums(c, k, w, i, from, bound, rf, cf0, U, P - 1);
            }
            AdafactorStep.rowUpdateSums(c, k, w, i, len, rf, cf0, bound, U, P - 1);
            i += len;
        }
        w.updateSquares = w.total(U);
    }

    /** Pass 2 over whole vectors {@code [from, bound)} of a row segment, element {@code j} to partial {@code at + (j & mask)}. */
    private static void rowUpdateSums(Chunk c, AdafactorStep k, AdafactorChunk w, int start, int from, int bound,
                                      float rf, int cf0, int at, int mask) {
        final MemorySegment gs = w.grads;
        final double[] acc = w.acc;
        final float[] cf = w.colFactor;
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector rfv = FloatVector.broadcast(SPECIES, rf);
        for (int j = from; j < bound; j += L) {
            final int q = at + (j & mask);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, (long) (start + j) * Float.BYTES, ORDER)
                    .mul(scale);
            FloatVector u = rfv.mul(FloatVector.fromArray(SPECIES, cf, cf0 + j)).mul(g);
            DoubleVector u0 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector u1 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 1);
            u0.fma(u0, DoubleVector.fromArray(DSPECIES, acc, q)).intoArray(acc, q);
            u1.fma(u1, DoubleVector.fromArray(DSPECIES, acc, q + H)).intoArray(acc, q + H);
        }
    }

    /**
     * Pass 2 over the whole vectors {@code [0, end)} of a group's 4 rows (global rows {@code gr..gr+3}, the first at
     * chunk element {@code start}), 512-bit vectors: per 16 columns the column factors are loaded once for the 4
     * rows. At 8192 columns they are 32 KB, which the gradient streaming through L1 pushes out to L2: loading them
     * per row cost pass 2 about 40% of its time (thread CPU time per element at 64M: 0.25-0.27 ns, 0.16-0.21 without
     * the load and its multiply, the C pass 0.15). Each row's update^2 in 16 partials, 2 registers.
     */
    private static void groupUpdateSums(Chunk c, AdafactorStep k, AdafactorChunk w, int start, int end, int gr,
                                        int cf0) {
        final MemorySegment gs = w.grads;
        final double[] acc = w.acc;
        final float[] cf = w.colFactor;
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector f0 = FloatVector.broadcast(SPECIES, w.rowFactor[gr]);
        final FloatVector f1 = FloatVector.broadcast(SPECIES, w.rowFactor[gr + 1]);
        final FloatVector f2 = FloatVector.broadcast(SPECIES, w.rowFactor[gr + 2]);
        final FloatVector f3 = FloatVector.broadcast(SPECIES, w.rowFactor[gr + 3]);
        final long rb = (long) w.cols * Float.BYTES;
        DoubleVector a00 = DoubleVector.fromArray(DSPECIES, acc, U);
        DoubleVector a01 = DoubleVector.fromArray(DSPECIES, acc, U + D);
        DoubleVector a10 = DoubleVector.fromArray(DSPECIES, acc, U + GP);
        DoubleVector a11 = DoubleVector.fromArray(DSPECIES, acc, U + GP + D);
        DoubleVector a20 = DoubleVector.fromArray(DSPECIES, acc, U + 2 * GP);
        DoubleVector a21 = DoubleVector.fromArray(DSPECIES, acc, U + 2 * GP + D);
        DoubleVector a30 = DoubleVector.fromArray(DSPECIES, acc, U + 3 * GP);
        DoubleVector a31 = DoubleVector.fromArray(DSPECIES, acc, U + 3 * GP + D);
        for (int j = 0; j < end; j += L) {
            final long o0 = (long) (start + j) * Float.BYTES, o1 = o0 + rb, o2 = o1 + rb, o3 = o2 + rb;
            final FloatVector cfv = FloatVector.fromArray(SPECIES, cf, cf0 + j);
            FloatVector u = f0.mul(cfv).mul(FloatVector.fromMemorySegment(SPECIES, gs, o0, ORDER).mul(scale));
            DoubleVector u0 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector u1 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 1);
            a00 = u0.fma(u0, a00);
            a01 = u1.fma(u1, a01);
            u = f1.mul(cfv).mul(FloatVector.fromMemorySegment(SPECIES, gs, o1, ORDER).mul(scale));
            u0 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 0);
            u1 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 1);
            a10 = u0.fma(u0, a10);
            a11 = u1.fma(u1, a11);
            u = f2.mul(cfv).mul(FloatVector.fromMemorySegment(SPECIES, gs, o2, ORDER).mul(scale));
            u0 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 0);
            u1 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 1);
            a20 = u0.fma(u0, a20);
            a21 = u1.fma(u1, a21);
            u = f3.mul(cfv).mul(FloatVector.fromMemorySegment(SPECIES, gs, o3, ORDER).mul(scale));
            u0 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 0);
            u1 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 1);
            a30 = u0.fma(u0, a30);
            a31 = u1.fma(u1, a31);
        }
        a00.intoArray(acc, U);
        a01.intoArray(acc, U + D);
        a10.intoArray(acc, U + GP);
        a11.intoArray(acc, U + GP + D);
        a20.intoArray(acc, U + 2 * GP);
        a21.intoArray(acc, U + 2 * GP + D);
        a30.intoArray(acc, U + 3 * GP);
        a31.intoArray(acc, U + 3 * GP + D);
    }

    /** Pass 2 over the whole blocks of a row segment, as {@link #rowSumBlocks}: 8 chains of update^2. */
    private static void updateSumBlocks(Chunk c, AdafactorStep k, AdafactorChunk w, int start, int end, float rf,
                                        int cf0) {
        final MemorySegment gs = w.grads;
        final double[] acc = w.acc;
        final float[] cf = w.colFactor;
        final FloatVector scale = FloatVector.broadcast(HALF, k.gradScale);
        final FloatVector rfv = FloatVector.broadcast(HALF, rf);
        DoubleVector a0 = DoubleVector.fromArray(DSPECIES, acc, U);
        DoubleVector a1 = DoubleVector.fromArray(DSPECIES, acc, U + D);
        DoubleVector a2 = DoubleVector.fromArray(DSPECIES, acc, U + 2 * D);
        DoubleVector a3 = DoubleVector.fromArray(DSPECIES, acc, U + 3 * D);
        DoubleVector a4 = DoubleVector.fromArray(DSPECIES, acc, U + 4 * D);
        DoubleVector a5 = DoubleVector.fromArray(DSPECIES, acc, U + 5 * D);
        DoubleVector a6 = DoubleVector.fromArray(DSPECIES, acc, U + 6 * D);
        DoubleVector a7 = DoubleVector.fromArray(DSPECIES, acc, U + 7 * D);
        for (int j = 0; j < end; j += P) {
            final long off = (long) (start + j) * Float.BYTES;
            final int cj = cf0 + j;
            {
                FloatVector g0 = FloatVector.fromMemorySegment(HALF, gs, off, ORDER).mul(scale);
                DoubleVector u0 = (DoubleVector) rfv.mul(FloatVector.fromArray(HALF, cf, cj)).mul(g0)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a0 = u0.fma(u0, a0);
                FloatVector g1 = FloatVector.fromMemorySegment(HALF, gs, off + HB, ORDER).mul(scale);
                DoubleVector u1 = (DoubleVector) rfv.mul(FloatVector.fromArray(HALF, cf, cj + D)).mul(g1)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a1 = u1.fma(u1, a1);
                FloatVector g2 = FloatVector.fromMemorySegment(HALF, gs, off + 2 * HB, ORDER).mul(scale);
                DoubleVector u2 = (DoubleVector) rfv.mul(FloatVector.fromArray(HALF, cf, cj + 2 * D)).mul(g2)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a2 = u2.fma(u2, a2);
                FloatVector g3 = FloatVector.fromMemorySegment(HALF, gs, off + 3 * HB, ORDER).mul(scale);
                DoubleVector u3 = (DoubleVector) rfv.mul(FloatVector.fromArray(HALF, cf, cj + 3 * D)).mul(g3)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a3 = u3.fma(u3, a3);
                FloatVector g4 = FloatVector.fromMemorySegment(HALF, gs, off + 4 * HB, ORDER).mul(scale);
                DoubleVector u4 = (DoubleVector) rfv.mul(FloatVector.fromArray(HALF, cf, cj + 4 * D)).mul(g4)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a4 = u4.fma(u4, a4);
                FloatVector g5 = FloatVector.fromMemorySegment(HALF, gs, off + 5 * HB, ORDER).mul(scale);
                DoubleVector u5 = (DoubleVector) rfv.mul(FloatVector.fromArray(HALF, cf, cj + 5 * D)).mul(g5)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a5 = u5.fma(u5, a5);
                FloatVector g6 = FloatVector.fromMemorySegment(HALF, gs, off + 6 * HB, ORDER).mul(scale);
                DoubleVector u6 = (DoubleVector) rfv.mul(FloatVector.fromArray(HALF, cf, cj + 6 * D)).mul(g6)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a6 = u6.fma(u6, a6);
                FloatVector g7 = FloatVector.fromMemorySegment(HALF, gs, off + 7 * HB, ORDER).mul(scale);
                DoubleVector u7 = (DoubleVector) rfv.mul(FloatVector.fromArray(HALF, cf, cj + 7 * D)).mul(g7)
                        .convertShape(VectorOperators.F2D, DSPECIES, 0);
                a7 = u7.fma(u7, a7);
            }
        }
        a0.intoArray(acc, U);
        a1.intoArray(acc, U + D);
        a2.intoArray(acc, U + 2 * D);
        a3.intoArray(acc, U + 3 * D);
        a4.intoArray(acc, U + 4 * D);
        a5.intoArray(acc, U + 5 * D);
        a6.intoArray(acc, U + 6 * D);
        a7.intoArray(acc, U + 7 * D);
    }

    static void apply(Chunk c, AdafactorStep k, AdafactorChunk w) {
        final int n = c.length;
        if (w.cols == 0) {
            int bound = SPECIES.loopBound(n);
            vectorApply(c, k, w, bound);
            AdafactorStep.vectorApply(c, k, w, bound, n);
        } else if (k.firstMoment) {
            matrixApplyMoment(c, k, w);
        } else {
            matrixApply(c, k, w);
        }
    }

    // The matrix's row loop twice, without and with a first moment, rather than one loop choosing per row segment:
    // compiled as one method with rowApplyMoment, rowsApply and the scalar tail inlined, C2 reached its inlining node
    // cutoff and left rowApplyMoment's fma not intrinsified, allocating two vectors' arrays per vector of columns
    // (JFR's allocation samples, under -XX:CompileThresholdScaling=0.2).

    /** Pass 3 of a matrix chunk without a first moment: groups of {@link AdafactorStep#GROUP} rows where they fit. */
    private static void matrixApply(Chunk c, AdafactorStep k, AdafactorChunk w) {
        final int n = c.length, C = w.cols, R = w.rows;
        for (int i = 0; i < n; ) {
            final long pos = w.first + i, gr = pos / C;
            final int col = (int) (pos - gr * C), len = Math.min(C - col, n - i);
            final int rows = AdafactorStep.group(w, n, i, gr, col) ? GROUP : 1;
            final int cf0 = (int) ((gr / R) * C + col), bound = SPECIES.loopBound(len);
            rowsApply(c, k, w, i, rows, bound, (int) gr, cf0);
            for (int r = 0; r < rows; r++) {
                AdafactorStep.rowApply(c, k, w, i + r * C, len, w.rowFactor[(int) gr + r], cf0, bound);
            }
            i += rows * len;
        }
    }

    /** Pass 3 of a matrix chunk with a first moment: row segment by row segment. */
    private static void matrixApplyMoment(Chunk c, AdafactorStep k, AdafactorChunk w) {
        final int n = c.length, C = w.cols, R = w.rows;
        for (int i = 0; i < n; ) {
            final long pos = w.first + i, gr = pos / C;
            final int col = (int) (pos - gr * C), len = Math.min(C - col, n - i);
            final int cf0 = (int) ((gr / R) * C + col), bound = SPECIES.loopBound(len);
            final float rf = w.rowFactor[(int) gr];
            rowApplyMoment(c, k, w, i, bound, rf, cf0);
            AdafactorStep.rowApply(c, k, w, i, len, rf, cf0, bound);
            i += len;
        }
    }

    /**
     * Pass 3 without a first moment over the whole vectors {@code [0, bound)} of {@code rows} row segments of one
     * matrix, {@code C} apart, the first at chunk element {@code start} (global row {@code gr}, its first column's
     * factor at {@code cf0}): a group's {@link AdafactorStep#GROUP} whole rows, or (rows 1) one row segment. Per
     * vector of columns the column factors are loaded once for the rows (at 8192 columns they are 32 KB, pushed out
     * of L1 by the streams, as in pass 2). One method for both, so that every row segment runs it and C2 compiles it
     * early and whole: with a separate loop for the row left over after a matrix's groups (called once a step), that
     * loop ran in code whose vector operations were not intrinsified and allocated ({@code StepAllocationTest}, 3 runs
     * in 5). The group's rows are written out, not a loop over {@code rows}: with such a loop the pass ran at 0.76x
     * its C pass instead of 0.80-0.85x (thread CPU time per element at 64M, 8192 wide). No sums here: every
     * element's update is the scalar loop's, bit for bit.
     */
    private static void rowsApply(Chunk c, AdafactorStep k, AdafactorChunk w, int start, int rows, int bound, int gr,
                                  int cf0) {
        final MemorySegment ps = w.params, gs = w.grads;
        final float[] cf = w.colFactor, rf = w.rowFactor;
        final boolean group = rows == GROUP, decays = k.decay;
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector d = FloatVector.broadcast(SPECIES, w.clipDivisor);
        final FloatVector lr = FloatVector.broadcast(SPECIES, w.lr);
        final FloatVector decay = FloatVector.broadcast(SPECIES, w.decay);
        final FloatVector f0 = FloatVector.broadcast(SPECIES, rf[gr]);
        final FloatVector f1 = FloatVector.broadcast(SPECIES, rf[group ? gr + 1 : gr]);
        final FloatVector f2 = FloatVector.broadcast(SPECIES, rf[group ? gr + 2 : gr]);
        final FloatVector f3 = FloatVector.broadcast(SPECIES, rf[group ? gr + 3 : gr]);
        final long rb = (long) w.cols * Float.BYTES;
        for (int j = 0; j < bound; j += L) {
            final FloatVector cfv = FloatVector.fromArray(SPECIES, cf, cf0 + j);
            long o = (long) (start + j) * Float.BYTES;
            FloatVector u = f0.mul(cfv).mul(FloatVector.fromMemorySegment(SPECIES, gs, o, ORDER).mul(scale))
                    .div(d).mul(lr);
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, o, ORDER);
            p = decays ? p.fma(decay, p) : p;
            p.sub(u).intoMemorySegment(ps, o, ORDER);
            if (!group) {
                continue;
            }
            o += rb;
            u = f1.mul(cfv).mul(FloatVector.fromMemorySegment(SPECIES, gs, o, ORDER).mul(scale)).div(d).mul(lr);
            p = FloatVector.fromMemorySegment(SPECIES, ps, o, ORDER);
            p = decays ? p.fma(decay, p) : p;
            p.sub(u).intoMemorySegment(ps, o, ORDER);
            o += rb;
            u = f2.mul(cfv).mul(FloatVector.fromMemorySegment(SPECIES, gs, o, ORDER).mul(scale)).div(d).mul(lr);
            p = FloatVector.fromMemorySegment(SPECIES, ps, o, ORDER);
            p = decays ? p.fma(decay, p) : p;
            p.sub(u).intoMemorySegment(ps, o, ORDER);
            o += rb;
            u = f3.mul(cfv).mul(FloatVector.fromMemorySegment(SPECIES, gs, o, ORDER).mul(scale)).div(d).mul(lr);
            p = FloatVector.fromMemorySegment(SPECIES, ps, o, ORDER);
            p = decays ? p.fma(decay, p) : p;
            p.sub(u).intoMemorySegment(ps, o, ORDER);
        }
    }

    /**
     * Pass 3 with a first moment ({@code exp_avg}, beta1 given) over the whole vectors {@code [0, bound)} of one row
     * segment, row by row as before the groups. Grouped, as {@link #rowsApply} (the rows written out, or a loop over
     * them), the loop allocated in some runs: a vector made before the loop boxed once per call, 800 bytes a step in
     * {@code StepAllocationTest} (every run with the rows written out, 1 run in 5 with the loop).
     */
    private static void rowApplyMoment(Chunk c, AdafactorStep k, AdafactorChunk w, int start, int bound, float rf,
                                       int cf0) {
        final MemorySegment ps = w.params, gs = w.grads, ms = w.expAvg;
        final float[] cf = w.colFactor;
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector rfv = FloatVector.broadcast(SPECIES, rf);
        final FloatVector d = FloatVector.broadcast(SPECIES, w.clipDivisor);
        final FloatVector lr = FloatVector.broadcast(SPECIES, w.lr);
        final FloatVector decay = FloatVector.broadcast(SPECIES, w.decay);
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1);
        final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final boolean decays = k.decay;
        for (int j = 0; j < bound; j += L) {
            final long off = (long) (start + j) * Float.BYTES;
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector u = rfv.mul(FloatVector.fromArray(SPECIES, cf, cf0 + j)).mul(g).div(d).mul(lr);
            u = u.fma(c1, FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).mul(b1));
            u.intoMemorySegment(ms, off, ORDER);
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            if (decays) {
                p = p.fma(decay, p);
            }
            p.sub(u).intoMemorySegment(ps, off, ORDER);
        }
    }

    private static void vectorApply(Chunk c, AdafactorStep k, AdafactorChunk w, int bound) {
        final MemorySegment ps = w.params, gs = w.grads, vs = w.expAvgSq, ms = k.firstMoment ? w.expAvg : null;
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector one = FloatVector.broadcast(SPECIES, 1f);
        final FloatVector d = FloatVector.broadcast(SPECIES, w.clipDivisor);
        final FloatVector lr = FloatVector.broadcast(SPECIES, w.lr);
        final FloatVector decay = FloatVector.broadcast(SPECIES, w.decay);
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1);
        final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final boolean first = k.firstMoment, decays = k.decay;
        for (int j = 0; j < bound; j += L) {
            final long off = (long) j * Float.BYTES;
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER);
            FloatVector u = one.div(v.lanewise(VectorOperators.SQRT)).mul(g).div(d).mul(lr);
            if (first) {
                u = u.fma(c1, FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).mul(b1));
                u.intoMemorySegment(ms, off, ORDER);
            }
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            if (decays) {
                p = p.fma(decay, p);
            }
            p.sub(u).intoMemorySegment(ps, off, ORDER);
        }
    }
}
