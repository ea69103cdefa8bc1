package vecopt.kernel;

import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;
import static vecopt.kernel.PanamaKernels.tailMask;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Adagrad's vector loop ({@link AdagradStep} states the formula): the same float operations per lane as the scalar
 * loop, so the two are bitwise equal. Chunks of at least one vector only (shorter ones run the scalar loop); the tail
 * reruns the body on the chunk's last whole vector and stores the lanes the main loop did not reach, written out
 * rather than shared through a method (see the note above {@code PanamaKernels.tailMask}).
 */
final class AdagradPanama {
    private AdagradPanama() {
    }

    static void run(Chunk c, AdagradStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ss = c.state[0];
        final FloatVector negClr = FloatVector.broadcast(SPECIES, k.negClr);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final boolean useWd = k.useWeightDecay;
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useWd) {
                g = p.fma(wd, g);
            }
            FloatVector sum = g.fma(g, FloatVector.fromMemorySegment(SPECIES, ss, off, ORDER));
            sum.intoMemorySegment(ss, off, ORDER);
            FloatVector std = sum.lanewise(VectorOperators.SQRT).add(eps);
            g.div(std).fma(negClr, p).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useWd) {
                g = p.fma(wd, g);
            }
            FloatVector sum = g.fma(g, FloatVector.fromMemorySegment(SPECIES, ss, off, ORDER));
            sum.intoMemorySegment(ss, off, ORDER, keep);
            FloatVector std = sum.lanewise(VectorOperators.SQRT).add(eps);
            g.div(std).fma(negClr, p).intoMemorySegment(ps, off, ORDER, keep);
        }
    }
}
