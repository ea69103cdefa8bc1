package vecopt.kernel;

import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;
import static vecopt.kernel.PanamaKernels.tailMask;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * RMSprop's vector loops ({@link RmspropStep} states the formula): per lane the scalar loop's float operations, so the
 * loops are bitwise equal to it. Centered RMSprop with momentum, the variant of five streams, has two loops of its own,
 * without and with weight decay, that load every stream before the first store (as {@code AdadeltaPanama}); the other
 * variants share one loop whose variants (weight decay, centered, momentum) are loop-invariant flags, and whose streams
 * a variant does not use are neither read nor written. In the one loop, a JVM that had run centered RMSprop with
 * momentum both with and without weight decay (a decay and a no-decay group, PyTorch's usual split) compiled the
 * variant into code 2.6x slower per element than the C peer in cache (thread CPU time on a loaded machine, 0.45 ns
 * against 0.17), where each variant alone, or the other variants with all eight seen, stayed at the peer's speed; with
 * the weight-decay flag in a centered-with-momentum loop of its own it stayed as slow, so that flag has a loop of its
 * own too. Chunks of at least one vector only; the tail reruns the body on the last whole vector and stores the lanes
 * the loop did not reach (written out, not shared through a method: see the note above {@code PanamaKernels.tailMask}).
 */
final class RmspropPanama {
    private RmspropPanama() {
    }

    static void run(Chunk c, RmspropStep k) {
        if (k.centered && k.useMomentum) {
            if (k.useWeightDecay) {
                centeredMomentumWeightDecay(c, k);
            } else {
                centeredMomentum(c, k);
            }
        } else {
            flagged(c, k);
        }
    }

    /** Plain, centered or momentum, each with or without weight decay: one loop, the variants flags. */
    private static void flagged(Chunk c, RmspropStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ss = c.state[0];
        final MemorySegment as = k.centered ? c.state[k.gradAvg] : null;
        final MemorySegment bs = k.useMomentum ? c.state[k.momentumBuffer] : null;
        final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
        final FloatVector alpha = FloatVector.broadcast(SPECIES, k.alpha);
        final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusAlpha);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
        final FloatVector mom = FloatVector.broadcast(SPECIES, k.momentum);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final boolean useWd = k.useWeightDecay, centered = k.centered, useMom = k.useMomentum;
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useWd) {
                g = p.fma(wd, g);
            }
            FloatVector sa = FloatVector.fromMemorySegment(SPECIES, ss, off, ORDER).fma(alpha, g.mul(c1).mul(g));
            sa.intoMemorySegment(ss, off, ORDER);
            FloatVector var = sa;
            if (centered) {
                FloatVector ga = FloatVector.fromMemorySegment(SPECIES, as, off, ORDER).fma(alpha, g.mul(c1));
                ga.intoMemorySegment(as, off, ORDER);
                var = sa.sub(ga.mul(ga));
            }
            FloatVector d = g.div(var.lanewise(VectorOperators.SQRT).add(eps));
            if (useMom) {
                d = FloatVector.fromMemorySegment(SPECIES, bs, off, ORDER).fma(mom, d);
                d.intoMemorySegment(bs, off, ORDER);
            }
            d.fma(negLr, p).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useWd) {
                g = p.fma(wd, g);
            }
            FloatVector sa = FloatVector.fromMemorySegment(SPECIES, ss, off, ORDER).fma(alpha, g.mul(c1).mul(g));
            sa.intoMemorySegment(ss, off, ORDER, keep);
            FloatVector var = sa;
            if (centered) {
                FloatVector ga = FloatVector.fromMemorySegment(SPECIES, as, off, ORDER).fma(alpha, g.mul(c1));
                ga.intoMemorySegment(as, off, ORDER, keep);
                var = sa.sub(ga.mul(ga));
            }
            FloatVector d = g.div(var.lanewise(VectorOperators.SQRT).add(eps));
            if (useMom) {
                d = FloatVector.fromMemorySegment(SPECIES, bs, off, ORDER).fma(mom, d);
                d.intoMemorySegment(bs, off, ORDER, keep);
            }
            d.fma(negLr, p).intoMemorySegment(ps, off, ORDER, keep);
        }
    }

    /** Centered with momentum, no weight decay: five streams, every load before the first store. */
    private static void centeredMomentum(Chunk c, RmspropStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ss = c.state[0];
        final MemorySegment as = c.state[k.gradAvg], bs = c.state[k.momentumBuffer];
        final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
        final FloatVector alpha = FloatVector.broadcast(SPECIES, k.alpha);
        final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusAlpha);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
        final FloatVector mom = FloatVector.broadcast(SPECIES, k.momentum);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector sa0 = FloatVector.fromMemorySegment(SPECIES, ss, off, ORDER);
            FloatVector ga0 = FloatVector.fromMemorySegment(SPECIES, as, off, ORDER);
            FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, bs, off, ORDER);
            FloatVector sa = sa0.fma(alpha, g.mul(c1).mul(g));
            FloatVector ga = ga0.fma(alpha, g.mul(c1));
            FloatVector d = b0.fma(mom, g.div(sa.sub(ga.mul(ga)).lanewise(VectorOperators.SQRT).add(eps)));
            sa.intoMemorySegment(ss, off, ORDER);
            ga.intoMemorySegment(as, off, ORDER);
            d.intoMemorySegment(bs, off, ORDER);
            d.fma(negLr, p).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector sa0 = FloatVector.fromMemorySegment(SPECIES, ss, off, ORDER);
            FloatVector ga0 = FloatVector.fromMemorySegment(SPECIES, as, off, ORDER);
            FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, bs, off, ORDER);
            FloatVector sa = sa0.fma(alpha, g.mul(c1).mul(g));
            FloatVector ga = ga0.fma(alpha, g.mul(c1));
            FloatVector d = b0.fma(mom, g.div(sa.sub(ga.mul(ga)).lanewise(VectorOperators.SQRT).add(eps)));
            sa.intoMemorySegment(ss, off, ORDER, keep);
            ga.intoMemorySegment(as, off, ORDER, keep);
            d.intoMemorySegment(bs, off, ORDER, keep);
            d.fma(negLr, p).intoMemorySegment(ps, off, ORDER, keep);
        }
    }

    /** Centered with momentum, with weight decay: five streams, every load before the first store. */
    private static void centeredMomentumWeightDecay(Chunk c, RmspropStep k) {
        final MemorySegment ps = c.params, gs = c.grads, ss = c.state[0];
        final MemorySegment as = c.state[k.gradAvg], bs = c.state[k.momentumBuffer];
        final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
        final FloatVector alpha = FloatVector.broadcast(SPECIES, k.alpha);
        final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusAlpha);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
        final FloatVector mom = FloatVector.broadcast(SPECIES, k.momentum);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final int step = SPECIES.length(), n = c.length, bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector sa0 = FloatVector.fromMemorySegment(SPECIES, ss, off, ORDER);
            FloatVector ga0 = FloatVector.fromMemorySegment(SPECIES, as, off, ORDER);
            FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, bs, off, ORDER);
            g = p.fma(wd, g);
            FloatVector sa = sa0.fma(alpha, g.mul(c1).mul(g));
            FloatVector ga = ga0.fma(alpha, g.mul(c1));
            FloatVector d = b0.fma(mom, g.div(sa.sub(ga.mul(ga)).lanewise(VectorOperators.SQRT).add(eps)));
            sa.intoMemorySegment(ss, off, ORDER);
            ga.intoMemorySegment(as, off, ORDER);
            d.intoMemorySegment(bs, off, ORDER);
            d.fma(negLr, p).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector sa0 = FloatVector.fromMemorySegment(SPECIES, ss, off, ORDER);
            FloatVector ga0 = FloatVector.fromMemorySegment(SPECIES, as, off, ORDER);
            FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, bs, off, ORDER);
            g = p.fma(wd, g);
            FloatVector sa = sa0.fma(alpha, g.mul(c1).mul(g));
            FloatVector ga = ga0.fma(alpha, g.mul(c1));
            FloatVector d = b0.fma(mom, g.div(sa.sub(ga.mul(ga)).lanewise(VectorOperators.SQRT).add(eps)));
            sa.intoMemorySegment(ss, off, ORDER, keep);
            ga.intoMemorySegment(as, off, ORDER, keep);
            d.intoMemorySegment(bs, off, ORDER, keep);
            d.fma(negLr, p).intoMemorySegment(ps, off, ORDER, keep);
        }
    }
}
