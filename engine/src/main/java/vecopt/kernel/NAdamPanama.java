package vecopt.kernel;

import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;
import static vecopt.kernel.PanamaKernels.tailMask;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * NAdam's vector loop ({@link NAdamStep} states the formula): per lane the scalar loop's float operations, so the
 * two are bitwise equal. Chunks of at least one vector only; the tail reruns the body on the last whole vector and
 * stores the lanes the loop did not reach (see the note above {@code PanamaKernels.tailMask}).
 */
final class NAdamPanama {
    private NAdamPanama() {
    }

    static void run(Chunk c, NAdamStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], vs = c.state[1];
        final FloatVector decay = FloatVector.broadcast(SPECIES, k.decay);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1);
        final FloatVector o1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2);
        final FloatVector o2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
        final FloatVector bc2 = FloatVector.broadcast(SPECIES, k.bc2);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
        final FloatVector c1 = FloatVector.broadcast(SPECIES, k.c1);
        final FloatVector c2 = FloatVector.broadcast(SPECIES, k.c2);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final boolean useL2 = k.useL2;
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useL2) {
                g = p.fma(wd, g);
            }
            p = p.mul(decay);
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(o1));
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(o2).mul(g));
            m.intoMemorySegment(ms, off, ORDER);
            v.intoMemorySegment(vs, off, ORDER);
            FloatVector d = v.div(bc2).lanewise(VectorOperators.SQRT).add(eps);
            m.div(d).fma(c2, g.div(d).fma(c1, p)).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useL2) {
                g = p.fma(wd, g);
            }
            p = p.mul(decay);
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(o1));
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(o2).mul(g));
            m.intoMemorySegment(ms, off, ORDER, keep);
            v.intoMemorySegment(vs, off, ORDER, keep);
            FloatVector d = v.div(bc2).lanewise(VectorOperators.SQRT).add(eps);
            m.div(d).fma(c2, g.div(d).fma(c1, p)).intoMemorySegment(ps, off, ORDER, keep);
        }
    }
}
