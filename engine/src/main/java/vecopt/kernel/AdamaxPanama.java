package vecopt.kernel;

import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;
import static vecopt.kernel.PanamaKernels.tailMask;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Adamax's vector loop ({@link AdamaxStep} states the formula): per lane the scalar loop's float operations, so the
 * two are bitwise equal ({@code max} is {@code Math.max} per lane, NaN-propagating). Two loops, without and with
 * weight decay: as one loop with the decay a loop-invariant flag, a JVM that had run it both with and without decay (a
 * decay and a no-decay group) compiled the no-decay variant to 0.71x the C peer at 16M and 1.23x in cache, where it
 * had run at 0.98x and 1.67x (thread CPU time per element, loaded machine). Chunks of at least one vector only; the
 * tail reruns the body on the last whole vector and stores the lanes the loop did not reach (see the note above
 * {@code PanamaKernels.tailMask}).
 */
final class AdamaxPanama {
    private AdamaxPanama() {
    }

    static void run(Chunk c, AdamaxStep k) {
        if (k.useWeightDecay) {
            weightDecay(c, k);
        } else {
            plain(c, k);
        }
    }

    /** Without weight decay. */
    private static void plain(Chunk c, AdamaxStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], us = c.state[1];
        final FloatVector negClr = FloatVector.broadcast(SPECIES, k.negClr);
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1);
        final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector u = FloatVector.fromMemorySegment(SPECIES, us, off, ORDER).mul(b2).max(g.abs().add(eps));
            m.intoMemorySegment(ms, off, ORDER);
            u.intoMemorySegment(us, off, ORDER);
            m.div(u).fma(negClr, p).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector u = FloatVector.fromMemorySegment(SPECIES, us, off, ORDER).mul(b2).max(g.abs().add(eps));
            m.intoMemorySegment(ms, off, ORDER, keep);
            u.intoMemorySegment(us, off, ORDER, keep);
            m.div(u).fma(negClr, p).intoMemorySegment(ps, off, ORDER, keep);
        }
    }

    /** With weight decay (L2: added to the gradient). */
    private static void weightDecay(Chunk c, AdamaxStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], us = c.state[1];
        final FloatVector negClr = FloatVector.broadcast(SPECIES, k.negClr);
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1);
        final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = p.fma(wd, FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale));
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector u = FloatVector.fromMemorySegment(SPECIES, us, off, ORDER).mul(b2).max(g.abs().add(eps));
            m.intoMemorySegment(ms, off, ORDER);
            u.intoMemorySegment(us, off, ORDER);
            m.div(u).fma(negClr, p).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = p.fma(wd, FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale));
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector u = FloatVector.fromMemorySegment(SPECIES, us, off, ORDER).mul(b2).max(g.abs().add(eps));
            m.intoMemorySegment(ms, off, ORDER, keep);
            u.intoMemorySegment(us, off, ORDER, keep);
            m.div(u).fma(negClr, p).intoMemorySegment(ps, off, ORDER, keep);
        }
    }
}
