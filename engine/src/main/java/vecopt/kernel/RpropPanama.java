package vecopt.kernel;

import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;
import static vecopt.kernel.PanamaKernels.tailMask;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rprop's vector loop ({@link RpropStep} states the formula): per lane the scalar loop's float operations and
 * selections, so the two are bitwise equal. Two forms are chosen for what C2 makes of them (AVX-512):
 * <ul>
 *   <li>{@code Math.signum} per lane as the C peer's {@code jsignum}: g where neither {@code g > 0} nor
 *       {@code g < 0} (so ±0 and NaN stay), 1 and -1 blended in: two compares and two blends.</li>
 *   <li>The clamp {@code Math.min(Math.max(x, lo), hi)} on the floats' bits as ints. {@code FloatVector.max} and
 *       {@code min} keep Java's NaN and signed-zero rules, which C2 builds from about six instructions each; the
 *       ints' {@code max} and {@code min} are one instruction each. For {@code lo} and {@code hi} with the sign bit
 *       clear ({@link RpropStep} takes step_size_min -0.0 as +0.0), the int order of the bits is the float order
 *       on non-negative floats, and every float with the sign bit set (negatives, -0.0) sorts below {@code lo} and
 *       is taken to {@code lo}, as {@code Math.max} does (it gives {@code lo} for -0.0 against +0.0, too); NaN, the
 *       one case that differs, is blended back ({@code Math.max} and {@code min} return their NaN argument).</li>
 * </ul>
 * The first step, which reads the lr in place of the step sizes, has a loop of its own (see {@code run}). Chunks of at
 * least one vector only; the tail reruns the body on the last whole vector and stores the lanes the
 * loop did not reach (see the note above {@code PanamaKernels.tailMask}).
 */
final class RpropPanama {
    /** Ints of the float species' shape: the step sizes' clamp runs on the floats' bits (see the class note). */
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, SPECIES.vectorShape());

    private RpropPanama() {
    }

    static void run(Chunk c, RpropStep k) {
        // The first step reads the lr in place of the step sizes. One loop holding both (a select on a flag) was
        // compiled while the first step ran, with the state's load never reached; the later steps' load failed the
        // profile's predicates, and after those traps C2 recompiled the loop without loop predication: at 16M
        // 0.78x the C peer per element instead of 1.07x, 0.63x through opt.step. A loop each keeps the hot one
        // from ever seeing the first step.
        if (k.firstStep) {
            first(c, k);
        } else {
            steady(c, k);
        }
    }

    /** Every step but the first: the step sizes read from the state. */
    private static void steady(Chunk c, RpropStep k) {
        final MemorySegment ps = c.params, gs = c.grads, prevs = c.state[0], sss = c.state[1];
        final FloatVector etaMinus = FloatVector.broadcast(SPECIES, k.etaMinus);
        final FloatVector etaPlus = FloatVector.broadcast(SPECIES, k.etaPlus);
        final IntVector lo = IntVector.broadcast(INTS, Float.floatToRawIntBits(k.stepMin));
        final IntVector hi = IntVector.broadcast(INTS, Float.floatToRawIntBits(k.stepMax));
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector one = FloatVector.broadcast(SPECIES, 1f), minusOne = FloatVector.broadcast(SPECIES, -1f);
        final FloatVector zero = FloatVector.zero(SPECIES);
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector s = g.mul(FloatVector.fromMemorySegment(SPECIES, prevs, off, ORDER));
            VectorMask<Float> neg = s.compare(VectorOperators.LT, 0f);
            FloatVector f = one.blend(etaPlus, s.compare(VectorOperators.GT, 0f)).blend(etaMinus, neg);
            FloatVector x = FloatVector.fromMemorySegment(SPECIES, sss, off, ORDER).mul(f);
            FloatVector ss = x.reinterpretAsInts().max(lo).min(hi).reinterpretAsFloats()
                    .blend(x, x.test(VectorOperators.IS_NAN));
            ss.intoMemorySegment(sss, off, ORDER);
            g = g.blend(zero, neg);
            FloatVector u = g.blend(one, g.compare(VectorOperators.GT, 0f))
                    .blend(minusOne, g.compare(VectorOperators.LT, 0f));
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
            FloatVector x = FloatVector.fromMemorySegment(SPECIES, sss, off, ORDER).mul(f);
            FloatVector ss = x.reinterpretAsInts().max(lo).min(hi).reinterpretAsFloats()
                    .blend(x, x.test(VectorOperators.IS_NAN));
            ss.intoMemorySegment(sss, off, ORDER, keep);
            g = g.blend(zero, neg);
            FloatVector u = g.blend(one, g.compare(VectorOperators.GT, 0f))
                    .blend(minusOne, g.compare(VectorOperators.LT, 0f));
            u.fma(ss.neg(), p).intoMemorySegment(ps, off, ORDER, keep);
            g.intoMemorySegment(prevs, off, ORDER, keep);
        }
    }

    /** The first step: the step sizes start at the lr (the state is not read, only written). */
    private static void first(Chunk c, RpropStep k) {
        final MemorySegment ps = c.params, gs = c.grads, prevs = c.state[0], sss = c.state[1];
        final FloatVector etaMinus = FloatVector.broadcast(SPECIES, k.etaMinus);
        final FloatVector etaPlus = FloatVector.broadcast(SPECIES, k.etaPlus);
        final IntVector lo = IntVector.broadcast(INTS, Float.floatToRawIntBits(k.stepMin));
        final IntVector hi = IntVector.broadcast(INTS, Float.floatToRawIntBits(k.stepMax));
        final FloatVector lr = FloatVector.broadcast(SPECIES, k.lr);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector one = FloatVector.broadcast(SPECIES, 1f), minusOne = FloatVector.broadcast(SPECIES, -1f);
        final FloatVector zero = FloatVector.zero(SPECIES);
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector s = g.mul(FloatVector.fromMemorySegment(SPECIES, prevs, off, ORDER));
            VectorMask<Float> neg = s.compare(VectorOperators.LT, 0f);
            FloatVector f = one.blend(etaPlus, s.compare(VectorOperators.GT, 0f)).blend(etaMinus, neg);
            FloatVector x = lr.mul(f);
            FloatVector ss = x.reinterpretAsInts().max(lo).min(hi).reinterpretAsFloats()
                    .blend(x, x.test(VectorOperators.IS_NAN));
            ss.intoMemorySegment(sss, off, ORDER);
            g = g.blend(zero, neg);
            FloatVector u = g.blend(one, g.compare(VectorOperators.GT, 0f))
                    .blend(minusOne, g.compare(VectorOperators.LT, 0f));
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
            FloatVector x = lr.mul(f);
            FloatVector ss = x.reinterpretAsInts().max(lo).min(hi).reinterpretAsFloats()
                    .blend(x, x.test(VectorOperators.IS_NAN));
            ss.intoMemorySegment(sss, off, ORDER, keep);
            g = g.blend(zero, neg);
            FloatVector u = g.blend(one, g.compare(VectorOperators.GT, 0f))
                    .blend(minusOne, g.compare(VectorOperators.LT, 0f));
            u.fma(ss.neg(), p).intoMemorySegment(ps, off, ORDER, keep);
            g.intoMemorySegment(prevs, off, ORDER, keep);
        }
    }
}
