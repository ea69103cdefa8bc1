package vecopt.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import vecopt.memory.Dtype;

/**
 * The engine's scalar kernels: the default where the Vector API is unavailable or disabled, and the tail loop of the
 * SIMD kernels (the tail runs exactly this code, so there is one tail strategy and it matches the vector body).
 */
final class ScalarKernels implements Kernels {
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** The short-chunk path of the SIMD kernels' two-pass loops. */
    static final ScalarKernels SCALAR = new ScalarKernels();

    @Override
    public void adam(Chunk c, AdamStep k, double[] norms) {
        if (c.stateType == 2) {
            MixedScalar.adamQuantized(c, k);
        } else if (c.stateType == 3) {
            DynamicMapAdam.adam(c, k);
        } else if (c.mixed) {
            MixedScalar.adamRange(c, k, 0, c.length);
        } else {
            adamRange(c, k, 0, c.length, norms);
        }
    }

    @Override
    public void sgd(Chunk c, SgdStep k, double[] norms) {
        if (c.stateType == 2) {
            MixedScalar.quantized(c, k);
        } else if (c.mixed) {
            MixedScalar.sgdRange(c, k, 0, c.length);
        } else {
            sgdRange(c, k, 0, c.length, norms);
        }
    }

    @Override
    public void update(Chunk c, UpdateStep step) {
        run(c, step);
    }

    /** The scalar loop of {@code step}'s optimizer over the whole chunk (also the SIMD kernels' short-chunk path). */
    static void run(Chunk c, UpdateStep step) {
        if (c.stateType == 2) { // 8-bit state
            MixedScalar.quantized(c, (KeyedStep) step); // every UpdateStep is a KeyedStep
            return;
        }
        if (c.mixed) { // 16-bit parameters or gradients
            mixed(c, step);
            return;
        }
        // instanceof tests rather than a pattern switch: plain type checks C2 folds to the one type a run sees
        if (step instanceof AdagradStep k) {
            AdagradStep.scalar(c, k);
        } else if (step instanceof RmspropStep k) {
            RmspropStep.scalar(c, k);
        } else if (step instanceof LionStep k) {
            LionStep.scalar(c, k);
        } else if (step instanceof AdamaxStep k) {
            AdamaxStep.scalar(c, k);
        } else if (step instanceof NAdamStep k) {
            NAdamStep.scalar(c, k);
        } else if (step instanceof RAdamStep k) {
            RAdamStep.scalar(c, k);
        } else if (step instanceof AdadeltaStep k) {
            AdadeltaStep.scalar(c, k);
        } else if (step instanceof RpropStep k) {
            RpropStep.scalar(c, k);
        } else if (step instanceof AsgdStep k) {
            AsgdStep.scalar(c, k);
        } else if (step instanceof ScheduleFreeStep k) {
            ScheduleFreeStep.scalar(c, k);
        } else {
            throw new IllegalArgumentException("no scalar loop for " + step);
        }
    }

    /** The scalar loop of {@code step}'s optimizer over a chunk with 16-bit parameters or gradients. */
    private static void mixed(Chunk c, UpdateStep step) {
        if (step instanceof AdagradStep k) {
            MixedScalar.adagradRange(c, k, 0, c.length);
        } else if (step instanceof RmspropStep k) {
            MixedScalar.rmspropRange(c, k, 0, c.length);
        } else if (step instanceof AdamaxStep k) {
            MixedScalar.adamaxRange(c, k, 0, c.length);
        } else if (step instanceof NAdamStep k) {
            MixedScalar.nadamRange(c, k, 0, c.length);
        } else if (step instanceof RAdamStep k) {
            MixedScalar.radamRange(c, k, 0, c.length);
        } else if (step instanceof AsgdStep k) {
            MixedScalar.asgdRange(c, k, 0, c.length);
        } else if (step instanceof RpropStep k) {
            MixedScalar.rpropRange(c, k, 0, c.length);
        } else if (step instanceof AdadeltaStep k) {
            MixedScalar.adadeltaRange(c, k, 0, c.length);
        } else if (step instanceof LionStep k) {
            MixedScalar.lionRange(c, k, 0, c.length);
        } else if (step instanceof ScheduleFreeStep k) {
            MixedScalar.scheduleFreeRange(c, k, 0, c.length);
        } else {
            throw new IllegalArgumentException("no 16-bit scalar loop for " + step);
        }
    }

    @Override
    public void trustNorms(Chunk c, TrustRatioStep step, double[] sums, int slot) {
        if (c.mixed) { // 16-bit parameters or gradients
            mixedTrustNorms(c, step, sums, slot);
        } else if (step instanceof LambStep k) {
            LambStep.norms(c, k, 0, c.length, sums, slot);
        } else if (step instanceof LarsStep k) {
            LarsStep.norms(c, k, 0, c.length, sums, slot);
        } else {
            throw new IllegalArgumentException("no scalar loop for " + step);
        }
    }

    @Override
    public void trustApply(Chunk c, TrustRatioStep step, float factor) {
        if (c.mixed) {
            mixedTrustApply(c, step, factor);
        } else if (step instanceof LambStep k) {
            LambStep.apply(c, k, 0, c.length, factor);
        } else if (step instanceof LarsStep k) {
            LarsStep.apply(c, k, 0, c.length, factor);
        } else {
            throw new IllegalArgumentException("no scalar loop for " + step);
        }
    }

    private static void mixedTrustNorms(Chunk c, TrustRatioStep step, double[] sums, int slot) {
        if (c.stateType == 2 && step instanceof LambStep k) { // 8-bit state (LARS's pass 1 reads none)
            MixedScalar.lambQuantizedNorms(c, k, sums, slot);
        } else if (step instanceof LambStep k) {
            MixedScalar.lambNorms(c, k, 0, c.length, sums, slot);
        } else if (step instanceof LarsStep k) {
            MixedScalar.larsNorms(c, k, 0, c.length, sums, slot);
        } else {
            throw new IllegalArgumentException("no 16-bit scalar loop for " + step);
        }
    }

    private static void mixedTrustApply(Chunk c, TrustRatioStep step, float factor) {
        if (c.stateType == 2 && step instanceof LambStep k) { // 8-bit state, block by block
            MixedScalar.lambQuantizedApply(c, k, factor);
        } else if (c.stateType == 2 && step instanceof LarsStep k) {
            MixedScalar.larsQuantizedApply(c, k, factor);
        } else if (step instanceof LambStep k) {
            MixedScalar.lambApply(c, k, 0, c.length, factor);
        } else if (step instanceof LarsStep k) {
            MixedScalar.larsApply(c, k, 0, c.length, factor);
        } else {
            throw new IllegalArgumentException("no 16-bit scalar loop for " + step);
        }
    }

    @Override
    public void adafactor(Chunk c, AdafactorStep step, AdafactorChunk work, int pass) {
        AdafactorStaging.load(c, step, work, pass, false);
        switch (pass) {
            case 0 -> AdafactorStep.sums(c, step, work);
            case 1 -> AdafactorStep.updateSums(c, step, work);
            default -> AdafactorStep.apply(c, step, work);
        }
        AdafactorStaging.store(c, step, work, pass, false);
    }

    @Override
    public String describe() {
        return "scalar (Vector API not used)";
    }

    @Override
    public int lanes() {
        return 1;
    }

    /**
     * Elements {@code [from, to)} of the chunk (indices relative to its start); adds the tracked sums (if
     * {@code norms} is not null) to the chunk's slots.
     */
    static void adamRange(Chunk c, AdamStep k, int from, int to, double[] norms) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], vs = c.state[1];
        final MemorySegment xs = k.amsgrad ? c.state[2] : null;
        final float b1 = k.beta1, c1 = k.oneMinusBeta1, b2 = k.beta2, c2 = k.oneMinusBeta2;
        final float eps = k.eps, decay = k.decay, l2 = k.l2, negStep = k.negStepSize, invBc2 = k.invSqrtBc2;
        final float scale = k.gradScale;
        final boolean useL2 = k.useL2, ams = k.amsgrad;
        double du2 = 0, p2 = 0;
        for (int i = from; i < to; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            if (useL2) {
                g = Math.fma(p, l2, g);
            }
            float m = Math.fma(ms.get(F, off), b1, g * c1);
            float v = Math.fma(vs.get(F, off), b2, (g * c2) * g);
            ms.set(F, off, m);
            vs.set(F, off, v);
            if (ams) {
                v = Math.max(xs.get(F, off), v);
                xs.set(F, off, v);
            }
            float denom = Math.fma((float) Math.sqrt(v), invBc2, eps);
            float pNew = Math.fma(m / denom, negStep, p * decay);
            ps.set(F, off, pNew);
            double du = pNew - p; // the float difference (rounded to float), as the SIMD path takes it
            du2 += du * du;
            p2 += (double) pNew * pNew;
        }
        if (norms != null) {
            norms[NORM_SLOTS * c.index] += du2;
            norms[NORM_SLOTS * c.index + NORM_SLOTS / 2] += p2;
        }
    }

    static void sgdRange(Chunk c, SgdStep k, int from, int to, double[] norms) {
        final MemorySegment ps = c.params, gs = c.grads;
        final MemorySegment bs = k.useMomentum ? c.state[0] : null;
        final float negLr = k.negLr, mom = k.momentum, damp1 = k.oneMinusDampening, wd = k.weightDecay;
        final float scale = k.gradScale;
        final boolean useWd = k.useWeightDecay, useMom = k.useMomentum, nesterov = k.nesterov, first = k.firstStep;
        double du2 = 0, p2 = 0;
        for (int i = from; i < to; i++) {
            final long off = (long) i * Float.BYTES;
            float p = ps.get(F, off);
            float g = gs.get(F, off) * scale;
            if (useWd) {
                g = Math.fma(p, wd, g);
            }
            float d = g;
            if (useMom) {
                float buf = first ? g : Math.fma(bs.get(F, off), mom, g * damp1);
                bs.set(F, off, buf);
                d = nesterov ? Math.fma(buf, mom, g) : buf;
            }
            float pNew = Math.fma(d, negLr, p);
            ps.set(F, off, pNew);
            double du = pNew - p; // the float difference (rounded to float), as the SIMD path takes it
            du2 += du * du;
            p2 += (double) pNew * pNew;
        }
        if (norms != null) {
            norms[NORM_SLOTS * c.index] += du2;
            norms[NORM_SLOTS * c.index + NORM_SLOTS / 2] += p2;
        }
    }

    @Override
    public double sumOfSquares(MemorySegment x, long start, int length) {
        return sumOfSquaresRange(x, start, 0, length);
    }

    @Override
    public double sumOfSquares(MemorySegment x, Dtype type, int length) {
        return type == Dtype.FLOAT32 ? sumOfSquares(x, 0, length) : MixedScalar.sumOfSquares(x, type.ordinal(), length);
    }

    static double sumOfSquaresRange(MemorySegment x, long start, int from, int to) {
        final long base = start * Float.BYTES;
        double sum = 0;
        for (int i = from; i < to; i++) {
            double v = x.get(F, base + (long) i * Float.BYTES);
            sum += v * v;
        }
        return sum;
    }

    @Override
    public float maxAbs(MemorySegment x, long start, int length) {
        return maxAbsRange(x, start, 0, length, 0f);
    }

    static float maxAbsRange(MemorySegment x, long start, int from, int to, float max) {
        final long base = start * Float.BYTES;
        for (int i = from; i < to; i++) {
            max = Math.max(max, Math.abs(x.get(F, base + (long) i * Float.BYTES)));
        }
        return max;
    }

    @Override
    public void scale(MemorySegment x, long start, int length, float factor) {
        scaleRange(x, start, 0, length, factor);
    }

    static void scaleRange(MemorySegment x, long start, int from, int to, float factor) {
        final long base = start * Float.BYTES;
        for (int i = from; i < to; i++) {
            long off = base + (long) i * Float.BYTES;
            x.set(F, off, x.get(F, off) * factor);
        }
    }

    @Override
    public void clamp(MemorySegment x, long start, int length, float limit) {
        clampRange(x, start, 0, length, limit);
    }

    static void clampRange(MemorySegment x, long start, int from, int to, float limit) {
        final long base = start * Float.BYTES;
        for (int i = from; i < to; i++) {
            long off = base + (long) i * Float.BYTES;
            x.set(F, off, Math.min(Math.max(x.get(F, off), -limit), limit));
        }
    }
}
