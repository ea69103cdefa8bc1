package vecopt.kernel;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD kernels on the Vector API. The species is a {@code static final} constant (C2 only intrinsifies vector code
 * whose species it can see as constant): the platform's preferred one, or the width in bits named by the system
 * property {@code vecopt.vector.bits} (128, 256 or 512) so that widths can be compared on one machine.
 *
 * <p>Each kernel is a vector main loop over whole vectors and a scalar tail that runs {@link ScalarKernels}' loop on
 * the remaining elements. Per lane the body performs the same float operations, in the same order, as the scalar loop,
 * so results are bitwise identical to {@link ScalarKernels} for any species and any split point.
 *
 * <p>Loaded reflectively by {@link KernelProvider} only when the {@code jdk.incubator.vector} module is present.
 */
final class PanamaKernels implements Kernels {
    static final VectorSpecies<Float> SPECIES = species(System.getProperty("vecopt.vector.bits"));
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    static VectorSpecies<Float> species(String bits) {
        if (bits == null || bits.isBlank()) {
            return FloatVector.SPECIES_PREFERRED;
        }
        return switch (bits.trim()) {
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException(
                    "vecopt.vector.bits must be 128, 256 or 512, got '" + bits + "'");
        };
    }

    @Override
    public String describe() {
        return "Panama FloatVector " + SPECIES.vectorBitSize() + "-bit (" + SPECIES.length() + " lanes)";
    }

    @Override
    public int lanes() {
        return SPECIES.length();
    }

    @Override
    public void adam(Chunk c, AdamStep k) {
        final int n = c.length;
        final int bound = SPECIES.loopBound(n);
        if (k.amsgrad) {
            adamAmsgrad(c, k, bound);
        } else if (k.useL2) {
            adamL2(c, k, bound);
        } else {
            adamDecoupled(c, k, bound);
        }
        ScalarKernels.adamRange(c, k, bound, n);
    }

    // Three loops rather than one with flags: each is straight-line code that C2 keeps in registers; the flags are
    // per step, so choosing the loop costs one branch per chunk.

    private static void adamDecoupled(Chunk c, AdamStep k, int bound) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state1, vs = c.state2;
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1), c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2), c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps), decay = FloatVector.broadcast(SPECIES, k.decay);
        final FloatVector negStep = FloatVector.broadcast(SPECIES, k.negStepSize);
        final FloatVector invBc2 = FloatVector.broadcast(SPECIES, k.invSqrtBc2);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final long base = c.start * Float.BYTES;
        final int step = SPECIES.length();
        for (int i = 0; i < bound; i += step) {
            final long off = base + (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(c2).mul(g));
            m.intoMemorySegment(ms, off, ORDER);
            v.intoMemorySegment(vs, off, ORDER);
            FloatVector denom = v.lanewise(VectorOperators.SQRT).fma(invBc2, eps);
            m.div(denom).fma(negStep, p.mul(decay)).intoMemorySegment(ps, off, ORDER);
        }
    }

    private static void adamL2(Chunk c, AdamStep k, int bound) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state1, vs = c.state2;
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1), c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2), c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps), decay = FloatVector.broadcast(SPECIES, k.decay);
        final FloatVector negStep = FloatVector.broadcast(SPECIES, k.negStepSize);
        final FloatVector invBc2 = FloatVector.broadcast(SPECIES, k.invSqrtBc2);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector l2 = FloatVector.broadcast(SPECIES, k.l2);
        final long base = c.start * Float.BYTES;
        final int step = SPECIES.length();
        for (int i = 0; i < bound; i += step) {
            final long off = base + (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = p.fma(l2, FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale));
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(c2).mul(g));
            m.intoMemorySegment(ms, off, ORDER);
            v.intoMemorySegment(vs, off, ORDER);
            FloatVector denom = v.lanewise(VectorOperators.SQRT).fma(invBc2, eps);
            m.div(denom).fma(negStep, p.mul(decay)).intoMemorySegment(ps, off, ORDER);
        }
    }

    private static void adamAmsgrad(Chunk c, AdamStep k, int bound) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state1, vs = c.state2, xs = c.state3;
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1), c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2), c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps), decay = FloatVector.broadcast(SPECIES, k.decay);
        final FloatVector negStep = FloatVector.broadcast(SPECIES, k.negStepSize);
        final FloatVector invBc2 = FloatVector.broadcast(SPECIES, k.invSqrtBc2);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector l2 = FloatVector.broadcast(SPECIES, k.l2);
        final boolean useL2 = k.useL2;
        final long base = c.start * Float.BYTES;
        final int step = SPECIES.length();
        for (int i = 0; i < bound; i += step) {
            final long off = base + (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useL2) {
                g = p.fma(l2, g);
            }
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(c2).mul(g));
            m.intoMemorySegment(ms, off, ORDER);
            v.intoMemorySegment(vs, off, ORDER);
            FloatVector vmax = FloatVector.fromMemorySegment(SPECIES, xs, off, ORDER).max(v);
            vmax.intoMemorySegment(xs, off, ORDER);
            FloatVector denom = vmax.lanewise(VectorOperators.SQRT).fma(invBc2, eps);
            m.div(denom).fma(negStep, p.mul(decay)).intoMemorySegment(ps, off, ORDER);
        }
    }

    @Override
    public void sgd(Chunk c, SgdStep k) {
        final int n = c.length;
        final int bound = SPECIES.loopBound(n);
        if (!k.useMomentum) {
            sgdPlain(c, k, bound);
        } else {
            sgdMomentum(c, k, bound);
        }
        ScalarKernels.sgdRange(c, k, bound, n);
    }

    private static void sgdPlain(Chunk c, SgdStep k, int bound) {
        final MemorySegment ps = c.params, gs = c.grads;
        final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final boolean useWd = k.useWeightDecay;
        final long base = c.start * Float.BYTES;
        final int step = SPECIES.length();
        for (int i = 0; i < bound; i += step) {
            final long off = base + (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useWd) {
                g = p.fma(wd, g);
            }
            g.fma(negLr, p).intoMemorySegment(ps, off, ORDER);
        }
    }

    private static void sgdMomentum(Chunk c, SgdStep k, int bound) {
        final MemorySegment ps = c.params, gs = c.grads, bs = c.state1;
        final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector mom = FloatVector.broadcast(SPECIES, k.momentum);
        final FloatVector damp1 = FloatVector.broadcast(SPECIES, k.oneMinusDampening);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final boolean useWd = k.useWeightDecay, nesterov = k.nesterov, first = k.firstStep;
        final long base = c.start * Float.BYTES;
        final int step = SPECIES.length();
        for (int i = 0; i < bound; i += step) {
            final long off = base + (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useWd) {
                g = p.fma(wd, g);
            }
            FloatVector buf = first ? g : FloatVector.fromMemorySegment(SPECIES, bs, off, ORDER).fma(mom, g.mul(damp1));
            buf.intoMemorySegment(bs, off, ORDER);
            FloatVector d = nesterov ? buf.fma(mom, g) : buf;
            d.fma(negLr, p).intoMemorySegment(ps, off, ORDER);
        }
    }
}
