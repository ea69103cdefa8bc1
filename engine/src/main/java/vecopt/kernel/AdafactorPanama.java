package vecopt.kernel;

import static vecopt.kernel.AdafactorStep.P;
import static vecopt.kernel.AdafactorStep.ROW;
import static vecopt.kernel.AdafactorStep.U;
import static vecopt.kernel.PanamaKernels.DSPECIES;
import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Adafactor's vector loops ({@link AdafactorStep} states the formulas and the summation order). Each row segment
 * (each chunk, for an unfactored tensor) runs whole vectors here and its remaining elements through the scalar
 * loop. The partial sums live in the chunk's {@code acc} array, a vector's lanes adding to consecutive partials
 * ({@code j mod 16} for element {@code j} of the segment: the lane count divides 16), so the sums, and therefore
 * the state and parameters, are bitwise the scalar loops'. Row segments shorter than a vector (tensors with fewer
 * than 16 columns at 512 bits) run entirely in the scalar loop.
 */
final class AdafactorPanama {
    private static final int L = SPECIES.length();
    private static final int H = L / 2;

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
            final int colK = AdafactorStep.colSlot(w, gr, col), bound = SPECIES.loopBound(len);
            rowSums(c, k, w, i, bound, colK);
            AdafactorStep.rowSums(c, k, w, i, len, colK, bound);
            w.rowSums[(int) (gr - w.rowFirst)] = w.total(ROW);
            w.clear(ROW, P);
            i += len;
        }
        w.paramSquares = w.total(0);
    }

    private static void rowSums(Chunk c, AdafactorStep k, AdafactorChunk w, int start, int bound, int colK) {
        final MemorySegment ps = c.params, gs = c.grads;
        final double[] acc = w.acc, cols = w.colSums;
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector eps1 = FloatVector.broadcast(SPECIES, k.eps1);
        if (L == P) { // one vector of partials: kept in registers, not stored and reloaded each iteration
            DoubleVector r0 = DoubleVector.fromArray(DSPECIES, acc, ROW), r1 = DoubleVector.fromArray(DSPECIES, acc,
                    ROW + H), a0 = DoubleVector.fromArray(DSPECIES, acc, 0), a1 = DoubleVector.fromArray(DSPECIES, acc, H);
            for (int j = 0; j < bound; j += L) {
                final long off = (long) (start + j) * Float.BYTES;
                FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
                FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
                FloatVector sq = g.mul(g).add(eps1);
                DoubleVector s0 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 0);
                DoubleVector s1 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 1);
                DoubleVector p0 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 0);
                DoubleVector p1 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 1);
                r0 = r0.add(s0);
                r1 = r1.add(s1);
                DoubleVector.fromArray(DSPECIES, cols, colK + j).add(s0).intoArray(cols, colK + j);
                DoubleVector.fromArray(DSPECIES, cols, colK + j + H).add(s1).intoArray(cols, colK + j + H);
                a0 = p0.fma(p0, a0);
                a1 = p1.fma(p1, a1);
            }
            r0.intoArray(acc, ROW);
            r1.intoArray(acc, ROW + H);
            a0.intoArray(acc, 0);
            a1.intoArray(acc, H);
            return;
        }
        for (int j = 0; j < bound; j += L) {
            final long off = (long) (start + j) * Float.BYTES;
            final int q = j & (P - 1);
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector sq = g.mul(g).add(eps1);
            DoubleVector s0 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector s1 = (DoubleVector) sq.convertShape(VectorOperators.F2D, DSPECIES, 1);
            DoubleVector p0 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector p1 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 1);
            DoubleVector.fromArray(DSPECIES, acc, ROW + q).add(s0).intoArray(acc, ROW + q);
            DoubleVector.fromArray(DSPECIES, acc, ROW + q + H).add(s1).intoArray(acc, ROW + q + H);
            DoubleVector.fromArray(DSPECIES, cols, colK + j).add(s0).intoArray(cols, colK + j);
            DoubleVector.fromArray(DSPECIES, cols, colK + j + H).add(s1).intoArray(cols, colK + j + H);
            p0.fma(p0, DoubleVector.fromArray(DSPECIES, acc, q)).intoArray(acc, q);
            p1.fma(p1, DoubleVector.fromArray(DSPECIES, acc, q + H)).intoArray(acc, q + H);
        }
    }

    private static void vectorSums(Chunk c, AdafactorStep k, AdafactorChunk w, int bound) {
        final MemorySegment ps = c.params, gs = c.grads, vs = w.expAvgSq;
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
        final MemorySegment gs = c.grads;
        final double[] acc = w.acc;
        final float[] cf = w.colFactor;
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        for (int i = 0; i < n; ) {
            final long pos = w.first + i, gr = pos / C;
            final int col = (int) (pos - gr * C), len = Math.min(C - col, n - i);
            final float rf = w.rowFactor[(int) gr];
            final int cf0 = (int) ((gr / R) * C + col), bound = SPECIES.loopBound(len);
            final FloatVector rfv = FloatVector.broadcast(SPECIES, rf);
            if (L == P) { // the partials in registers, as in rowSums
                DoubleVector a0 = DoubleVector.fromArray(DSPECIES, acc, U), a1 = DoubleVector.fromArray(DSPECIES, acc,
                        U + H);
                for (int j = 0; j < bound; j += L) {
                    FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, (long) (i + j) * Float.BYTES, ORDER)
                            .mul(scale);
                    FloatVector u = rfv.mul(FloatVector.fromArray(SPECIES, cf, cf0 + j)).mul(g);
                    DoubleVector u0 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 0);
                    DoubleVector u1 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 1);
                    a0 = u0.fma(u0, a0);
                    a1 = u1.fma(u1, a1);
                }
                a0.intoArray(acc, U);
                a1.intoArray(acc, U + H);
            } else {
                for (int j = 0; j < bound; j += L) {
                    final int q = j & (P - 1);
                    FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, (long) (i + j) * Float.BYTES, ORDER)
                            .mul(scale);
                    FloatVector u = rfv.mul(FloatVector.fromArray(SPECIES, cf, cf0 + j)).mul(g);
                    DoubleVector u0 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 0);
                    DoubleVector u1 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 1);
                    u0.fma(u0, DoubleVector.fromArray(DSPECIES, acc, U + q)).intoArray(acc, U + q);
                    u1.fma(u1, DoubleVector.fromArray(DSPECIES, acc, U + q + H)).intoArray(acc, U + q + H);
                }
            }
            AdafactorStep.rowUpdateSums(c, k, w, i, len, rf, cf0, bound);
            i += len;
        }
        w.updateSquares = w.total(U);
    }

    static void apply(Chunk c, AdafactorStep k, AdafactorChunk w) {
        final int n = c.length;
        if (w.cols == 0) {
            int bound = SPECIES.loopBound(n);
            vectorApply(c, k, w, bound);
            AdafactorStep.vectorApply(c, k, w, bound, n);
            return;
        }
        final int C = w.cols, R = w.rows;
        for (int i = 0; i < n; ) {
            final long pos = w.first + i, gr = pos / C;
            final int col = (int) (pos - gr * C), len = Math.min(C - col, n - i);
            final float rf = w.rowFactor[(int) gr];
            final int cf0 = (int) ((gr / R) * C + col), bound = SPECIES.loopBound(len);
            rowApply(c, k, w, i, bound, rf, cf0);
            AdafactorStep.rowApply(c, k, w, i, len, rf, cf0, bound);
            i += len;
        }
    }

    private static void rowApply(Chunk c, AdafactorStep k, AdafactorChunk w, int start, int bound, float rf,
                                 int cf0) {
        final MemorySegment ps = c.params, gs = c.grads, ms = k.firstMoment ? c.state[0] : null;
        final float[] cf = w.colFactor;
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector rfv = FloatVector.broadcast(SPECIES, rf);
        final FloatVector d = FloatVector.broadcast(SPECIES, w.clipDivisor);
        final FloatVector lr = FloatVector.broadcast(SPECIES, w.lr);
        final FloatVector decay = FloatVector.broadcast(SPECIES, w.decay);
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1);
        final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final boolean first = k.firstMoment, decays = k.decay;
        for (int j = 0; j < bound; j += L) {
            final long off = (long) (start + j) * Float.BYTES;
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector u = rfv.mul(FloatVector.fromArray(SPECIES, cf, cf0 + j)).mul(g).div(d).mul(lr);
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

    private static void vectorApply(Chunk c, AdafactorStep k, AdafactorChunk w, int bound) {
        final MemorySegment ps = c.params, gs = c.grads, vs = w.expAvgSq, ms = k.firstMoment ? c.state[0] : null;
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
