package vecopt.kernel;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import vecopt.memory.Dtype;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD kernels on the Vector API. The species is a {@code static final} constant (C2 only intrinsifies vector code
 * whose species it can see as constant): the platform's preferred one, or the width in bits named by the system
 * property {@code vecopt.vector.bits} (128, 256 or 512) so that widths can be compared on one machine.
 *
 * <p>Each kernel is a vector main loop over whole vectors and a scalar tail that runs {@link ScalarKernels}' loop on
 * the remaining elements. Per lane the body performs the same float operations, in the same order, as the scalar loop,
 * so the elementwise kernels' results are bitwise identical to {@link ScalarKernels} for any species and any split
 * point (the reductions agree to rounding: see {@link Kernels}).
 *
 * <p>Loaded reflectively by {@link KernelProvider} only when the {@code jdk.incubator.vector} module is present.
 */
final class PanamaKernels implements Kernels {
    static final VectorSpecies<Float> SPECIES = species(System.getProperty("vecopt.vector.bits"));
    /** Doubles of the same bit size: a float vector converts to two of these (parts 0 and 1). */
    static final VectorSpecies<Double> DSPECIES = VectorSpecies.of(double.class, SPECIES.vectorShape());
    /** Floats of half the width: one load of these widens to one {@link #DSPECIES} vector in a single instruction. */
    static final VectorSpecies<Float> HALF = VectorSpecies.of(float.class,
            VectorShape.forBitSize(Math.max(64, SPECIES.vectorBitSize() / 2)));
    static final ByteOrder ORDER = ByteOrder.nativeOrder();

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
    public void adam(Chunk c, AdamStep k, double[] norms) {
        final int n = c.length;
        final int bound = SPECIES.loopBound(n);
        if (c.mixed) { // 16-bit parameters or gradients (never tracked: the optimizer refuses that combination)
            if (c.stateType == 2) { // 8-bit state: block by block, a block's tail in the same loop's scalar form
                MixedPanama.adamQuantized(c, k);
            } else if (c.stateType == 3) { // bitsandbytes' dynamic maps: scalar by design (a table lookup each)
                DynamicMapAdam.adam(c, k);
            } else if (n < SPECIES.length()) {
                MixedScalar.adamRange(c, k, 0, n);
            } else {
                MixedPanama.adam(c, k, bound);
            }
        } else if (norms != null) {
            adamTracked(c, k, bound, norms);
            ScalarKernels.adamRange(c, k, bound, n, norms);
        } else if (n < SPECIES.length()) {
            ScalarKernels.adamRange(c, k, 0, n, null);
        } else if (k.amsgrad) {
            adamAmsgrad(c, k, bound);
        } else if (k.useL2) {
            adamL2(c, k, bound);
        } else {
            adamDecoupled(c, k, bound);
        }
    }

    // One straight-line loop per variant that reads or writes other streams, rather than one loop with flags: these
    // are the loops measured against the native peer; merged ones were tried and not kept (the kernel package's
    // design note says what was seen).
    //
    // The tail of a chunk of at least one vector runs the loop's body once more on the chunk's last whole vector and
    // stores only the lanes the loop did not reach (tailMask). Those lanes compute from values not yet updated, with
    // the same float operations per lane as the scalar loop, so every element is still read and written once and the
    // bits are the scalar kernel's. With many small tensors this matters: a scalar tail of 7.5 elements on average
    // cost 0.30x of the step at 100,000 tensors. Written out in each variant rather than shared through a body method:
    // that extra call level put the Vector API's own inlining past C2's depth limit, and the boxed vectors then
    // allocated on every call. Chunks shorter than a vector run the scalar loop: a masked load that reaches past the
    // end of a segment (the only vector way to read them) left C2's fast path and ran tens of times slower.

    /** The lanes of the vector ending at element {@code n} that lie at or after {@code bound}. */
    static VectorMask<Float> tailMask(int bound, int n) {
        final int lanes = SPECIES.length();
        return VectorMask.fromLong(SPECIES, (-1L << (lanes - (n - bound))) & (-1L >>> (64 - lanes)));
    }

    private static void adamDecoupled(Chunk c, AdamStep k, int bound) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], vs = c.state[1];
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1), c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2), c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps), decay = FloatVector.broadcast(SPECIES, k.decay);
        final FloatVector negStep = FloatVector.broadcast(SPECIES, k.negStepSize);
        final FloatVector invBc2 = FloatVector.broadcast(SPECIES, k.invSqrtBc2);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final int step = SPECIES.length(), n = c.length;
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(c2).mul(g));
            m.intoMemorySegment(ms, off, ORDER);
            v.intoMemorySegment(vs, off, ORDER);
            FloatVector denom = v.lanewise(VectorOperators.SQRT).fma(invBc2, eps);
            m.div(denom).fma(negStep, p.mul(decay)).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(c2).mul(g));
            m.intoMemorySegment(ms, off, ORDER, keep);
            v.intoMemorySegment(vs, off, ORDER, keep);
            FloatVector denom = v.lanewise(VectorOperators.SQRT).fma(invBc2, eps);
            m.div(denom).fma(negStep, p.mul(decay)).intoMemorySegment(ps, off, ORDER, keep);
        }
    }

    private static void adamL2(Chunk c, AdamStep k, int bound) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], vs = c.state[1];
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1), c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2), c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps), decay = FloatVector.broadcast(SPECIES, k.decay);
        final FloatVector negStep = FloatVector.broadcast(SPECIES, k.negStepSize);
        final FloatVector invBc2 = FloatVector.broadcast(SPECIES, k.invSqrtBc2);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector l2 = FloatVector.broadcast(SPECIES, k.l2);
        final int step = SPECIES.length(), n = c.length;
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = p.fma(l2, FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale));
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(c2).mul(g));
            m.intoMemorySegment(ms, off, ORDER);
            v.intoMemorySegment(vs, off, ORDER);
            FloatVector denom = v.lanewise(VectorOperators.SQRT).fma(invBc2, eps);
            m.div(denom).fma(negStep, p.mul(decay)).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = p.fma(l2, FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale));
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(c2).mul(g));
            m.intoMemorySegment(ms, off, ORDER, keep);
            v.intoMemorySegment(vs, off, ORDER, keep);
            FloatVector denom = v.lanewise(VectorOperators.SQRT).fma(invBc2, eps);
            m.div(denom).fma(negStep, p.mul(decay)).intoMemorySegment(ps, off, ORDER, keep);
        }
    }

    private static void adamAmsgrad(Chunk c, AdamStep k, int bound) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], vs = c.state[1], xs = c.state[2];
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1), c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2), c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps), decay = FloatVector.broadcast(SPECIES, k.decay);
        final FloatVector negStep = FloatVector.broadcast(SPECIES, k.negStepSize);
        final FloatVector invBc2 = FloatVector.broadcast(SPECIES, k.invSqrtBc2);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector l2 = FloatVector.broadcast(SPECIES, k.l2);
        final boolean useL2 = k.useL2;
        final int step = SPECIES.length(), n = c.length;
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
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
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useL2) {
                g = p.fma(l2, g);
            }
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(c2).mul(g));
            m.intoMemorySegment(ms, off, ORDER, keep);
            v.intoMemorySegment(vs, off, ORDER, keep);
            FloatVector vmax = FloatVector.fromMemorySegment(SPECIES, xs, off, ORDER).max(v);
            vmax.intoMemorySegment(xs, off, ORDER, keep);
            FloatVector denom = vmax.lanewise(VectorOperators.SQRT).fma(invBc2, eps);
            m.div(denom).fma(negStep, p.mul(decay)).intoMemorySegment(ps, off, ORDER, keep);
        }
    }

    @Override
    public void update(Chunk c, UpdateStep step) {
        if (c.stateType == 2) { // 8-bit state: block by block, each block's last elements in the scalar twin
            eightBitUpdate(c, step);
            return;
        }
        if (c.length < SPECIES.length()) { // shorter than a vector: the scalar loop (see the note above tailMask)
            ScalarKernels.run(c, step);
            return;
        }
        if (c.mixed) { // 16-bit parameters or gradients: the generated loops
            mixedUpdate(c, step);
            return;
        }
        if (step instanceof AdagradStep k) { // instanceof tests: plain type checks C2 folds to the one type seen
            AdagradPanama.run(c, k);
        } else if (step instanceof RmspropStep k) {
            RmspropPanama.run(c, k);
        } else if (step instanceof LionStep k) {
            LionPanama.run(c, k);
        } else if (step instanceof AdamaxStep k) {
            AdamaxPanama.run(c, k);
        } else if (step instanceof NAdamStep k) {
            NAdamPanama.run(c, k);
        } else if (step instanceof RAdamStep k) {
            RAdamPanama.run(c, k);
        } else if (step instanceof AdadeltaStep k) {
            AdadeltaPanama.run(c, k);
        } else if (step instanceof RpropStep k) {
            RpropPanama.run(c, k);
        } else if (step instanceof AsgdStep k) {
            AsgdPanama.run(c, k);
        } else if (step instanceof ScheduleFreeStep k) {
            ScheduleFreePanama.run(c, k);
        } else {
            throw new IllegalArgumentException("no vector loop for " + step);
        }
    }

    /** The generated loops for 8-bit state of {@code step}'s optimizer. */
    private static void eightBitUpdate(Chunk c, UpdateStep step) {
        if (step instanceof AdagradStep k) {
            EightBitAdagradPanama.run(c, k);
        } else if (step instanceof RmspropStep k) {
            EightBitRmspropPanama.run(c, k);
        } else if (step instanceof LionStep k) {
            EightBitLionPanama.run(c, k);
        } else if (step instanceof NAdamStep k) {
            EightBitNAdamPanama.run(c, k);
        } else if (step instanceof RAdamStep k) {
            EightBitRAdamPanama.run(c, k);
        } else if (step instanceof AdamaxStep k) {
            EightBitAdamaxPanama.run(c, k);
        } else if (step instanceof RpropStep k) {
            EightBitRpropPanama.run(c, k);
        } else {
            throw new IllegalArgumentException("no 8-bit state loop for " + step);
        }
    }

    /** The generated loops for 16-bit parameters or gradients of {@code step}'s optimizer. */
    private static void mixedUpdate(Chunk c, UpdateStep step) {
        if (step instanceof AdagradStep k) {
            MixedAdagradPanama.run(c, k);
        } else if (step instanceof RmspropStep k) {
            MixedRmspropPanama.run(c, k);
        } else if (step instanceof AdamaxStep k) {
            MixedAdamaxPanama.run(c, k);
        } else if (step instanceof NAdamStep k) {
            MixedNAdamPanama.run(c, k);
        } else if (step instanceof RAdamStep k) {
            MixedRAdamPanama.run(c, k);
        } else if (step instanceof AsgdStep k) {
            MixedAsgdPanama.run(c, k);
        } else if (step instanceof RpropStep k) {
            MixedRpropPanama.run(c, k);
        } else if (step instanceof AdadeltaStep k) {
            MixedAdadeltaPanama.run(c, k);
        } else if (step instanceof LionStep k) {
            MixedLionPanama.run(c, k);
        } else if (step instanceof ScheduleFreeStep k) {
            MixedScheduleFreePanama.run(c, k);
        } else {
            throw new IllegalArgumentException("no 16-bit loop for " + step);
        }
    }

    @Override
    public void trustNorms(Chunk c, TrustRatioStep step, double[] sums, int slot) {
        if (c.length < SPECIES.length()) { // shorter than a vector: the scalar loop
            ScalarKernels.SCALAR.trustNorms(c, step, sums, slot);
        } else if (c.mixed) { // 16-bit parameters or gradients: the generated loops, their scalar tail included
            mixedTrustNorms(c, step, sums, slot);
        } else if (step instanceof LambStep k) {
            // The vector loop, then the scalar tail, called from here as the tracked loops' tails are.
            LambPanama.norms(c, k, sums, slot);
            LambStep.norms(c, k, SPECIES.loopBound(c.length), c.length, sums, slot);
        } else if (step instanceof LarsStep k) {
            LarsPanama.norms(c, k, sums, slot);
            LarsStep.norms(c, k, SPECIES.loopBound(c.length), c.length, sums, slot);
        } else {
            throw new IllegalArgumentException("no vector loop for " + step);
        }
    }

    @Override
    public void trustApply(Chunk c, TrustRatioStep step, float factor) {
        if (c.length < SPECIES.length()) { // shorter than a vector: the scalar loop
            ScalarKernels.SCALAR.trustApply(c, step, factor);
        } else if (c.mixed) {
            mixedTrustApply(c, step, factor);
        } else if (step instanceof LambStep k) {
            LambPanama.apply(c, k, factor);
        } else if (step instanceof LarsStep k) {
            LarsPanama.apply(c, k, factor);
        } else {
            throw new IllegalArgumentException("no vector loop for " + step);
        }
    }

    /** Pass 1 of {@code step}'s optimizer on a chunk with 16-bit parameters or gradients. */
    private static void mixedTrustNorms(Chunk c, TrustRatioStep step, double[] sums, int slot) {
        if (c.stateType == 2 && step instanceof LambStep k) { // 8-bit state (LARS's pass 1 reads none: below)
            EightBitLambPanama.norms(c, k, sums, slot);
        } else if (step instanceof LambStep k) {
            MixedLambPanama.norms(c, k, sums, slot);
        } else if (step instanceof LarsStep k) {
            MixedLarsPanama.norms(c, k, sums, slot);
        } else {
            throw new IllegalArgumentException("no 16-bit loop for " + step);
        }
    }

    /** Pass 2 of {@code step}'s optimizer on a chunk with 16-bit parameters or gradients. */
    private static void mixedTrustApply(Chunk c, TrustRatioStep step, float factor) {
        if (c.stateType == 2) { // 8-bit state: block by block, each block's last elements in the scalar twin
            if (step instanceof LambStep k) {
                EightBitLambPanama.apply(c, k, factor);
            } else if (step instanceof LarsStep k) {
                EightBitLarsPanama.apply(c, k, factor);
            } else {
                throw new IllegalArgumentException("no 8-bit loop for " + step);
            }
        } else if (step instanceof LambStep k) {
            MixedLambPanama.apply(c, k, factor);
        } else if (step instanceof LarsStep k) {
            MixedLarsPanama.apply(c, k, factor);
        } else {
            throw new IllegalArgumentException("no 16-bit loop for " + step);
        }
    }

    @Override
    public void adafactor(Chunk c, AdafactorStep step, AdafactorChunk work, int pass) {
        AdafactorStaging.load(c, step, work, pass, true);
        switch (pass) {
            case 0 -> AdafactorPanama.sums(c, step, work);
            case 1 -> AdafactorPanama.updateSums(c, step, work);
            default -> AdafactorPanama.apply(c, step, work);
        }
        AdafactorStaging.store(c, step, work, pass, true);
    }

    @Override
    public void sgd(Chunk c, SgdStep k, double[] norms) {
        final int n = c.length;
        final int bound = SPECIES.loopBound(n);
        if (c.mixed) { // 16-bit parameters or gradients (never tracked: the optimizer refuses that combination)
            if (c.stateType == 2) { // 8-bit state: block by block, each block's last elements in the scalar twin
                EightBitSgdPanama.run(c, k);
            } else if (n < SPECIES.length()) {
                MixedScalar.sgdRange(c, k, 0, n);
            } else {
                MixedSgdPanama.run(c, k);
            }
        } else if (norms != null) {
            sgdTracked(c, k, bound, norms);
            ScalarKernels.sgdRange(c, k, bound, n, norms);
        } else if (n < SPECIES.length()) {
            ScalarKernels.sgdRange(c, k, 0, n, null);
        } else if (!k.useMomentum) {
            sgdPlain(c, k, bound);
        } else if (k.firstStep) {
            sgdMomentumFirst(c, k, bound);
        } else {
            sgdMomentum(c, k, bound);
        }
    }

    private static void sgdPlain(Chunk c, SgdStep k, int bound) {
        final MemorySegment ps = c.params, gs = c.grads;
        final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final boolean useWd = k.useWeightDecay;
        final int step = SPECIES.length(), n = c.length;
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useWd) {
                g = p.fma(wd, g);
            }
            g.fma(negLr, p).intoMemorySegment(ps, off, ORDER);
        }
        if (bound < n) { // the tail: the last whole vector, storing only the lanes the loop did not
            final VectorMask<Float> keep = tailMask(bound, n);
            final long off = (long) (n - step) * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useWd) {
                g = p.fma(wd, g);
            }
            g.fma(negLr, p).intoMemorySegment(ps, off, ORDER, keep);
        }
    }

    // The first step (buffer = gradient) has a loop of its own: a `first ? g : ...` select inside the steady-state
    // loop, once profiled as taken on a first step, left C2's code for every later step 13% slower at 64M.
    private static void sgdMomentum(Chunk c, SgdStep k, int bound) {
        final MemorySegment ps = c.params, gs = c.grads, bs = c.state[0];
        final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector mom = FloatVector.broadcast(SPECIES, k.momentum);
        final FloatVector damp1 = FloatVector.broadcast(SPECIES, k.oneMinusDampening);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final boolean useWd = k.useWeightDecay, nesterov = k.nesterov;
        final int step = SPECIES.length(), n = c.length;
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useWd) {
                g = p.fma(wd, g);
            }
            FloatVector buf = FloatVector.fromMemorySegment(SPECIES, bs, off, ORDER).fma(mom, g.mul(damp1));
            buf.intoMemorySegment(bs, off, ORDER);
            FloatVector d = nesterov ? buf.fma(mom, g) : buf;
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
            FloatVector buf = FloatVector.fromMemorySegment(SPECIES, bs, off, ORDER).fma(mom, g.mul(damp1));
            buf.intoMemorySegment(bs, off, ORDER, keep);
            FloatVector d = nesterov ? buf.fma(mom, g) : buf;
            d.fma(negLr, p).intoMemorySegment(ps, off, ORDER, keep);
        }
    }

    private static void sgdMomentumFirst(Chunk c, SgdStep k, int bound) {
        final MemorySegment ps = c.params, gs = c.grads, bs = c.state[0];
        final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector mom = FloatVector.broadcast(SPECIES, k.momentum);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final boolean useWd = k.useWeightDecay, nesterov = k.nesterov;
        final int step = SPECIES.length(), n = c.length;
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useWd) {
                g = p.fma(wd, g);
            }
            FloatVector buf = g; // PyTorch: the first step sets the buffer to the gradient
            buf.intoMemorySegment(bs, off, ORDER);
            FloatVector d = nesterov ? buf.fma(mom, g) : buf;
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
            FloatVector buf = g; // PyTorch: the first step sets the buffer to the gradient
            buf.intoMemorySegment(bs, off, ORDER, keep);
            FloatVector d = nesterov ? buf.fma(mom, g) : buf;
            d.fma(negLr, p).intoMemorySegment(ps, off, ORDER, keep);
        }
    }

    // The tracked variants also sum (p_new - p_old)^2 and p_new^2 in double in the same pass; they are the opt-in
    // path (StepReport's update/parameter norms), so one loop with per-step flags serves all options.

    private static void adamTracked(Chunk c, AdamStep k, int bound, double[] norms) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], vs = c.state[1];
        final MemorySegment xs = k.amsgrad ? c.state[2] : null;
        final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1), c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
        final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2), c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
        final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps), decay = FloatVector.broadcast(SPECIES, k.decay);
        final FloatVector negStep = FloatVector.broadcast(SPECIES, k.negStepSize);
        final FloatVector invBc2 = FloatVector.broadcast(SPECIES, k.invSqrtBc2);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final FloatVector l2 = FloatVector.broadcast(SPECIES, k.l2);
        final boolean useL2 = k.useL2, ams = k.amsgrad;
        final int step = SPECIES.length();
        DoubleVector du0 = DoubleVector.zero(DSPECIES), du1 = du0, pp0 = du0, pp1 = du0;
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useL2) {
                g = p.fma(l2, g);
            }
            FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, off, ORDER).fma(b1, g.mul(c1));
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, off, ORDER).fma(b2, g.mul(c2).mul(g));
            m.intoMemorySegment(ms, off, ORDER);
            v.intoMemorySegment(vs, off, ORDER);
            if (ams) {
                v = FloatVector.fromMemorySegment(SPECIES, xs, off, ORDER).max(v);
                v.intoMemorySegment(xs, off, ORDER);
            }
            FloatVector denom = v.lanewise(VectorOperators.SQRT).fma(invBc2, eps);
            FloatVector pNew = m.div(denom).fma(negStep, p.mul(decay));
            pNew.intoMemorySegment(ps, off, ORDER);
            FloatVector du = pNew.sub(p);
            DoubleVector d0 = (DoubleVector) du.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector d1 = (DoubleVector) du.convertShape(VectorOperators.F2D, DSPECIES, 1);
            DoubleVector q0 = (DoubleVector) pNew.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector q1 = (DoubleVector) pNew.convertShape(VectorOperators.F2D, DSPECIES, 1);
            du0 = d0.fma(d0, du0);
            du1 = d1.fma(d1, du1);
            pp0 = q0.fma(q0, pp0);
            pp1 = q1.fma(q1, pp1);
        }
        // Stored here, not in a helper: a vector handed to a method C2 did not inline (the tracked loops reach the
        // inlining node budget) is boxed, and the step must not allocate.
        final int slot = NORM_SLOTS * c.index; // added to the item's slots: its earlier pieces are there already
        DoubleVector.fromArray(DSPECIES, norms, slot).add(du0.add(du1)).intoArray(norms, slot);
        DoubleVector.fromArray(DSPECIES, norms, slot + NORM_SLOTS / 2).add(pp0.add(pp1))
                .intoArray(norms, slot + NORM_SLOTS / 2);
    }

    private static void sgdTracked(Chunk c, SgdStep k, int bound, double[] norms) {
        final MemorySegment ps = c.params, gs = c.grads;
        final MemorySegment bs = k.useMomentum ? c.state[0] : null;
        final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
        final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
        final FloatVector mom = FloatVector.broadcast(SPECIES, k.momentum);
        final FloatVector damp1 = FloatVector.broadcast(SPECIES, k.oneMinusDampening);
        final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
        final boolean useWd = k.useWeightDecay, useMom = k.useMomentum, nesterov = k.nesterov, first = k.firstStep;
        final int step = SPECIES.length();
        DoubleVector du0 = DoubleVector.zero(DSPECIES), du1 = du0, pp0 = du0, pp1 = du0;
        for (int i = 0; i < bound; i += step) {
            final long off = (long) i * Float.BYTES;
            FloatVector p = FloatVector.fromMemorySegment(SPECIES, ps, off, ORDER);
            FloatVector g = FloatVector.fromMemorySegment(SPECIES, gs, off, ORDER).mul(scale);
            if (useWd) {
                g = p.fma(wd, g);
            }
            FloatVector d = g;
            if (useMom) {
                FloatVector buf = first ? g : FloatVector.fromMemorySegment(SPECIES, bs, off, ORDER).fma(mom, g.mul(damp1));
                buf.intoMemorySegment(bs, off, ORDER);
                d = nesterov ? buf.fma(mom, g) : buf;
            }
            FloatVector pNew = d.fma(negLr, p);
            pNew.intoMemorySegment(ps, off, ORDER);
            FloatVector du = pNew.sub(p);
            DoubleVector d0 = (DoubleVector) du.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector d1 = (DoubleVector) du.convertShape(VectorOperators.F2D, DSPECIES, 1);
            DoubleVector q0 = (DoubleVector) pNew.convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector q1 = (DoubleVector) pNew.convertShape(VectorOperators.F2D, DSPECIES, 1);
            du0 = d0.fma(d0, du0);
            du1 = d1.fma(d1, du1);
            pp0 = q0.fma(q0, pp0);
            pp1 = q1.fma(q1, pp1);
        }
        // Stored here, not in a helper: a vector handed to a method C2 did not inline (the tracked loops reach the
        // inlining node budget) is boxed, and the step must not allocate.
        final int slot = NORM_SLOTS * c.index; // added to the item's slots: its earlier pieces are there already
        DoubleVector.fromArray(DSPECIES, norms, slot).add(du0.add(du1)).intoArray(norms, slot);
        DoubleVector.fromArray(DSPECIES, norms, slot + NORM_SLOTS / 2).add(pp0.add(pp1))
                .intoArray(norms, slot + NORM_SLOTS / 2);
    }

    @Override
    public double sumOfSquares(MemorySegment x, long start, int length) {
        // Half-width float loads widened straight to double vectors (vcvtps2pd from memory) and eight independent
        // accumulator chains: converting both halves of full-width loads ran at 9.5 GB/s on 64M floats where this
        // form runs at 14-15 (the one-array read ceiling is 15), and two chains were bound by the add latency.
        final int h = DSPECIES.length(); // floats per half-width load
        final long base = start * Float.BYTES;
        final long hb = (long) h * Float.BYTES;
        DoubleVector a0 = DoubleVector.zero(DSPECIES), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        int i = 0;
        // The loop tests i + 8h <= length: with a precomputed bound (i < length - length % 8h) C2 left this loop
        // at 9 GB/s on 64M floats; in this form it reaches 14-15 GB/s (measured side by side, same JVM).
        for (; i + 8 * h <= length; i += 8 * h) {
            final long off = base + (long) i * Float.BYTES;
            DoubleVector d0 = (DoubleVector) FloatVector.fromMemorySegment(HALF, x, off, ORDER)
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector d1 = (DoubleVector) FloatVector.fromMemorySegment(HALF, x, off + hb, ORDER)
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector d2 = (DoubleVector) FloatVector.fromMemorySegment(HALF, x, off + 2 * hb, ORDER)
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector d3 = (DoubleVector) FloatVector.fromMemorySegment(HALF, x, off + 3 * hb, ORDER)
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector d4 = (DoubleVector) FloatVector.fromMemorySegment(HALF, x, off + 4 * hb, ORDER)
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector d5 = (DoubleVector) FloatVector.fromMemorySegment(HALF, x, off + 5 * hb, ORDER)
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector d6 = (DoubleVector) FloatVector.fromMemorySegment(HALF, x, off + 6 * hb, ORDER)
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            DoubleVector d7 = (DoubleVector) FloatVector.fromMemorySegment(HALF, x, off + 7 * hb, ORDER)
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
            a2 = d2.fma(d2, a2);
            a3 = d3.fma(d3, a3);
            a4 = d4.fma(d4, a4);
            a5 = d5.fma(d5, a5);
            a6 = d6.fma(d6, a6);
            a7 = d7.fma(d7, a7);
        }
        // Every widening load is written out where it is used, not in a helper: at this loop's call site, cold in
        // the profile (most chunks have no leftover vectors), C2 did not inline a helper that had been compiled on its
        // own ("already compiled into a medium method"), and each vector it returned was boxed (96 bytes).
        for (; i + h <= length; i += h) { // whole half-width vectors left over: into the first chain
            DoubleVector d = (DoubleVector) FloatVector.fromMemorySegment(HALF, x, base + (long) i * Float.BYTES, ORDER)
                    .convertShape(VectorOperators.F2D, DSPECIES, 0);
            a0 = d.fma(d, a0);
        }
        DoubleVector sum = a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7)));
        // Lanes first to last, extracted here with constant indices: a vector passed to a helper C2 did not inline
        // would be boxed. Not reduceLanes(ADD), whose order is unspecified (and may differ between JIT tiers).
        double s = sum.lane(0) + sum.lane(1);
        if (DSPECIES.length() >= 4) {
            s += sum.lane(2);
            s += sum.lane(3);
        }
        if (DSPECIES.length() >= 8) {
            s += sum.lane(4);
            s += sum.lane(5);
            s += sum.lane(6);
            s += sum.lane(7);
        }
        return s + ScalarKernels.sumOfSquaresRange(x, start, i, length);
    }

    @Override
    public double sumOfSquares(MemorySegment x, Dtype type, int length) {
        return type == Dtype.FLOAT32 ? sumOfSquares(x, 0, length) : MixedPanama.sumOfSquares(x, type.ordinal(), length);
    }

    @Override
    public float maxAbs(MemorySegment x, long start, int length) {
        final int bound = SPECIES.loopBound(length);
        final long base = start * Float.BYTES;
        final int step = SPECIES.length();
        FloatVector max = FloatVector.zero(SPECIES);
        for (int i = 0; i < bound; i += step) {
            max = max.max(FloatVector.fromMemorySegment(SPECIES, x, base + (long) i * Float.BYTES, ORDER).abs());
        }
        float m = 0f; // max is exact and NaN-propagating in any order, so a lane-wise reduction is deterministic
        for (int i = 0; i < max.length(); i++) {
            m = Math.max(m, max.lane(i));
        }
        return ScalarKernels.maxAbsRange(x, start, bound, length, m);
    }

    @Override
    public void scale(MemorySegment x, long start, int length, float factor) {
        final int bound = SPECIES.loopBound(length);
        final long base = start * Float.BYTES;
        final int step = SPECIES.length();
        final FloatVector f = FloatVector.broadcast(SPECIES, factor);
        for (int i = 0; i < bound; i += step) {
            long off = base + (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(SPECIES, x, off, ORDER).mul(f).intoMemorySegment(x, off, ORDER);
        }
        ScalarKernels.scaleRange(x, start, bound, length, factor);
    }

    @Override
    public void clamp(MemorySegment x, long start, int length, float limit) {
        final int bound = SPECIES.loopBound(length);
        final long base = start * Float.BYTES;
        final int step = SPECIES.length();
        final FloatVector hi = FloatVector.broadcast(SPECIES, limit), lo = FloatVector.broadcast(SPECIES, -limit);
        for (int i = 0; i < bound; i += step) {
            long off = base + (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(SPECIES, x, off, ORDER).max(lo).min(hi).intoMemorySegment(x, off, ORDER);
        }
        ScalarKernels.clampRange(x, start, bound, length, limit);
    }
}
