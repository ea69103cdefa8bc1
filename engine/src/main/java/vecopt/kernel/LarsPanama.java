package vecopt.kernel;

import static vecopt.kernel.PanamaKernels.DSPECIES;
import static vecopt.kernel.PanamaKernels.HALF;
import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;
import static vecopt.kernel.PanamaKernels.tailMask;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * LARS's vector loops ({@link LarsStep} states the formulas): per lane the scalar loops' float operations, so the
 * trace and parameters are bitwise the scalar kernels' (the sums of squares agree to rounding: other order).
 * Chunks of at least one vector only. Pass 1 stops at the last whole vector: the caller runs the scalar loop over the rest;
 * pass 2 reruns its body on the last whole vector and stores the lanes the loop did not reach.
 */
final class LarsPanama {
    private static final int D = DSPECIES.length();
    /** Bytes of a {@code HALF} vector. */
    private static final long HB = (long) D * Float.BYTES;

    private LarsPanama() {
    }

    /**
     * Pass 1: the chunk's sums of u^2 and p^2 over its whole vectors, in 8 independent chains per sum (a block of
     * 64 elements is 8 half vectors, half {@code v} adding to chains {@code u_v}, {@code s_v}; the rest, fewer than
     * 64, half by half to chain 0), the chains added in a fixed order into the chunk's slots. With two chains per
     * sum, the adds waiting on them filled the scheduler and held back the loads: out of cache, on one thread, the
     * pass ran at half the speed of the C traffic pass that reads the same two streams (thread CPU time per element
     * at 16M: 0.49 ns against 0.24).
     */
    static void norms(Chunk c, LarsStep k, double[] sums, int slot) {
        final MemorySegment ps = c.params, gs = c.grads;
        final FloatVector wd = FloatVector.broadcast(HALF, k.weightDecay);
        final FloatVector scale = FloatVector.broadcast(HALF, k.gradScale);
        final int n = c.length, bound = SPECIES.loopBound(n), blocks = n & -(8 * D);
        DoubleVector u0 = DoubleVector.zero(DSPECIES), u1 = u0, u2 = u0, u3 = u0, u4 = u0, u5 = u0, u6 = u0, u7 = u0;
        DoubleVector s0 = u0, s1 = u0, s2 = u0, s3 = u0, s4 = u0, s5 = u0, s6 = u0, s7 = u0;
        int i = 0;
        for (; i < blocks; i += 8 * D) {
            final long off = (long) i * Float.BYTES;
            FloatVector p0 = FloatVector.fromMemorySegment(HALF, ps, off, ORDER);
            DoubleVector d0 = (DoubleVector) p0.fma(wd, FloatVector.fromMemorySegment(HALF, gs, off, ORDER).mul(scale))
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector q0 = (DoubleVector) p0.convertShape(VectorOperators.F2D, DSPECIES, 0);
            u0 = d0.fma(d0, u0);
            s0 = q0.fma(q0, s0);
            FloatVector p1 = FloatVector.fromMemorySegment(HALF, ps, off + HB, ORDER);
            DoubleVector d1 = (DoubleVector) p1.fma(wd, FloatVector.fromMemorySegment(HALF, gs, off + HB, ORDER).mul(scale))
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector q1 = (DoubleVector) p1.convertShape(VectorOperators.F2D, DSPECIES, 0);
            u1 = d1.fma(d1, u1);
            s1 = q1.fma(q1, s1);
            FloatVector p2 = FloatVector.fromMemorySegment(HALF, ps, off + 2 * HB, ORDER);
            DoubleVector d2 = (DoubleVector) p2.fma(wd, FloatVector.fromMemorySegment(HALF, gs, off + 2 * HB, ORDER).mul(scale))
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector q2 = (DoubleVector) p2.convertShape(VectorOperators.F2D, DSPECIES, 0);
            u2 = d2.fma(d2, u2);
            s2 = q2.fma(q2, s2);
            FloatVector p3 = FloatVector.fromMemorySegment(HALF, ps, off + 3 * HB, ORDER);
            DoubleVector d3 = (DoubleVector) p3.fma(wd, FloatVector.fromMemorySegment(HALF, gs, off + 3 * HB, ORDER).mul(scale))
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector q3 = (DoubleVector) p3.convertShape(VectorOperators.F2D, DSPECIES, 0);
            u3 = d3.fma(d3, u3);
            s3 = q3.fma(q3, s3);
            FloatVector p4 = FloatVector.fromMemorySegment(HALF, ps, off + 4 * HB, ORDER);
            DoubleVector d4 = (DoubleVector) p4.fma(wd, FloatVector.fromMemorySegment(HALF, gs, off + 4 * HB, ORDER).mul(scale))
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector q4 = (DoubleVector) p4.convertShape(VectorOperators.F2D, DSPECIES, 0);
            u4 = d4.fma(d4, u4);
            s4 = q4.fma(q4, s4);
            FloatVector p5 = FloatVector.fromMemorySegment(HALF, ps, off + 5 * HB, ORDER);
            DoubleVector d5 = (DoubleVector) p5.fma(wd, FloatVector.fromMemorySegment(HALF, gs, off + 5 * HB, ORDER).mul(scale))
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector q5 = (DoubleVector) p5.convertShape(VectorOperators.F2D, DSPECIES, 0);
            u5 = d5.fma(d5, u5);
            s5 = q5.fma(q5, s5);
            FloatVector p6 = FloatVector.fromMemorySegment(HALF, ps, off + 6 * HB, ORDER);
            DoubleVector d6 = (DoubleVector) p6.fma(wd, FloatVector.fromMemorySegment(HALF, gs, off + 6 * HB, ORDER).mul(scale))
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector q6 = (DoubleVector) p6.convertShape(VectorOperators.F2D, DSPECIES, 0);
            u6 = d6.fma(d6, u6);
            s6 = q6.fma(q6, s6);
            FloatVector p7 = FloatVector.fromMemorySegment(HALF, ps, off + 7 * HB, ORDER);
            DoubleVector d7 = (DoubleVector) p7.fma(wd, FloatVector.fromMemorySegment(HALF, gs, off + 7 * HB, ORDER).mul(scale))
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector q7 = (DoubleVector) p7.convertShape(VectorOperators.F2D, DSPECIES, 0);
            u7 = d7.fma(d7, u7);
            s7 = q7.fma(q7, s7);
        }
        for (; i < bound; i += D) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(HALF, ps, off, ORDER);
            DoubleVector d = (DoubleVector) p.fma(wd, FloatVector.fromMemorySegment(HALF, gs, off, ORDER).mul(scale))
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector q = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 0);
            u0 = d.fma(d, u0);
            s0 = q.fma(q, s0);
        }
        // Added to the chunk's slots as the tracked loops do (no lane reduction here, no call after the loop). The
        // caller zeroes the slots and adds them in order.
        final int at = Kernels.NORM_SLOTS * slot;
        DoubleVector.fromArray(DSPECIES, sums, at).add(u0.add(u1).add(u2.add(u3)).add(u4.add(u5).add(u6.add(u7))))
                .intoArray(sums, at);
        DoubleVector.fromArray(DSPECIES, sums, at + Kernels.NORM_SLOTS / 2)
                .add(s0.add(s1).add(s2.add(s3)).add(s4.add(s5).add(s6.add(s7))))
                .intoArray(sums, at + Kernels.NORM_SLOTS / 2);
    }

    static void apply(Chunk c, LarsStep k, float factor) {
        final MemorySegment ps = c.params, gs = c.grads, ts = c.state[0];
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector mom = FloatVector.broadcast(SPECIES, k.momentum);
        final FloatVector f = FloatVector.broadcast(SPECIES, factor);
        final boolean nesterov = k.nesterov;
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector u = p.fma(wd, FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale)).mul(f);
            FloatVector t = FloatVector.fromMemorySegment(SPECIES, ts, off, ORDER).fma(mom, u);
            t.intoMemorySegment(ts, off, ORDER);
            p.add(nesterov ? t.fma(mom, u) : t).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector u = p.fma(wd, FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale)).mul(f);
            FloatVector t = FloatVector.fromMemorySegment(SPECIES, ts, off, ORDER).fma(mom, u);
            t.intoMemorySegment(ts, off, ORDER, keep);
            p.add(nesterov ? t.fma(mom, u) : t).intoMemorySegment(ps, off, ORDER, keep);
        }
    }
}
