package vecopt.kernel;

import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;
import static vecopt.kernel.PanamaKernels.tailMask;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Adadelta's vector loop ({@link AdadeltaStep} states the formula): per lane the scalar loop's float operations, so
 * the two are bitwise equal. Every load comes before the first store, as in the C peer: C2 keeps the program order of
 * a store and a later load from another segment (it cannot prove that they do not overlap), and the loop used to store
 * {@code square_avg} before it loaded {@code acc_delta}. Per element through {@code opt.step} at 16M, on the
 * optimizer's own buffers, that order ran 0.83-0.90x the C peer on the same buffers, the loads first 0.94-1.02x (thread
 * CPU time, loaded machine); on the benchmarks' staggered buffers the old order was already within noise of the peer,
 * so the likely cause is 4K aliasing (the optimizer's buffers are 64-byte-aligned allocations that may share their
 * offset modulo 4 KiB, and a load at the offset of a store just made waits for it). Chunks of at least one vector only;
 * the tail reruns the body on the last whole vector and stores the lanes the loop did not reach (see the note above
 * {@code PanamaKernels.tailMask}).
 */
final class AdadeltaPanama {
    private AdadeltaPanama() {
    }

    static void run(Chunk c, AdadeltaStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ss = c.state[0], as = c.state[1];
        final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
        final FloatVector rho = FloatVector.broadcast(SPECIES, k.rho);
        final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusRho);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final boolean useWd = k.useWeightDecay;
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector ad = FloatVector.fromMemorySegment(SPECIES, as, off, ORDER);
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector sa0 = FloatVector.fromMemorySegment(SPECIES, ss, off, ORDER);
            if (useWd) {
                g = p.fma(wd, g);
            }
            FloatVector sa = sa0.fma(rho, g.mul(c1).mul(g));
            FloatVector d = ad.add(eps).lanewise(VectorOperators.SQRT)
                    .div(sa.add(eps).lanewise(VectorOperators.SQRT)).mul(g);
            sa.intoMemorySegment(ss, off, ORDER);
            ad.fma(rho, d.mul(c1).mul(d)).intoMemorySegment(as, off, ORDER);
            d.fma(negLr, p).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector ad = FloatVector.fromMemorySegment(SPECIES, as, off, ORDER);
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector sa0 = FloatVector.fromMemorySegment(SPECIES, ss, off, ORDER);
            if (useWd) {
                g = p.fma(wd, g);
            }
            FloatVector sa = sa0.fma(rho, g.mul(c1).mul(g));
            FloatVector d = ad.add(eps).lanewise(VectorOperators.SQRT)
                    .div(sa.add(eps).lanewise(VectorOperators.SQRT)).mul(g);
            sa.intoMemorySegment(ss, off, ORDER, keep);
            ad.fma(rho, d.mul(c1).mul(d)).intoMemorySegment(as, off, ORDER, keep);
            d.fma(negLr, p).intoMemorySegment(ps, off, ORDER, keep);
        }
    }
}
