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
 * LAMB's vector loops ({@link LambStep} states the formulas): per lane the scalar loops' float operations, so the
 * moments and parameters are bitwise the scalar kernels' (the sums of squares agree to rounding: other order).
 * Chunks of at least one vector only. Pass 1 stops at the last whole vector: the caller runs the scalar loop over
 * the rest (its sums must count each element once, as the tracked loops do); pass 2 reruns its body on the last whole vector
 * and stores the lanes the loop did not reach (see the note above {@code PanamaKernels.tailMask}).
 */
final class LambPanama {
    private LambPanama() {
    }

    static void norms(Chunk c, LambStep k, double[] sums, int slot) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], vs = c.state[1];
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1);
        final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2);
        final FloatVector c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
        final FloatVector ib1 = FloatVector.broadcast(SPECIES, k.invBc1);
        final FloatVector ib2 = FloatVector.broadcast(SPECIES, k.invBc2);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
        final FloatVector epsRoot = FloatVector.broadcast(SPECIES, k.epsRoot);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        DoubleVector u0 = DoubleVector.zero(DSPECIES), u1 = u0, p0 = u0, p1 = u0;
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(c2).mul(g));
            m.intoMemorySegment(ms, off, ORDER);
            v.intoMemorySegment(vs, off, ORDER);
            FloatVector u = p.fma(wd, m.mul(ib1).div(v.mul(ib2).add(epsRoot).lanewise(VectorOperators.SQRT).add(eps)));
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

    static void apply(Chunk c, LambStep k, float factor) {
        final MemorySegment ps = c.params, ms = c.state[0], vs = c.state[1];
        final FloatVector ib1 = FloatVector.broadcast(SPECIES, k.invBc1);
        final FloatVector ib2 = FloatVector.broadcast(SPECIES, k.invBc2);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
        final FloatVector epsRoot = FloatVector.broadcast(SPECIES, k.epsRoot);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector f = FloatVector.broadcast(SPECIES, factor);
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER);
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER);
            FloatVector u = p.fma(wd, m.mul(ib1).div(v.mul(ib2).add(epsRoot).lanewise(VectorOperators.SQRT).add(eps)));
            u.fma(f, p).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER);
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER);
            FloatVector u = p.fma(wd, m.mul(ib1).div(v.mul(ib2).add(epsRoot).lanewise(VectorOperators.SQRT).add(eps)));
            u.fma(f, p).intoMemorySegment(ps, off, ORDER, keep);
        }
    }
}
