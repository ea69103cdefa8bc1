package vecopt.kernel;

import static vecopt.kernel.PanamaKernels.DSPECIES;
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
    private LarsPanama() {
    }

    static void norms(Chunk c, LarsStep k, double[] sums, int slot) {
        final MemorySegment ps = c.params, gs = c.grads;
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        DoubleVector u0 = DoubleVector.zero(DSPECIES), u1 = u0, p0 = u0, p1 = u0;
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector u = p.fma(wd, FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale));
            DoubleVector d0 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector d1 = (DoubleVector) u.convertShape(VectorOperators.F2D, DSPECIES, 1);
            DoubleVector q0 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector q1 = (DoubleVector) p.convertShape(VectorOperators.F2D, DSPECIES, 1);
            u0 = d0.fma(d0, u0);
            u1 = d1.fma(d1, u1);
            p0 = q0.fma(q0, p0);
            p1 = q1.fma(q1, p1);
        }
        // Added to the chunk's slots as the tracked loops do (no lane reduction here, no call after the loop). The
        // caller zeroes the slots and adds them in order.
        final int at = Kernels.NORM_SLOTS * slot;
        DoubleVector.fromArray(DSPECIES, sums, at).add(u0.add(u1)).intoArray(sums, at);
        DoubleVector.fromArray(DSPECIES, sums, at + Kernels.NORM_SLOTS / 2).add(p0.add(p1))
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
