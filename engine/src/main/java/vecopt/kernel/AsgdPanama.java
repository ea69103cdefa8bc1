package vecopt.kernel;

import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;
import static vecopt.kernel.PanamaKernels.tailMask;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * ASGD's vector loop ({@link AsgdStep} states the formula): per lane the scalar loop's float operations, so the two
 * are bitwise equal. Averaging ({@code mu != 1}) is a loop-invariant flag: without it {@code ax} is only written.
 * Chunks of at least one vector only; the tail reruns the body on the last whole vector and stores the lanes the
 * loop did not reach (see the note above {@code PanamaKernels.tailMask}).
 */
final class AsgdPanama {
    private AsgdPanama() {
    }

    static void run(Chunk c, AsgdStep k) {
        final MemorySegment ps = c.params, gs = c.grads, as = c.state[0];
        final FloatVector decay = FloatVector.broadcast(SPECIES, k.decay);
        final FloatVector negEta = FloatVector.broadcast(SPECIES, k.negEta);
        final FloatVector mu = FloatVector.broadcast(SPECIES, k.mu);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final boolean useWd = k.useWeightDecay, average = k.average;
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useWd) {
                g = p.fma(wd, g);
            }
            p = g.fma(negEta, p.mul(decay));
            p.intoMemorySegment(ps, off, ORDER);
            if (average) {
                FloatVector ax = FloatVector.fromMemorySegment(SPECIES, as, off, ORDER);
                ax.add(p.sub(ax).mul(mu)).intoMemorySegment(as, off, ORDER);
            } else {
                p.intoMemorySegment(as, off, ORDER);
            }
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useWd) {
                g = p.fma(wd, g);
            }
            p = g.fma(negEta, p.mul(decay));
            p.intoMemorySegment(ps, off, ORDER, keep);
            if (average) {
                FloatVector ax = FloatVector.fromMemorySegment(SPECIES, as, off, ORDER);
                ax.add(p.sub(ax).mul(mu)).intoMemorySegment(as, off, ORDER, keep);
            } else {
                p.intoMemorySegment(as, off, ORDER, keep);
            }
        }
    }
}
