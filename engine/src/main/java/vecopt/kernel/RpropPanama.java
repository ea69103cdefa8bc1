package vecopt.kernel;

import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;
import static vecopt.kernel.PanamaKernels.tailMask;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Rprop's vector loop ({@link RpropStep} states the formula): per lane the scalar loop's float operations and
 * selections, so the two are bitwise equal ({@code Math.signum} per lane by two blends, as in Lion's loop; the
 * clamp as max then min, as {@code Math.min(Math.max(...))}). Chunks of at least one vector only; the tail reruns
 * the body on the last whole vector and stores the lanes the loop did not reach (see the note above
 * {@code PanamaKernels.tailMask}).
 */
final class RpropPanama {
    private RpropPanama() {
    }

    static void run(Chunk c, RpropStep k) {
        final MemorySegment ps = c.params, gs = c.grads, prevs = c.state[0], sss = c.state[1];
        final FloatVector etaMinus = FloatVector.broadcast(SPECIES, k.etaMinus);
        final FloatVector etaPlus = FloatVector.broadcast(SPECIES, k.etaPlus);
        final FloatVector lo = FloatVector.broadcast(SPECIES, k.stepMin);
        final FloatVector hi = FloatVector.broadcast(SPECIES, k.stepMax);
        final FloatVector lr = FloatVector.broadcast(SPECIES, k.lr);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector one = FloatVector.broadcast(SPECIES, 1f), minusOne = FloatVector.broadcast(SPECIES, -1f);
        final FloatVector zero = FloatVector.zero(SPECIES);
        final boolean first = k.firstStep;
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector s = g.mul(FloatVector.fromMemorySegment(SPECIES, prevs, off, ORDER));
            VectorMask<Float> neg = s.compare(VectorOperators.LT, 0f);
            FloatVector f = one.blend(etaPlus, s.compare(VectorOperators.GT, 0f)).blend(etaMinus, neg);
            FloatVector ss = (first ? lr : FloatVector.fromMemorySegment(SPECIES, sss, off, ORDER)).mul(f).max(lo)
                    .min(hi);
            ss.intoMemorySegment(sss, off, ORDER);
            g = g.blend(zero, neg);
            FloatVector u = one.blend(minusOne, g.compare(VectorOperators.LT, 0f))
                    .blend(g, g.compare(VectorOperators.EQ, 0f).or(g.test(VectorOperators.IS_NAN)));
            u.fma(ss.neg(), p).intoMemorySegment(ps, off, ORDER);
            g.intoMemorySegment(prevs, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector s = g.mul(FloatVector.fromMemorySegment(SPECIES, prevs, off, ORDER));
            VectorMask<Float> neg = s.compare(VectorOperators.LT, 0f);
            FloatVector f = one.blend(etaPlus, s.compare(VectorOperators.GT, 0f)).blend(etaMinus, neg);
            FloatVector ss = (first ? lr : FloatVector.fromMemorySegment(SPECIES, sss, off, ORDER)).mul(f).max(lo)
                    .min(hi);
            ss.intoMemorySegment(sss, off, ORDER, keep);
            g = g.blend(zero, neg);
            FloatVector u = one.blend(minusOne, g.compare(VectorOperators.LT, 0f))
                    .blend(g, g.compare(VectorOperators.EQ, 0f).or(g.test(VectorOperators.IS_NAN)));
            u.fma(ss.neg(), p).intoMemorySegment(ps, off, ORDER, keep);
            g.intoMemorySegment(prevs, off, ORDER, keep);
        }
    }
}
