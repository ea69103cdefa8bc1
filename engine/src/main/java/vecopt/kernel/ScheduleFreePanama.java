package vecopt.kernel;

import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;
import static vecopt.kernel.PanamaKernels.tailMask;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Schedule-free AdamW's vector loops ({@link ScheduleFreeStep} states the formulas): the step, and the train/eval
 * switch. Per lane the scalar loop's float operations, so the two are bitwise equal. Weight decay and the lerp's
 * branch are loop-invariant masks (blends: the lanes are the scalar loop's either way), the first step's
 * {@code z = y} a read of z from the parameters. Chunks of at least one vector only; the tail reruns
 * the body on the last whole vector and stores the lanes the loop did not reach (see the note above
 * {@code PanamaKernels.tailMask}).
 */
final class ScheduleFreePanama {
    private ScheduleFreePanama() {
    }

    static void run(Chunk c, ScheduleFreeStep k) {
        if (k.switching) {
            switchMode(c, k);
            return;
        }
        // No control flow around a vector: the first step reads z from the parameters (z = y), the lerp's base is y
        // or z and the weight decay is added or not by masks of all lanes or none (blends), all chosen before the
        // loop. With flag tests (first ? y : load, fromEnd ? z : y, if (weightDecay) u = ...) C2 kept vectors of the
        // masked tail boxed in the allocation test's JVM, which had run every variant first: 192 bytes a step, then
        // 80 with the weight decay's branch alone (JFR: the tail's load of y).
        final MemorySegment ps = c.params, gs = c.grads, vs = c.state[1], zs = c.state[0];
        final MemorySegment zIn = k.first ? ps : zs;
        final VectorMask<Float> fromEnd = SPECIES.maskAll(k.lerpFromEnd);
        final VectorMask<Float> decay = SPECIES.maskAll(k.useWeightDecay);
        final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2);
        final FloatVector c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
        final FloatVector bc2 = FloatVector.broadcast(SPECIES, k.bc2);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector lc = FloatVector.broadcast(SPECIES, k.lerpCoef);
        final FloatVector yc = FloatVector.broadcast(SPECIES, k.yCoef);
        final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector y = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector z = FloatVector.fromMemorySegment(SPECIES, zIn, off, ORDER);
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(c2).mul(g));
            FloatVector u = g.div(v.div(bc2).lanewise(VectorOperators.SQRT).add(eps));
            u = u.blend(y.fma(wd, u), decay);
            FloatVector yl = z.sub(y).fma(lc, y.blend(z, fromEnd));
            u.fma(yc, yl).intoMemorySegment(ps, off, ORDER);
            u.fma(negLr, z).intoMemorySegment(zs, off, ORDER);
            v.intoMemorySegment(vs, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector y = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector z = FloatVector.fromMemorySegment(SPECIES, zIn, off, ORDER);
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(c2).mul(g));
            FloatVector u = g.div(v.div(bc2).lanewise(VectorOperators.SQRT).add(eps));
            u = u.blend(y.fma(wd, u), decay);
            FloatVector yl = z.sub(y).fma(lc, y.blend(z, fromEnd));
            u.fma(yc, yl).intoMemorySegment(ps, off, ORDER, keep);
            u.fma(negLr, z).intoMemorySegment(zs, off, ORDER, keep);
            v.intoMemorySegment(vs, off, ORDER, keep);
        }
    }

    /** The train/eval switch: {@code p = lerp(p, z, w)}; 12 bytes per parameter (read p, z; write p). */
    private static void switchMode(Chunk c, ScheduleFreeStep k) {
        if (!k.moves) {
            return;
        }
        final MemorySegment ps = c.params, zs = c.state[0];
        final FloatVector lc = FloatVector.broadcast(SPECIES, k.lerpCoef);
        final VectorMask<Float> fromEnd = SPECIES.maskAll(k.lerpFromEnd);
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector z = FloatVector.fromMemorySegment(SPECIES, zs, off, ORDER);
            z.sub(p).fma(lc, p.blend(z, fromEnd)).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) {
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector z = FloatVector.fromMemorySegment(SPECIES, zs, off, ORDER);
            z.sub(p).fma(lc, p.blend(z, fromEnd)).intoMemorySegment(ps, off, ORDER, keep);
        }
    }
}
