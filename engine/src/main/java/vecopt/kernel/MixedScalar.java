package vecopt.kernel;

import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import vecopt.memory.BFloat16;
import vecopt.memory.Float16;

/**
 * The scalar loops for parameters and gradients stored as 16-bit floats: the scalar kernels' formulas with each load
 * widened and each parameter store rounded ({@link BFloat16}, {@link Float16}), element by element. They run where
 * the Vector API is not used, for chunks shorter than a vector, and for the tails of the 16-bit sums; the generated
 * {@link MixedPanama} loops are bitwise equal to them.
 *
 * <p>Types are {@code Dtype} ordinals: 0 float32, 1 bfloat16, 2 float16.
 */
final class MixedScalar {
    static final ValueLayout.OfShort S = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;

    private MixedScalar() {
    }

    /** Element {@code i} of {@code x}, stored as {@code type}, widened exactly. */
    static float load(MemorySegment x, int type, int i) {
        return switch (type) {
            case 0 -> x.get(F, (long) i * Float.BYTES);
            case 1 -> BFloat16.widen(x.get(S, (long) i * Short.BYTES));
            default -> Float16.widen(x.get(S, (long) i * Short.BYTES));
        };
    }

    /** Stores {@code value} at element {@code i} of {@code x}, rounded to {@code type} (nearest even). */
    static void store(MemorySegment x, int type, int i, float value) {
        switch (type) {
            case 0 -> x.set(F, (long) i * Float.BYTES, value);
            case 1 -> x.set(S, (long) i * Short.BYTES, BFloat16.round(value));
            default -> x.set(S, (long) i * Short.BYTES, Float16.round(value));
        }
    }

    /**
     * Adam / AdamW / AMSGrad over elements {@code [from, to)} of a chunk with 16-bit gradients or parameters:
     * {@code ScalarKernels.adamRange}'s float operations, reading the float32 master copy (the last state buffer)
     * where the parameters are 16-bit and storing the new value there and, rounded, into the parameters.
     */
    static void adamRange(Chunk c, AdamStep k, int from, int to) {
        final MemorySegment ps = c.params, gs = c.grads, ms = c.state[0], vs = c.state[1];
        final MemorySegment xs = k.amsgrad ? c.state[2] : null;
        final int gt = c.gradType, pt = c.paramType;
        final boolean narrowState = c.stateType == 1;
        final MemorySegment master = pt == 0 || pt == 3 ? ps : c.state[c.state.length - 1];
        final int key = k.roundingKey, first = (int) c.start;
        final int keyM = k.stateKeys[0], keyV = k.stateKeys[1], keyX = k.stateKeys[2];
        final float b1 = k.beta1, c1 = k.oneMinusBeta1, b2 = k.beta2, c2 = k.oneMinusBeta2;
        final float eps = k.eps, decay = k.decay, l2 = k.l2, negStep = k.negStepSize, invBc2 = k.invSqrtBc2;
        final float scale = k.gradScale;
        final boolean useL2 = k.useL2, ams = k.amsgrad;
        for (int i = from; i < to; i++) {
            final long off = (long) i * Float.BYTES, off2 = (long) i * Short.BYTES;
            float p = pt == 3 ? BFloat16.widen(ps.get(S, off2)) : master.get(F, off);
            float g = load(gs, gt, i) * scale;
            if (useL2) {
                g = Math.fma(p, l2, g);
            }
            float m, v;
            if (narrowState) { // bfloat16 state, rounded stochastically; the update uses the stored values
                short mb = roundStochastically(Math.fma(BFloat16.widen(ms.get(S, off2)), b1, g * c1), keyM, first + i);
                short vb = roundStochastically(Math.fma(BFloat16.widen(vs.get(S, off2)), b2, (g * c2) * g), keyV,
                        first + i);
                ms.set(S, off2, mb);
                vs.set(S, off2, vb);
                m = BFloat16.widen(mb);
                v = BFloat16.widen(vb);
                if (ams) {
                    short xb = roundStochastically(Math.max(BFloat16.widen(xs.get(S, off2)), v), keyX, first + i);
                    xs.set(S, off2, xb);
                    v = BFloat16.widen(xb);
                }
            } else {
                m = Math.fma(ms.get(F, off), b1, g * c1);
                v = Math.fma(vs.get(F, off), b2, (g * c2) * g);
                ms.set(F, off, m);
                vs.set(F, off, v);
                if (ams) {
                    v = Math.max(xs.get(F, off), v);
                    xs.set(F, off, v);
                }
            }
            float denom = Math.fma((float) Math.sqrt(v), invBc2, eps);
            float pNew = Math.fma(m / denom, negStep, p * decay);
            if (pt == 3) {
                ps.set(S, off2, roundStochastically(pNew, key, first + i));
            } else {
                master.set(F, off, pNew);
                if (pt != 0) {
                    store(ps, pt, i, pNew);
                }
            }
        }
    }

    // ---- the other elementwise optimizers: each one's *Step.scalar formula with the storage stages of the loads and
    // ---- the parameter store; the generated Mixed<Optimizer>Panama loops are bitwise these, element by element.

    /** Element {@code i}'s gradient, widened (unscaled). */
    static float grad(Chunk c, int i) {
        return load(c.grads, c.gradType, i);
    }

    /**
     * Stores element {@code i}'s new parameter {@code pNew} (computed in float32): into the parameters (float32), into
     * the master copy and, rounded to nearest even, into the parameters (16-bit with a master), or into the
     * parameters rounded stochastically with the step's {@code key} (bfloat16 without a master).
     */
    static void storeParam(Chunk c, int key, int i, float pNew) {
        switch (c.paramType) {
            case 0 -> c.params.set(F, (long) i * Float.BYTES, pNew);
            case 3 -> c.params.set(S, (long) i * Short.BYTES, roundStochastically(pNew, key, (int) c.start + i));
            default -> {
                c.state[c.state.length - 1].set(F, (long) i * Float.BYTES, pNew);
                store(c.params, c.paramType, i, pNew);
            }
        }
    }

    /**
     * Element {@code i} of state buffer {@code j}: float32, bfloat16 widened ({@code Chunk.stateType} 1), or 8-bit
     * decoded against its block's scale before the step ({@code Chunk.stateType} 2: see {@link #decoded}).
     */
    static float state(Chunk c, int j, int i) {
        return c.stateType == 1 ? BFloat16.widen(c.state[j].get(S, (long) i * Short.BYTES))
                : c.stateType == 2 ? decoded(c, j, i) : c.state[j].get(F, (long) i * Float.BYTES);
    }

    /**
     * Stores element {@code i} of state buffer {@code j}: float32, or bfloat16 rounded stochastically with the step's
     * key for that buffer, {@code keys[j]} ({@code Chunk.stateType} 1). The step uses the value it computed, not its
     * rounding (as with 8-bit state).
     */
    static void storeState(Chunk c, int[] keys, int j, int i, float value) {
        if (c.stateType == 1) {
            c.state[j].set(S, (long) i * Short.BYTES, roundStochastically(value, keys[j], (int) c.start + i));
        } else if (c.stateType == 2) {
            c.state[j].set(B, i, coded(c, j, value));
        } else {
            c.state[j].set(F, (long) i * Float.BYTES, value);
        }
    }

    /** SGD ({@link SgdStep}'s formula) over elements {@code [from, to)} of a chunk with 16-bit storage. */
    static void sgdRange(Chunk c, SgdStep k, int from, int to) {
        final float negLr = k.negLr, mom = k.momentum, damp1 = k.oneMinusDampening, wd = k.weightDecay;
        final float scale = k.gradScale;
        final boolean useWd = k.useWeightDecay, useMom = k.useMomentum, nesterov = k.nesterov, first = k.firstStep;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float g = grad(c, i) * scale;
            if (useWd) {
                g = Math.fma(p, wd, g);
            }
            float d = g;
            if (useMom) {
                float buf = first ? g : Math.fma(state(c, 0, i), mom, g * damp1);
                storeState(c, k.stateKeys, 0, i, buf);
                d = nesterov ? Math.fma(buf, mom, g) : buf;
            }
            storeParam(c, k.roundingKey, i, Math.fma(d, negLr, p));
        }
    }

    /** Adagrad ({@link AdagradStep}'s formula) over elements {@code [from, to)} of a chunk with 16-bit storage. */
    static void adagradRange(Chunk c, AdagradStep k, int from, int to) {
        final float negClr = k.negClr, eps = k.eps, wd = k.weightDecay, scale = k.gradScale;
        final boolean useWd = k.useWeightDecay;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float g = grad(c, i) * scale;
            if (useWd) {
                g = Math.fma(p, wd, g);
            }
            float sum = Math.fma(g, g, state(c, 0, i));
            storeState(c, k.stateKeys, 0, i, sum);
            float std = (float) Math.sqrt(sum) + eps;
            storeParam(c, k.roundingKey, i, Math.fma(g / std, negClr, p));
        }
    }

    /** RMSprop ({@link RmspropStep}'s formula) over elements {@code [from, to)} of a chunk with 16-bit storage. */
    static void rmspropRange(Chunk c, RmspropStep k, int from, int to) {
        final float negLr = k.negLr, alpha = k.alpha, c1 = k.oneMinusAlpha, eps = k.eps, mom = k.momentum;
        final float wd = k.weightDecay, scale = k.gradScale;
        final boolean useWd = k.useWeightDecay, centered = k.centered, useMom = k.useMomentum;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float g = grad(c, i) * scale;
            if (useWd) {
                g = Math.fma(p, wd, g);
            }
            float sa = Math.fma(state(c, 0, i), alpha, (g * c1) * g);
            storeState(c, k.stateKeys, 0, i, sa);
            float var = sa;
            if (centered) {
                float ga = Math.fma(state(c, k.gradAvg, i), alpha, g * c1);
                storeState(c, k.stateKeys, k.gradAvg, i, ga);
                var = sa - ga * ga;
            }
            float d = g / ((float) Math.sqrt(var) + eps);
            if (useMom) {
                d = Math.fma(state(c, k.momentumBuffer, i), mom, d);
                storeState(c, k.stateKeys, k.momentumBuffer, i, d);
            }
            storeParam(c, k.roundingKey, i, Math.fma(d, negLr, p));
        }
    }

    /** Adamax ({@link AdamaxStep}'s formula) over elements {@code [from, to)} of a chunk with 16-bit storage. */
    static void adamaxRange(Chunk c, AdamaxStep k, int from, int to) {
        final float negClr = k.negClr, b1 = k.beta1, c1 = k.oneMinusBeta1, b2 = k.beta2, eps = k.eps;
        final float wd = k.weightDecay, scale = k.gradScale;
        final boolean useWd = k.useWeightDecay;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float g = grad(c, i) * scale;
            if (useWd) {
                g = Math.fma(p, wd, g);
            }
            float m = Math.fma(state(c, 0, i), b1, g * c1);
            float u = Math.max(state(c, 1, i) * b2, Math.abs(g) + eps);
            storeState(c, k.stateKeys, 0, i, m);
            storeState(c, k.stateKeys, 1, i, u);
            storeParam(c, k.roundingKey, i, Math.fma(m / u, negClr, p));
        }
    }

    /** NAdam ({@link NAdamStep}'s formula) over elements {@code [from, to)} of a chunk with 16-bit storage. */
    static void nadamRange(Chunk c, NAdamStep k, int from, int to) {
        final float decay = k.decay, wd = k.weightDecay, b1 = k.beta1, o1 = k.oneMinusBeta1, b2 = k.beta2;
        final float o2 = k.oneMinusBeta2, bc2 = k.bc2, eps = k.eps, c1 = k.c1, c2 = k.c2, scale = k.gradScale;
        final boolean useL2 = k.useL2;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float g = grad(c, i) * scale;
            if (useL2) {
                g = Math.fma(p, wd, g);
            }
            p = p * decay;
            float m = Math.fma(state(c, 0, i), b1, g * o1);
            float v = Math.fma(state(c, 1, i), b2, (g * o2) * g);
            storeState(c, k.stateKeys, 0, i, m);
            storeState(c, k.stateKeys, 1, i, v);
            float d = (float) Math.sqrt(v / bc2) + eps;
            p = Math.fma(g / d, c1, p);
            storeParam(c, k.roundingKey, i, Math.fma(m / d, c2, p));
        }
    }

    /** RAdam ({@link RAdamStep}'s formula) over elements {@code [from, to)} of a chunk with 16-bit storage. */
    static void radamRange(Chunk c, RAdamStep k, int from, int to) {
        final float decay = k.decay, wd = k.weightDecay, b1 = k.beta1, o1 = k.oneMinusBeta1, b2 = k.beta2;
        final float o2 = k.oneMinusBeta2, eps = k.eps, negK = k.negK, scale = k.gradScale;
        final boolean useL2 = k.useL2, rectified = k.rectified;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float g = grad(c, i) * scale;
            if (useL2) {
                g = Math.fma(p, wd, g);
            }
            p = p * decay;
            float m = Math.fma(state(c, 0, i), b1, g * o1);
            float v = Math.fma(state(c, 1, i), b2, (g * o2) * g);
            storeState(c, k.stateKeys, 0, i, m);
            storeState(c, k.stateKeys, 1, i, v);
            float d = rectified ? m / ((float) Math.sqrt(v) + eps) : m;
            storeParam(c, k.roundingKey, i, Math.fma(d, negK, p));
        }
    }

    /**
     * ASGD ({@link AsgdStep}'s formula) over elements {@code [from, to)} of a chunk with 16-bit storage; the average
     * takes the new parameter as computed in float32 (the master copy's value), not its 16-bit rounding.
     */
    static void asgdRange(Chunk c, AsgdStep k, int from, int to) {
        final MemorySegment as = c.state[0];
        final float decay = k.decay, negEta = k.negEta, mu = k.mu, wd = k.weightDecay, scale = k.gradScale;
        final boolean useWd = k.useWeightDecay, average = k.average;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float g = grad(c, i) * scale;
            if (useWd) {
                g = Math.fma(p, wd, g);
            }
            p = Math.fma(g, negEta, p * decay);
            storeParam(c, k.roundingKey, i, p);
            if (average) {
                float ax = state(c, 0, i);
                storeState(c, k.stateKeys, 0, i, ax + (p - ax) * mu);
            } else {
                storeState(c, k.stateKeys, 0, i, p);
            }
        }
    }

    /**
     * Rprop ({@link RpropStep}'s formula) over elements {@code [from, to)} of a chunk with 16-bit storage; {@code prev}
     * keeps the float32 gradient (scaled, zeroed where the sign flipped), as the float32 step's.
     */
    static void rpropRange(Chunk c, RpropStep k, int from, int to) {
        final float etaMinus = k.etaMinus, etaPlus = k.etaPlus, lo = k.stepMin, hi = k.stepMax, lr = k.lr;
        final float scale = k.gradScale;
        final boolean first = k.firstStep;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float g = grad(c, i) * scale;
            float s = g * state(c, 0, i);
            float f = s > 0 ? etaPlus : s < 0 ? etaMinus : 1f;
            float ss = Math.min(Math.max((first ? lr : state(c, 1, i)) * f, lo), hi);
            storeState(c, k.stateKeys, 1, i, ss);
            g = s < 0 ? 0f : g;
            storeParam(c, k.roundingKey, i, Math.fma(Math.signum(g), -ss, p));
            storeState(c, k.stateKeys, 0, i, g);
        }
    }

    /** Adadelta ({@link AdadeltaStep}'s formula) over elements {@code [from, to)} of a chunk with 16-bit storage. */
    static void adadeltaRange(Chunk c, AdadeltaStep k, int from, int to) {
        final float negLr = k.negLr, rho = k.rho, c1 = k.oneMinusRho, eps = k.eps, wd = k.weightDecay;
        final float scale = k.gradScale;
        final boolean useWd = k.useWeightDecay;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float g = grad(c, i) * scale;
            if (useWd) {
                g = Math.fma(p, wd, g);
            }
            float sa = Math.fma(state(c, 0, i), rho, (g * c1) * g);
            storeState(c, k.stateKeys, 0, i, sa);
            float ad = state(c, 1, i);
            float d = (float) Math.sqrt(ad + eps) / (float) Math.sqrt(sa + eps) * g;
            storeState(c, k.stateKeys, 1, i, Math.fma(ad, rho, (d * c1) * d));
            storeParam(c, k.roundingKey, i, Math.fma(d, negLr, p));
        }
    }

    /**
     * Lion ({@link LionStep}'s formula) over elements {@code [from, to)} of a chunk with 16-bit storage; the decoupled
     * decay multiplies the master copy (or the stochastically rounded parameter), not a 16-bit rounding of it.
     */
    static void lionRange(Chunk c, LionStep k, int from, int to) {
        final float negLr = k.negLr, decay = k.decay, b1 = k.beta1, c1 = k.oneMinusBeta1, b2 = k.beta2;
        final float c2 = k.oneMinusBeta2, scale = k.gradScale;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float g = grad(c, i) * scale;
            float m = state(c, 0, i);
            float u = Math.signum(Math.fma(m, b1, g * c1));
            storeParam(c, k.roundingKey, i, Math.fma(u, negLr, p * decay));
            storeState(c, k.stateKeys, 0, i, Math.fma(m, b2, g * c2));
        }
    }

    /**
     * Schedule-free AdamW ({@link ScheduleFreeStep}'s step or train/eval switch) over elements {@code [from, to)} of
     * a chunk with 16-bit storage. The parameter read is y in train mode, x in eval mode: the master copy where there
     * is one, so that the switch moves the master exactly as it moves float32 parameters and the 16-bit parameters
     * are its rounding (the round trip eval(), train() is the float32 one on the master; no 16-bit rounding enters
     * it); without a master the widened bfloat16 parameter, and the result is rounded stochastically with the key
     * {@code ScheduleFreeAdamW} sets for the step or the switch.
     */
    static void scheduleFreeRange(Chunk c, ScheduleFreeStep k, int from, int to) {
        final float lc = k.lerpCoef;
        final boolean fromEnd = k.lerpFromEnd;
        final int key = k.roundingKey;
        if (k.switching) {
            if (!k.moves) {
                return; // a group that has not stepped has no z: its parameters stay
            }
            for (int i = from; i < to; i++) {
                float p = param(c, i), z = state(c, 0, i);
                storeParam(c, key, i, Math.fma(z - p, lc, fromEnd ? z : p));
            }
            return;
        }
        final float b2 = k.beta2, c2 = k.oneMinusBeta2, bc2 = k.bc2, eps = k.eps, wd = k.weightDecay;
        final float yc = k.yCoef, negLr = k.negLr, scale = k.gradScale;
        final boolean useWd = k.useWeightDecay, first = k.first;
        for (int i = from; i < to; i++) {
            float y = param(c, i);
            float g = grad(c, i) * scale;
            float z = first ? y : state(c, 0, i); // the first step's z is y
            float v = Math.fma(state(c, 1, i), b2, (g * c2) * g);
            float u = g / ((float) Math.sqrt(v / bc2) + eps);
            if (useWd) {
                u = Math.fma(y, wd, u);
            }
            float yl = Math.fma(z - y, lc, fromEnd ? z : y);
            storeParam(c, key, i, Math.fma(u, yc, yl));
            storeState(c, k.stateKeys, 0, i, Math.fma(u, negLr, z));
            storeState(c, k.stateKeys, 1, i, v);
        }
    }

    // ---- the layer-wise optimizers (LAMB, LARS): both passes of each *Step's scalar loops with the storage stages.
    // ---- The norm pass reads the parameter as the update does (the master copy where there is one, else the
    // ---- bfloat16 parameters themselves: never 16-bit parameters that have a master, which are only written).

    /**
     * As {@link #storeState}, returning the value as stored: bfloat16 state's rounding, widened (LAMB's update takes
     * its moments as stored, as AdamW's does), 8-bit state's code decoded against the block's new scale (what pass 2
     * decodes), else {@code value}.
     */
    static float storeStoredState(Chunk c, int[] keys, int j, int i, float value) {
        if (c.stateType == 2) { // 8-bit: coded against the block's new scale, that code decoded against it
            byte code = coded(c, j, value);
            c.state[j].set(B, i, code);
            float scale = newScale(c, j, i);
            if (c.root[j]) {
                float r = BlockCodes.decodeUnsigned(code) * scale;
                return r * r;
            }
            return BlockCodes.decodeSigned(code) * scale;
        }
        if (c.stateType == 1) {
            short b = roundStochastically(value, keys[j], (int) c.start + i);
            c.state[j].set(S, (long) i * Short.BYTES, b);
            return BFloat16.widen(b);
        }
        c.state[j].set(F, (long) i * Float.BYTES, value);
        return value;
    }

    /**
     * LAMB's pass 1 ({@link LambStep#norms}'s float operations and summation order) over elements {@code [from, to)}
     * of a chunk with 16-bit storage or bfloat16 state: the moments updated, the sums of {@code u^2} and {@code p^2}
     * added to the chunk's slots as there. With bfloat16 state {@code u} takes the moments as stored (rounded
     * stochastically, widened), which pass 2 reads back.
     */
    static void lambNorms(Chunk c, LambStep k, int from, int to, double[] sums, int slot) {
        final int[] keys = k.stateKeys;
        final float b1 = k.beta1, c1 = k.oneMinusBeta1, b2 = k.beta2, c2 = k.oneMinusBeta2;
        final float ib1 = k.invBc1, ib2 = k.invBc2;
        final float eps = k.eps, epsRoot = k.epsRoot, wd = k.weightDecay, scale = k.gradScale;
        double su = 0, sp = 0;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float g = grad(c, i) * scale;
            float m = storeStoredState(c, keys, 0, i, Math.fma(state(c, 0, i), b1, g * c1));
            float v = storeStoredState(c, keys, 1, i, Math.fma(state(c, 1, i), b2, g * c2 * g));
            float u = Math.fma(p, wd, (m * ib1) / ((float) Math.sqrt(v * ib2 + epsRoot) + eps));
            su = Math.fma(u, (double) u, su);
            sp = Math.fma(p, (double) p, sp);
        }
        sums[Kernels.NORM_SLOTS * slot] += su;
        sums[Kernels.NORM_SLOTS * slot + Kernels.NORM_SLOTS / 2] += sp;
    }

    /**
     * LAMB's pass 2 ({@link LambStep#apply}) over elements {@code [from, to)} of a chunk with 16-bit storage or
     * bfloat16 state (the moments pass 1 stored, widened).
     */
    static void lambApply(Chunk c, LambStep k, int from, int to, float factor) {
        final float ib1 = k.invBc1, ib2 = k.invBc2, eps = k.eps, epsRoot = k.epsRoot, wd = k.weightDecay;
        final int key = k.roundingKey;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float m = state(c, 0, i), v = state(c, 1, i);
            float u = Math.fma(p, wd, (m * ib1) / ((float) Math.sqrt(v * ib2 + epsRoot) + eps));
            storeParam(c, key, i, Math.fma(u, factor, p));
        }
    }

    /**
     * LARS's pass 1 ({@link LarsStep#norms}'s float operations and summation order) over elements {@code [from, to)}
     * of a chunk with 16-bit storage.
     */
    static void larsNorms(Chunk c, LarsStep k, int from, int to, double[] sums, int slot) {
        final float wd = k.weightDecay, scale = k.gradScale;
        double su = 0, sp = 0;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float u = Math.fma(p, wd, grad(c, i) * scale);
            su = Math.fma(u, (double) u, su);
            sp = Math.fma(p, (double) p, sp);
        }
        sums[Kernels.NORM_SLOTS * slot] += su;
        sums[Kernels.NORM_SLOTS * slot + Kernels.NORM_SLOTS / 2] += sp;
    }

    /**
     * LARS's pass 2 ({@link LarsStep#apply}) over elements {@code [from, to)} of a chunk with 16-bit storage or
     * bfloat16 state (the new trace stored rounded; the parameters move by it as computed).
     */
    static void larsApply(Chunk c, LarsStep k, int from, int to, float factor) {
        final float wd = k.weightDecay, scale = k.gradScale, mom = k.momentum;
        final boolean nesterov = k.nesterov;
        final int key = k.roundingKey;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float u = Math.fma(p, wd, grad(c, i) * scale) * factor;
            float t = Math.fma(state(c, 0, i), mom, u);
            storeState(c, k.stateKeys, 0, i, t); // the parameters move by t as computed, before its rounding
            storeParam(c, key, i, p + (nesterov ? Math.fma(t, mom, u) : t));
        }
    }

    // ---- LAMB and LARS with 8-bit block-quantized state (Chunk.stateType 2): the block drivers and scales of the
    // ---- generated EightBitLambPanama / EightBitLarsPanama, which are bitwise these element by element.

    /** The scale stored now for the block of element {@code i} of 8-bit variable {@code j}. */
    static float newScale(Chunk c, int j, int i) {
        return c.scales[j].get(F, (long) (i / BlockCodes.BLOCK) * Float.BYTES);
    }

    /** Block {@code b}'s loads decode against the scales stored (LAMB's pass 2: the scales pass 1 set). */
    static void decodeScales(Chunk c, int b) {
        for (int j = 0; j < c.scales.length; j++) {
            c.blockScale[j] = c.scales[j].get(F, b * 4L);
        }
    }

    /**
     * LAMB's block scales before pass 1, Adam's bounds: {@code mu} (optax's exp_avg) {@code beta1 M + (1 - beta1) G},
     * {@code nu} coded as its square root, {@code sqrt(beta2 R^2 + (1 - beta2) G^2)}, with M and R the block's largest
     * decoded values and G its largest stored {@code |gradient|} times {@code |gradScale|} (LAMB's weight decay is
     * added to the update, not to the gradient the moments take).
     */
    static void lambScales(Chunk c, LambStep k, int b, int codeM, int codeR, float largestG, float largestP) {
        double g = gradientBound(k.gradScale, false, 0f, largestG, largestP);
        nextScale(c, 0, b, BlockCodes.nextScaleSigned(largestDecoded(c, 0, b, codeM), g, k.beta1, k.oneMinusBeta1));
        nextScale(c, 1, b, BlockCodes.nextScaleUnsigned(largestDecoded(c, 1, b, codeR), g, k.beta2, k.oneMinusBeta2));
    }

    /**
     * LARS's block scale of {@code trace}, set in pass 2, once the tensor's factor {@code f = -lr * ratio} is known:
     * the new trace is {@code momentum * t + f * (g + wd p)} ({@link LarsStep}), so by the triangle inequality
     * {@code |t'| <= |momentum| T + |f| (G + |wd| P)} in exact arithmetic, with T the block's largest decoded trace
     * before the step, G the largest stored {@code |gradient|} times {@code |gradScale|} and P the largest
     * {@code |p|} (where {@code wd != 0}; found just before the block is updated, as its new values are not known
     * before pass 2). Taken in double and rounded to float; the float operations of the step can exceed it by a few
     * ulps, which the signed code's range up to 1.75 times the scale takes. Without the factor (the learning rate
     * and the trust ratio) the bound would not hold: the ratio can be far above 1.
     */
    static void larsScales(Chunk c, LarsStep k, int b, float factor, int code, float largestG, float largestP) {
        double u = gradientBound(k.gradScale, k.weightDecay != 0f, k.weightDecay, largestG, largestP);
        nextScale(c, 0, b, (float) (Math.abs(k.momentum) * (double) largestDecoded(c, 0, b, code)
                + Math.abs(factor) * u));
    }

    /**
     * LAMB's pass 1 on a chunk with 8-bit state, block by block: the block's new scales ({@link #lambScales}), then
     * {@link #lambNorms} over the block, which codes the new moments against them and takes the update (and its
     * norm) from the codes decoded.
     */
    static void lambQuantizedNorms(Chunk c, LambStep k, double[] sums, int slot) {
        for (int b = 0, from = 0; from < c.length; b++, from += BlockCodes.BLOCK) {
            final int to = Math.min(c.length, from + BlockCodes.BLOCK);
            lambScales(c, k, b, largestCode(c, 0, from, to), largestCode(c, 1, from, to),
                    largestMagnitude(c.grads, c.gradType, from, to), 0f);
            lambNorms(c, k, from, to, sums, slot);
        }
    }

    /** LAMB's pass 2 on a chunk with 8-bit state: each block decoded against the scales pass 1 set. */
    static void lambQuantizedApply(Chunk c, LambStep k, float factor) {
        for (int b = 0, from = 0; from < c.length; b++, from += BlockCodes.BLOCK) {
            decodeScales(c, b);
            lambApply(c, k, from, Math.min(c.length, from + BlockCodes.BLOCK), factor);
        }
    }

    /**
     * LARS's pass 2 on a chunk with 8-bit state, block by block: the block's new scale ({@link #larsScales}), then
     * {@link #larsApply} over the block (the parameters move by the new trace before it is coded).
     */
    static void larsQuantizedApply(Chunk c, LarsStep k, float factor) {
        for (int b = 0, from = 0; from < c.length; b++, from += BlockCodes.BLOCK) {
            final int to = Math.min(c.length, from + BlockCodes.BLOCK);
            larsScales(c, k, b, factor, largestCode(c, 0, from, to), largestMagnitude(c.grads, c.gradType, from, to),
                    largestParam(c, k.weightDecay != 0f, from, to));
            larsApply(c, k, from, to, factor);
        }
    }

    /**
     * Adam / AdamW with 8-bit block-quantized state ({@code Chunk.stateType} 2, see {@link BlockCodes}) over the
     * whole chunk, block by block, in one pass over the state: the block's new scales are bounds known before the
     * step ({@link #nextScales}, from its largest codes and its largest gradient), so each element is decoded,
     * updated ({@code ScalarKernels.adamRange}'s float operations; the update uses the new moments before they are
     * coded, as bitsandbytes' blockwise kernel does) and coded in one visit.
     */
    static void adamQuantized(Chunk c, AdamStep k) {
        final MemorySegment sm = c.scales[0], sr = c.scales[1];
        for (int b = 0, from = 0; from < c.length; b++, from += BlockCodes.BLOCK) {
            final int to = Math.min(c.length, from + BlockCodes.BLOCK);
            final float scaleM = sm.get(F, b * 4L), scaleR = sr.get(F, b * 4L);
            final long next = nextScales(k, scaleM, scaleR, largestSignedCode(c.state[0], from, to),
                    largestUnsignedCode(c.state[1], from, to), largestMagnitude(c.grads, c.gradType, from, to),
                    k.useL2 ? largestMagnitude(paramSource(c), paramSourceType(c), from, to) : 0f);
            final float newM = Float.intBitsToFloat((int) (next >>> 32)), newR = Float.intBitsToFloat((int) next);
            sm.set(F, b * 4L, newM);
            sr.set(F, b * 4L, newR);
            quantizedApply(c, k, from, to, scaleM, scaleR, BlockCodes.inverse(newM), BlockCodes.inverse(newR));
        }
    }

    /**
     * A block's new scales (exp_avg's bits in the high 32, the square root of exp_avg_sq's in the low), from its
     * old scales, its largest codes {@code codeM} (magnitude) and {@code codeR}, the largest {@code |gradient|}
     * {@code largestG} (before its scale) and, for Adam's L2 form, the largest {@code |parameter|} {@code largestP}:
     * {@link BlockCodes#nextScaleSigned} and {@link BlockCodes#nextScaleUnsigned} with the bound on the step's
     * {@code |g|} taken in double as {@code largestG * |gradScale| + l2 * largestP}. The largest decoded moment is
     * the largest code's value times the scale: a float product is monotone in its factor.
     */
    static long nextScales(AdamStep k, float scaleM, float scaleR, int codeM, int codeR, float largestG,
                           float largestP) {
        double g = largestG * (double) Math.abs(k.gradScale);
        if (k.useL2) {
            g += Math.abs(k.l2) * (double) largestP;
        }
        float newM = BlockCodes.nextScaleSigned(BlockCodes.decodeSigned(codeM) * scaleM, g, k.beta1,
                k.oneMinusBeta1);
        float newR = BlockCodes.nextScaleUnsigned(BlockCodes.decodeUnsigned(codeR) * scaleR, g, k.beta2,
                k.oneMinusBeta2);
        return ((long) Float.floatToRawIntBits(newM) << 32) | (Float.floatToRawIntBits(newR) & 0xFFFFFFFFL);
    }

    /** The largest magnitude code ({@code code & 0x7F}) among signed codes {@code [from, to)}. */
    static int largestSignedCode(MemorySegment codes, int from, int to) {
        int k = 0;
        for (int i = from; i < to; i++) {
            k = Math.max(k, codes.get(B, i) & 0x7F);
        }
        return k;
    }

    /** The largest of unsigned codes {@code [from, to)}. */
    static int largestUnsignedCode(MemorySegment codes, int from, int to) {
        int k = 0;
        for (int i = from; i < to; i++) {
            k = Math.max(k, codes.get(B, i) & 0xFF);
        }
        return k;
    }

    /**
     * The largest magnitude among elements {@code [from, to)} of {@code x} (storage type {@code type}), widened to
     * float; {@link Float#NaN} if one is NaN. Found on the magnitudes' bits: for each type the integer order of a magnitude's bits
     * is its order as a number, with a NaN above infinity.
     */
    static float largestMagnitude(MemorySegment x, int type, int from, int to) {
        int bits = 0;
        for (int i = from; i < to; i++) {
            bits = Math.max(bits, Float.floatToRawIntBits(load(x, type, i)) & 0x7FFFFFFF);
        }
        return bits > 0x7F800000 ? Float.NaN : Float.intBitsToFloat(bits); // one NaN, whichever the order
    }

    /** Where the step reads the parameters from: the float32 master copy where there is one. */
    static MemorySegment paramSource(Chunk c) {
        return c.paramType == 1 || c.paramType == 2 ? c.state[c.state.length - 1] : c.params;
    }

    /** The storage type of {@link #paramSource}: bfloat16 for stochastically rounded parameters, else float32. */
    static int paramSourceType(Chunk c) {
        return c.paramType == 3 ? 1 : 0;
    }

    /** The new exp_avg of element {@code i}, given its (L2-adjusted, scaled) gradient. */
    private static float newM(MemorySegment ms, int i, float g, float scaleM, AdamStep k) {
        return Math.fma(BlockCodes.decodeSigned(ms.get(B, i)) * scaleM, k.beta1, g * k.oneMinusBeta1);
    }

    /** The new exp_avg_sq of element {@code i}. */
    private static float newV(MemorySegment rs, int i, float g, float scaleR, AdamStep k) {
        float r0 = BlockCodes.decodeUnsigned(rs.get(B, i)) * scaleR;
        return Math.fma(r0 * r0, k.beta2, (g * k.oneMinusBeta2) * g);
    }

    /** Element {@code i}'s parameter (the master copy where there is one) and gradient, scaled, L2 added. */
    static float param(Chunk c, int i) {
        final int pt = c.paramType;
        return pt == 3 ? BFloat16.widen(c.params.get(S, (long) i * Short.BYTES))
                : (pt == 0 ? c.params : c.state[c.state.length - 1]).get(F, (long) i * Float.BYTES);
    }

    static float grad(Chunk c, AdamStep k, int i, float p) {
        float g = load(c.grads, c.gradType, i) * k.gradScale;
        return k.useL2 ? Math.fma(p, k.l2, g) : g;
    }

    /**
     * The second pass over elements {@code [from, to)} of a block: the new moments again, the parameter updated and
     * stored, the moments coded against the block's new reciprocal scales {@code invM}, {@code invR}.
     */
    static void quantizedApply(Chunk c, AdamStep k, int from, int to, float scaleM, float scaleR, float invM,
                               float invR) {
        final MemorySegment ms = c.state[0], rs = c.state[1];
        final int key = k.roundingKey;
        for (int i = from; i < to; i++) {
            float p = param(c, i);
            float g = grad(c, k, i, p);
            float m = newM(ms, i, g, scaleM, k);
            float r = (float) Math.sqrt(newV(rs, i, g, scaleR, k));
            float pNew = Math.fma(m / Math.fma(r, k.invSqrtBc2, k.eps), k.negStepSize, p * k.decay);
            storeParam(c, key, i, pNew);
            ms.set(B, i, (byte) BlockCodes.encodeSigned(m * invM));
            rs.set(B, i, (byte) BlockCodes.encodeUnsigned(r * invR));
        }
    }

    // ---- 8-bit block-quantized state of the elementwise optimizers (Chunk.stateType 2): any list of variables, each
    // ---- coded as itself (signed code) or as its square root (unsigned code); the generated EightBit<Optimizer>Panama
    // ---- loops are bitwise these, element by element.

    /**
     * Element {@code i} of 8-bit state variable {@code j}, decoded against its block's scale before the step
     * ({@code c.blockScale[j]}): the signed code's value times the scale, or for a variable coded as its square root
     * that value squared (the float operations of the vector loops' decode).
     */
    static float decoded(Chunk c, int j, int i) {
        int code = c.state[j].get(B, i);
        if (c.root[j]) {
            float r = BlockCodes.decodeUnsigned(code) * c.blockScale[j];
            return r * r;
        }
        return BlockCodes.decodeSigned(code) * c.blockScale[j];
    }

    /**
     * The code of new value {@code value} of 8-bit state variable {@code j} against its block's new scale (times
     * the reciprocal {@code c.blockInverse[j]}): signed, or the unsigned code of its square root.
     */
    static byte coded(Chunk c, int j, float value) {
        return (byte) (c.root[j] ? BlockCodes.encodeUnsigned((float) Math.sqrt(value) * c.blockInverse[j])
                : BlockCodes.encodeSigned(value * c.blockInverse[j]));
    }

    /** The largest code of variable {@code j} among elements {@code [from, to)}: its magnitude code if signed. */
    static int largestCode(Chunk c, int j, int from, int to) {
        return c.root[j] ? largestUnsignedCode(c.state[j], from, to) : largestSignedCode(c.state[j], from, to);
    }

    /**
     * Block {@code b}'s largest decoded value of variable {@code j} before the step (its square root's, for a
     * variable coded so), from its largest code: the code's value times the scale (a float product is monotone in
     * its factor, so no element decodes above it).
     */
    static float largestDecoded(Chunk c, int j, int b, int code) {
        float scale = c.scales[j].get(F, b * 4L);
        return (c.root[j] ? BlockCodes.decodeUnsigned(code) : BlockCodes.decodeSigned(code)) * scale;
    }

    /**
     * Moves block {@code b} of variable {@code j} to its new scale {@code next}: the old one kept for the loads
     * ({@code c.blockScale[j]}), the new one stored and its reciprocal kept for the stores.
     */
    static void nextScale(Chunk c, int j, int b, float next) {
        c.blockScale[j] = c.scales[j].get(F, b * 4L);
        c.scales[j].set(F, b * 4L, next);
        c.blockInverse[j] = BlockCodes.inverse(next);
    }

    /**
     * A bound on a block's largest {@code |g|} as the step forms it: {@code largestG} (the largest stored
     * {@code |gradient|}) times {@code |gradScale|} (the clipping multiplier and the loss scale's reciprocal, with
     * maximize's sign), plus, where weight decay enters the gradient ({@code g + wd p}), {@code |wd|} times the
     * largest {@code |p|}, in double (the triangle inequality).
     */
    static double gradientBound(float gradScale, boolean l2, float wd, float largestG, float largestP) {
        double g = largestG * (double) Math.abs(gradScale);
        return l2 ? g + Math.abs(wd) * (double) largestP : g;
    }

    /**
     * SGD's block scale of {@code momentum_buffer}: {@code |momentum| * B + |1 - dampening| * G} (B the block's
     * largest decoded buffer, G {@link #gradientBound}), and {@code G} on the first step, where the buffer is the
     * gradient; in double, rounded to float.
     */
    static void sgdScales(Chunk c, SgdStep k, int b, int code, float largestG, float largestP) {
        double g = gradientBound(k.gradScale, k.useWeightDecay, k.weightDecay, largestG, largestP);
        nextScale(c, 0, b, k.firstStep ? (float) g
                : (float) (Math.abs(k.momentum) * (double) largestDecoded(c, 0, b, code) + Math.abs(k.oneMinusDampening) * g));
    }

    /** Lion's block scale of {@code exp_avg} (stored as {@code beta2 m + (1 - beta2) g}): {@code beta2 M + (1 - beta2) G}. */
    static void lionScales(Chunk c, LionStep k, int b, int code, float largestG, float largestP) {
        double g = gradientBound(k.gradScale, false, 0f, largestG, largestP);
        nextScale(c, 0, b, BlockCodes.nextScaleSigned(largestDecoded(c, 0, b, code), g, k.beta2, k.oneMinusBeta2));
    }

    /**
     * RMSprop's block scales (no momentum): {@code square_avg} coded as its square root,
     * {@code sqrt(alpha R^2 + (1 - alpha) G^2)}; centered, {@code grad_avg} as itself, {@code alpha A + (1 - alpha) G}.
     */
    static void rmspropScales(Chunk c, RmspropStep k, int b, int codeSq, int codeGa, float largestG, float largestP) {
        double g = gradientBound(k.gradScale, k.useWeightDecay, k.weightDecay, largestG, largestP);
        nextScale(c, 0, b, BlockCodes.nextScaleUnsigned(largestDecoded(c, 0, b, codeSq), g, k.alpha, k.oneMinusAlpha));
        if (k.centered) {
            nextScale(c, k.gradAvg, b, BlockCodes.nextScaleSigned(largestDecoded(c, k.gradAvg, b, codeGa), g, k.alpha,
                    k.oneMinusAlpha));
        }
    }

    /** Adagrad's block scale of {@code sum}, coded as its square root: {@code sqrt(R^2 + G^2)}. */
    static void adagradScales(Chunk c, AdagradStep k, int b, int code, float largestG, float largestP) {
        double g = gradientBound(k.gradScale, k.useWeightDecay, k.weightDecay, largestG, largestP);
        nextScale(c, 0, b, BlockCodes.nextScaleUnsigned(largestDecoded(c, 0, b, code), g, 1f, 1f));
    }

    /**
     * NAdam's block scales, Adam's: {@code exp_avg} coded as itself, {@code beta1 M + (1 - beta1) G}, and
     * {@code exp_avg_sq} as its square root, {@code sqrt(beta2 R^2 + (1 - beta2) G^2)} (M and R the block's largest
     * decoded exp_avg and root of exp_avg_sq before the step, G {@link #gradientBound}: with the parameters where the
     * decay enters the gradient, {@code g + wd p}, and without them for decoupled decay, which scales p and not g).
     * By the triangle inequality {@code |beta1 m + (1 - beta1) g| <= beta1 M + (1 - beta1) G}, and since
     * {@code v <= R^2}, {@code g^2 <= G^2}, {@code beta2 v + (1 - beta2) g^2 <= beta2 R^2 + (1 - beta2) G^2}: no new
     * value exceeds its bound but by the float roundings of the step.
     */
    static void nadamScales(Chunk c, NAdamStep k, int b, int codeM, int codeV, float largestG, float largestP) {
        momentScales(c, b, codeM, codeV, gradientBound(k.gradScale, k.useL2, k.weightDecay, largestG, largestP),
                k.beta1, k.oneMinusBeta1, k.beta2, k.oneMinusBeta2);
    }

    /**
     * RAdam's block scales: its moments are NAdam's (and Adam's), so are the bounds ({@link #nadamScales}'s
     * derivation); the rectified and the momentum-only branch update the same moments, so both take them.
     */
    static void radamScales(Chunk c, RAdamStep k, int b, int codeM, int codeV, float largestG, float largestP) {
        momentScales(c, b, codeM, codeV, gradientBound(k.gradScale, k.useL2, k.weightDecay, largestG, largestP),
                k.beta1, k.oneMinusBeta1, k.beta2, k.oneMinusBeta2);
    }

    /** Adam's two bounds ({@link #nadamScales}' derivation) for state variables 0 (signed) and 1 (root), given G. */
    private static void momentScales(Chunk c, int b, int codeM, int codeV, double g, float beta1, float oneMinusBeta1,
                                     float beta2, float oneMinusBeta2) {
        nextScale(c, 0, b, BlockCodes.nextScaleSigned(largestDecoded(c, 0, b, codeM), g, beta1, oneMinusBeta1));
        nextScale(c, 1, b, BlockCodes.nextScaleUnsigned(largestDecoded(c, 1, b, codeV), g, beta2, oneMinusBeta2));
    }

    /**
     * Adamax's block scales: {@code exp_avg} coded as itself, Adam's {@code beta1 M + (1 - beta1) G}; {@code exp_inf}
     * as its square root, {@code sqrt(max(beta2 R^2, G + eps))} (R the block's largest decoded root of exp_inf before
     * the step, G {@link #gradientBound}, with {@code wd P}: Adamax's decay enters the gradient). Since
     * {@code u <= R^2} and {@code |g| <= G}, each new {@code u = max(beta2 u, |g| + eps)} is at most
     * {@code max(beta2 R^2, G + eps)}, and the square root is monotone; in double, rounded to float, so no new root
     * exceeds the scale but by the float roundings of the step ({@code beta2 u} and {@code |g| + eps}).
     */
    static void adamaxScales(Chunk c, AdamaxStep k, int b, int codeM, int codeU, float largestG, float largestP) {
        double g = gradientBound(k.gradScale, k.useWeightDecay, k.weightDecay, largestG, largestP);
        nextScale(c, 0, b, BlockCodes.nextScaleSigned(largestDecoded(c, 0, b, codeM), g, k.beta1, k.oneMinusBeta1));
        double r = largestDecoded(c, 1, b, codeU);
        nextScale(c, 1, b, (float) Math.sqrt(Math.max(k.beta2 * (r * r), g + k.eps)));
    }

    /**
     * Rprop's block scales: {@code prev}, the gradient times its scale or 0, coded as itself: {@code G}; and
     * {@code step_size} as its square root: {@code sqrt(min(max(S max(etaplus, 1), step_size_min), step_size_max))},
     * S the block's largest decoded step size before the step (its largest root squared) or the lr on the first
     * step, where the step sizes start at it. Each new step size is {@code clamp(s f)} with {@code s <= S} and f one
     * of etaminus, 1, etaplus, and the clamp is monotone; in double, rounded to float, so no new value exceeds its
     * bound but by the float roundings of the step (the decoded square and the product {@code s f}).
     */
    static void rpropScales(Chunk c, RpropStep k, int b, int codePrev, int codeSs, float largestG, float largestP) {
        double g = gradientBound(k.gradScale, false, 0f, largestG, largestP);
        nextScale(c, 0, b, (float) g);
        double r = largestDecoded(c, 1, b, codeSs);
        double s = (k.firstStep ? k.lr : r * r) * Math.max(k.etaPlus, 1f);
        nextScale(c, 1, b, (float) Math.sqrt(Math.min(Math.max(s, k.stepMin), k.stepMax)));
    }

    /**
     * The scalar loop of SGD with momentum or an elementwise optimizer ({@code step}) on a chunk with 8-bit state,
     * block by block: the block's new scales, bounds known before the step from its largest codes, its largest
     * {@code |gradient|} and, where the decay enters the gradient, its largest {@code |parameter|} (the optimizer's
     * {@code *Scales}); then the optimizer's {@code *Range} over the block, whose state accessors decode against the
     * old scales and code against the new ones, so each element is decoded, updated and coded in one visit (the update
     * uses the new state before it is coded). Each optimizer gives only those two; the type tests run once a block,
     * not once an element, and allocate nothing.
     */
    static void quantized(Chunk c, KeyedStep step) {
        for (int b = 0, from = 0; from < c.length; b++, from += BlockCodes.BLOCK) {
            final int to = Math.min(c.length, from + BlockCodes.BLOCK);
            final int code = largestCode(c, 0, from, to);
            final float g = largestMagnitude(c.grads, c.gradType, from, to);
            if (step instanceof SgdStep k) {
                sgdScales(c, k, b, code, g, largestParam(c, k.useWeightDecay, from, to));
                sgdRange(c, k, from, to);
            } else if (step instanceof LionStep k) {
                lionScales(c, k, b, code, g, 0f);
                lionRange(c, k, from, to);
            } else if (step instanceof RmspropStep k) {
                rmspropScales(c, k, b, code, k.centered ? largestCode(c, k.gradAvg, from, to) : 0, g,
                        largestParam(c, k.useWeightDecay, from, to));
                rmspropRange(c, k, from, to);
            } else if (step instanceof AdagradStep k) {
                adagradScales(c, k, b, code, g, largestParam(c, k.useWeightDecay, from, to));
                adagradRange(c, k, from, to);
            } else if (step instanceof NAdamStep k) {
                nadamScales(c, k, b, code, largestCode(c, 1, from, to), g, largestParam(c, k.useL2, from, to));
                nadamRange(c, k, from, to);
            } else if (step instanceof RAdamStep k) {
                radamScales(c, k, b, code, largestCode(c, 1, from, to), g, largestParam(c, k.useL2, from, to));
                radamRange(c, k, from, to);
            } else if (step instanceof AdamaxStep k) {
                adamaxScales(c, k, b, code, largestCode(c, 1, from, to), g,
                        largestParam(c, k.useWeightDecay, from, to));
                adamaxRange(c, k, from, to);
            } else if (step instanceof RpropStep k) {
                rpropScales(c, k, b, code, largestCode(c, 1, from, to), g, 0f);
                rpropRange(c, k, from, to);
            } else {
                throw new IllegalArgumentException("no 8-bit state loop for " + step);
            }
        }
    }

    /** Block {@code [from, to)}'s largest {@code |parameter|} where the bound takes it ({@code needed}), else 0. */
    static float largestParam(Chunk c, boolean needed, int from, int to) {
        return needed ? largestMagnitude(paramSource(c), paramSourceType(c), from, to) : 0f;
    }

    /**
     * {@code x} rounded to bfloat16 stochastically, as torchao's {@code _fp32_to_bf16_sr} does: toward zero, then
     * one unit away from zero when a 16-bit random number is below the 16 dropped bits, so the expected result is
     * {@code x} (the chance of rounding up is the dropped fraction). NaN becomes {@link BFloat16#NAN}, as in
     * {@link BFloat16#round}. The random number is the top 16 bits of {@code index * 0x9E3779B9 + key}: the step's
     * key (a strong hash of seed and step) makes it uniform over steps for every element, and a multiply-add is all
     * it costs per element (murmur3's finalizer, tried first, made the loops compute-bound). A step's result does
     * not depend on how the buffer is cut into chunks, on threads, or on heap or off-heap memory.
     */
    static short roundStochastically(float x, int key, int index) {
        int h = (index * 0x9E3779B9 + key) >>> 16;
        if (x != x) {
            return BFloat16.NAN;
        }
        int bits = Float.floatToRawIntBits(x);
        int r = (bits & 0xFFFF0000) + (h < (bits & 0xFFFF) ? 0x10000 : 0);
        return (short) (r >>> 16);
    }

    /**
     * The rounding key of step {@code t} for seed {@code seed}: both mixed into 32 bits (SplitMix64's finalizer), so
     * that consecutive steps and seeds draw unrelated numbers.
     */
    static int roundingKey(long seed, long t) {
        return mixKey(seed, t);
    }

    /** Fills {@code keys[j]} with the key of state variable j for step {@code t} (see {@link #stateKey}). */
    static void stateKeys(int[] keys, long seed, long t) {
        for (int j = 0; j < keys.length; j++) {
            keys[j] = stateKey(seed, t, j);
        }
    }

    /**
     * The rounding key of state variable {@code variable} (the index of its buffer, {@code c.state[variable]}: Adam's
     * 0 exp_avg, 1 exp_avg_sq, 2 max_exp_avg_sq; RMSprop's 0 square_avg, 1 momentum_buffer, 2 grad_avg) at step t; also
     * of schedule-free AdamW's parameter moves without a master copy (3 the switch to eval, 4 to train, {@code t} the
     * group's steps so far), so that a switch never draws a step's numbers.
     */
    static int stateKey(long seed, long t, int variable) {
        return mixKey(seed + 0x5851F42D4C957F2DL * (variable + 1), t);
    }

    private static int mixKey(long seed, long t) {
        long z = seed + t * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (int) (z ^ (z >>> 31));
    }

    /** Sum of squares of elements {@code [from, to)} of {@code x} stored as {@code type}, in double, in order. */
    static double sumOfSquaresRange(MemorySegment x, int type, int from, int to) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            double v = load(x, type, i);
            sum += v * v;
        }
        return sum;
    }

    /** Sum of squares of the elements {@code [0, length)} of {@code x} stored as {@code type}. */
    static double sumOfSquares(MemorySegment x, int type, int length) {
        return sumOfSquaresRange(x, type, 0, length);
    }

    static void widenRange(MemorySegment src, int type, MemorySegment dst, int from, int to) {
        for (int i = from; i < to; i++) {
            dst.set(F, (long) i * Float.BYTES, load(src, type, i));
        }
    }

    static void narrowRange(MemorySegment src, MemorySegment dst, int type, int from, int to) {
        for (int i = from; i < to; i++) {
            store(dst, type, i, src.get(F, (long) i * Float.BYTES));
        }
    }

    /**
     * The floats {@code [from, to)} of {@code src} into the bfloat16 {@code dst}, each rounded stochastically with
     * {@code key} and its buffer index {@code start + i} ({@link #roundStochastically}).
     */
    static void roundStochasticallyRange(MemorySegment src, MemorySegment dst, int key, long start, int from, int to) {
        for (int i = from; i < to; i++) {
            dst.set(S, (long) i * Short.BYTES, roundStochastically(src.get(F, (long) i * Float.BYTES), key,
                    (int) start + i));
        }
    }
}
