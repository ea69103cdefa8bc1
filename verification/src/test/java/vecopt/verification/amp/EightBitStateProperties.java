package vecopt.verification.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import vecopt.clip.NonFinite;
import vecopt.kernel.KernelProvider;
import vecopt.memory.BFloat16;
import vecopt.memory.Dtype;
import vecopt.memory.Float16;
import vecopt.memory.Storage;
import vecopt.optim.Adam;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.EightBitCode;
import vecopt.optim.Optimizer;
import vecopt.optim.ScheduleFreeAdamW;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.reference.BlockQuantization;
import vecopt.reference.DynamicMapQuantization;
import vecopt.reference.StochasticRounding;

/**
 * AdamW and Adam with 8-bit block-quantized state ({@code eightBitState(code, minSize)}: vecopt's float codes and
 * bitsandbytes' dynamic maps, {@link DynamicMapQuantization}), bit for bit, over trajectories:
 * the test keeps its own copy of the state as the reference's {@link BlockQuantization} codes and scales and, each
 * step and element, applies the kernels' float operations (those {@code AdamStep}'s Javadoc states, with the scalars
 * rounded to float) to the decoded moments ({@code v} = the decoded square root, squared), takes the new
 * parameter from the new float moments, and codes the new moments block by block (against bounds found before the
 * step in the float codes, {@link BlockQuantization#nextScaleOfExpAvg}; against their largest magnitude in
 * bitsandbytes' maps);
 * tensors below {@code minSize} keep float32 moments. The engine's parameters, and its state decoded by
 * {@code stateValues}, must equal the test's bit for bit after every step. The float operations themselves are held
 * to the double reference by {@code OptimizerVsReferenceProperties}; what this adds is the storage: codes, scales,
 * blocks counted from each tensor's start, blocks cut by the end of a tensor, chunks of the grid, several tensors in
 * one buffer, the size threshold, every parameter and gradient type, heap and off-heap, threads, SIMD and scalar.
 */
class EightBitStateProperties {
    static final int LANES = KernelProvider.kernels().lanes();

    record Case(List<Integer> lengths, int offset, int minSize, int paramMode, Dtype gradType, boolean decoupled,
                boolean clip, boolean offHeap, int threads, boolean vectorized, double lr, int steps, long seed,
                EightBitCode code) {
    }

    /** paramMode: 0 float32, 1 bfloat16 + master, 2 float16 + master, 3 bfloat16 with stochastic rounding. */
    private static Dtype paramType(int mode) {
        return switch (mode) {
            case 0 -> Dtype.FLOAT32;
            case 2 -> Dtype.FLOAT16;
            default -> Dtype.BFLOAT16;
        };
    }

    private static float narrow(Dtype t, float x) {
        return t == Dtype.BFLOAT16 ? BFloat16.widen(BFloat16.round(x))
                : t == Dtype.FLOAT16 ? Float16.widen(Float16.round(x)) : x;
    }

    @Property(tries = 60)
    void eachStepIsTheFloatFormulaOnTheDecodedStateCodedBlockByBlock(@ForAll("cases") Case k) {
        SplittableRandom rnd = new SplittableRandom(k.seed());
        int count = k.lengths().size();
        int[] at = new int[count];
        int total = k.offset();
        for (int j = 0; j < count; j++) {
            at[j] = total;
            total += k.lengths().get(j) + (j % 2); // adjacent tensors, and one element of gap after every other
        }
        total += 3;
        Dtype pt = paramType(k.paramMode());
        try (Arena arena = Arena.ofShared()) {
            Storage p = k.offHeap() ? Storage.allocate(arena, total, pt) : heap(total, pt);
            Storage g = k.offHeap() ? Storage.allocate(arena, total, k.gradType()) : heap(total, k.gradType());
            for (int i = 0; i < total; i++) {
                p.set(i, (float) rnd.nextDouble(-1, 1)); // rounded to the parameter type by the buffer
            }
            ParamSet.Builder sb = ParamSet.builder();
            for (int j = 0; j < count; j++) {
                sb.add("t" + j, p, g, at[j], k.lengths().get(j));
            }
            ParamSet set = sb.build();
            double b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = k.decoupled() ? 0.01 : 0.1;
            AdamOptions o = new AdamOptions(b1, b2, eps, wd, false, 1.0, false);
            double maxNorm = k.clip() ? 0.3 : 0;
            try (Optimizer<AdamOptions> opt = k.decoupled() ? configure(AdamW.builder(set), k, o, maxNorm).build()
                    : configure(Adam.builder(set), k, o, maxNorm).build()) {
                assertTrue(opt.eightBitState());
                // the test's state: codes and scales per tensor (or float moments below minSize), and the master
                float[][] master = new float[count][];
                Tensor8[] st = new Tensor8[count];
                for (int j = 0; j < count; j++) {
                    int n = k.lengths().get(j);
                    master[j] = p.toArray(at[j], n);
                    st[j] = new Tensor8(n, n >= k.minSize(), k.code() == EightBitCode.BITSANDBYTES_DYNAMIC);
                }
                for (int t = 1; t <= k.steps(); t++) {
                    for (int i = 0; i < total; i++) {
                        g.set(i, (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(-12, 2))));
                    }
                    StepReport rep = opt.step(k.lr());
                    float gs = (float) rep.clipCoef();
                    float fb1 = (float) b1, fc1 = (float) (1 - b1), fb2 = (float) b2, fc2 = (float) (1 - b2);
                    float invBc2 = (float) (1.0 / Math.sqrt(1.0 - Math.pow(b2, t)));
                    float negStep = (float) (-k.lr() / (1.0 - Math.pow(b1, t)));
                    float decay = k.decoupled() ? (float) (1.0 - k.lr() * wd) : 1f, feps = (float) eps;
                    float l2 = k.decoupled() ? 0f : (float) wd;
                    int key = StochasticRounding.key(k.seed(), t);
                    for (int j = 0; j < count; j++) {
                        int n = k.lengths().get(j);
                        Tensor8 s = st[j];
                        float[] m0 = s.m(), v0 = s.v();
                        float[] m1 = new float[n], r1 = new float[n], pNew = new float[n];
                        for (int i = 0; i < n; i++) {
                            float gi = g.get(at[j] + i) * gs;
                            float pi = master[j][i];
                            if (!k.decoupled()) {
                                gi = Math.fma(pi, l2, gi);
                            }
                            m1[i] = Math.fma(m0[i], fb1, gi * fc1);
                            float v = Math.fma(v0[i], fb2, (gi * fc2) * gi);
                            float denom = Math.fma((float) Math.sqrt(v), invBc2, feps);
                            pNew[i] = Math.fma(m1[i] / denom, negStep, pi * decay);
                            // the float codes keep sqrt(v); bitsandbytes' maps and float32 moments keep v itself
                            r1[i] = s.quantized && !s.dynamic ? (float) Math.sqrt(v) : v;
                        }
                        // the float codes' new scales are bounds from the block's largest decoded moments and its
                        // largest |g| (the gradient times its scale, plus l2 times the largest |p| for Adam's L2 form)
                        int blocks = (n + BlockQuantization.BLOCK - 1) / BlockQuantization.BLOCK;
                        float[] r0 = s.r();
                        float[] scaleM = new float[blocks], scaleR = new float[blocks];
                        for (int b = 0; b < blocks; b++) {
                            float maxM = 0f, maxR = 0f, maxG = 0f, maxP = 0f;
                            for (int i = b * BlockQuantization.BLOCK; i < Math.min(n, (b + 1) * BlockQuantization.BLOCK); i++) {
                                maxM = Math.max(maxM, Math.abs(m0[i]));
                                maxR = Math.max(maxR, r0[i]);
                                maxG = Math.max(maxG, Math.abs(g.get(at[j] + i)));
                                maxP = Math.max(maxP, Math.abs(master[j][i]));
                            }
                            double bound = maxG * (double) Math.abs(gs) + (k.decoupled() ? 0 : l2 * (double) maxP);
                            scaleM[b] = BlockQuantization.nextScaleOfExpAvg(maxM, bound, fb1, fc1);
                            scaleR[b] = BlockQuantization.nextScaleOfRoot(maxR, bound, fb2, fc2);
                            if (s.quantized && !s.dynamic) {
                                // the scales are bounds: each new moment is at most four float roundings (relative
                                // 2^-24 each: g times its scale, the L2 fma, the moment's fma and, for the root, the
                                // square and the square root, halved by the root) above the exact bound, which the
                                // scale rounds to within 2^-24; 2^-20 covers that, far below the codes' 1.75
                                for (int i = b * BlockQuantization.BLOCK; i < Math.min(n, (b + 1) * BlockQuantization.BLOCK); i++) {
                                    int ii = i, bb = b;
                                    assertTrue(Math.abs(m1[i]) <= scaleM[b] * (1 + 0x1p-20), () -> "exp_avg " + m1[ii]
                                            + " of element " + ii + " above its block's scale " + scaleM[bb] + ", " + k);
                                    assertTrue(r1[i] <= scaleR[b] * (1 + 0x1p-20), () -> "sqrt(exp_avg_sq) " + r1[ii]
                                            + " of element " + ii + " above its block's scale " + scaleR[bb] + ", " + k);
                                }
                            }
                        }
                        s.store(m1, r1, scaleM, scaleR);
                        String where = "tensor t" + j + " (" + n + " elements), step " + t + ", " + k;
                        float[] mE = opt.stateValues("t" + j, "exp_avg"), vE = opt.stateValues("t" + j, "exp_avg_sq");
                        float[] mX = s.m(), vX = s.v();
                        for (int i = 0; i < n; i++) {
                            float expectedP = k.paramMode() == 3
                                    ? BFloat16.widen((short) StochasticRounding.bfloat16(pNew[i],
                                    StochasticRounding.random(key, at[j] + i)))
                                    : narrow(pt, pNew[i]);
                            master[j][i] = k.paramMode() == 3 ? expectedP : pNew[i];
                            int ii = i;
                            assertEquals(Float.floatToRawIntBits(mX[i]), Float.floatToRawIntBits(mE[i]),
                                    () -> "exp_avg of element " + ii + " (expected " + mX[ii] + ", got " + mE[ii] + "), "
                                            + where);
                            assertEquals(Float.floatToRawIntBits(vX[i]), Float.floatToRawIntBits(vE[i]),
                                    () -> "exp_avg_sq of element " + ii + " (expected " + vX[ii] + ", got " + vE[ii]
                                            + "), " + where);
                            float got = p.get(at[j] + i);
                            assertEquals(Float.floatToRawIntBits(expectedP), Float.floatToRawIntBits(got),
                                    () -> "parameter " + ii + " (expected " + expectedP + ", got " + got + "), " + where);
                        }
                        if (k.paramMode() == 1 || k.paramMode() == 2) {
                            float[] x = opt.stateValues("t" + j, Optimizer.MASTER);
                            for (int i = 0; i < n; i++) {
                                assertEquals(Float.floatToRawIntBits(pNew[i]), Float.floatToRawIntBits(x[i]),
                                        "master of element " + i + ", " + where);
                            }
                        }
                    }
                }
            }
        }
    }

    private static <B extends Optimizer.Builder<AdamOptions, B>> B configure(B b, Case k, AdamOptions o,
                                                                            double maxNorm) {
        b = b.options(o).threads(k.threads()).vectorized(k.vectorized()).eightBitState(k.code(), k.minSize())
                .onNonFinite(NonFinite.PROCEED);
        b = k.clip() ? b.clipGradNorm(maxNorm) : b;
        return k.paramMode() == 3 ? b.stochasticRounding(k.seed()) : b;
    }

    /**
     * One tensor's state as the test keeps it: codes and scales (of m and sqrt(v) in the float codes, of m and v in
     * bitsandbytes' dynamic maps), or float moments (then {@code r} is v).
     */
    private static final class Tensor8 {
        final boolean quantized;
        final boolean dynamic;
        final byte[] mc, rc;
        final float[] ms, rs;
        float[] mf, vf;

        Tensor8(int n, boolean quantized, boolean dynamic) {
            this.quantized = quantized;
            this.dynamic = dynamic;
            int blocks = (n + BlockQuantization.BLOCK - 1) / BlockQuantization.BLOCK;
            mc = new byte[n];
            rc = new byte[n];
            ms = new float[blocks];
            rs = new float[blocks];
            mf = new float[n];
            vf = new float[n];
        }

        float[] m() {
            return !quantized ? mf.clone() : dynamic ? DynamicMapQuantization.dequantize(mc, ms, true)
                    : BlockQuantization.dequantize(mc, ms, true);
        }

        float[] v() {
            if (!quantized) {
                return vf.clone();
            }
            if (dynamic) {
                return DynamicMapQuantization.dequantize(rc, rs, false);
            }
            float[] r = BlockQuantization.dequantize(rc, rs, false);
            for (int i = 0; i < r.length; i++) {
                r[i] = r[i] * r[i];
            }
            return r;
        }

        /** The decoded square roots of exp_avg_sq of the float codes. */
        float[] r() {
            return quantized && !dynamic ? BlockQuantization.dequantize(rc, rs, false) : new float[mc.length];
        }

        /**
         * Stores the new moments: bitsandbytes' maps against the blocks' largest magnitudes, the float codes against
         * the given scales {@code scaleM}, {@code scaleR}.
         */
        void store(float[] m, float[] r, float[] scaleM, float[] scaleR) {
            if (quantized && dynamic) {
                DynamicMapQuantization.quantize(m, true, mc, ms);
                DynamicMapQuantization.quantize(r, false, rc, rs);
            } else if (quantized) {
                System.arraycopy(scaleM, 0, ms, 0, ms.length);
                System.arraycopy(scaleR, 0, rs, 0, rs.length);
                BlockQuantization.code(m, true, ms, mc);
                BlockQuantization.code(r, false, rs, rc);
            } else {
                mf = m;
                vf = r;
            }
        }
    }

    private static Storage heap(int n, Dtype t) {
        return t == Dtype.FLOAT32 ? Storage.of(new float[n]) : Storage.of(new short[n], t);
    }

    @Example
    void refusalsNameWhatIsNotSupported() {
        ParamSet set = ParamSet.builder().add("w", Storage.of(new float[8]), Storage.of(new float[8]), 0, 8).build();
        var e = assertThrows(IllegalArgumentException.class, () -> ScheduleFreeAdamW.builder(set).eightBitState().build());
        // Refused for a reason (z is an iterate on the weights' scale), not as "not done yet".
        assertTrue(e.getMessage().contains("eightBitState") && e.getMessage().contains("ScheduleFreeAdamW")
                && e.getMessage().contains("z is the iterate") && e.getMessage().contains("bfloat16State"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AdamW.builder(set)
                .options(new AdamOptions(0.9, 0.999, 1e-8, 0.01, true, 1.0, false)).eightBitState().build());
        assertTrue(e.getMessage().contains("AMSGrad") && e.getMessage().contains("default"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AdamW.builder(set).eightBitState().bfloat16State(1)
                .build());
        assertTrue(e.getMessage().contains("bfloat16State"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AdamW.builder(set).eightBitState(0));
        assertTrue(e.getMessage().contains("minSize") && e.getMessage().contains("0"), e.getMessage());
        try (AdamW opt = AdamW.builder(set).eightBitState(1).build()) {
            e = assertThrows(IllegalArgumentException.class, () -> opt.state("w", "exp_avg"));
            assertTrue(e.getMessage().contains("stateValues"), e.getMessage());
            // float32 state into 8-bit would quantize: refused (checkpoints and continueFrom of 8-bit state are
            // held bitwise in EightBitCheckpointTest)
            try (AdamW float32 = AdamW.builder(set).build()) {
                e = assertThrows(IllegalArgumentException.class, () -> opt.continueFrom(float32));
                assertTrue(e.getMessage().contains("8-bit") && e.getMessage().contains("quantize"), e.getMessage());
            }
        }
    }

    @Example
    void bitsandbytesDynamicMapsCarryOverToTheirOwnCodeOrDecoded() throws Exception {
        int n = 1000;
        Storage p = Storage.of(new float[n]), g = Storage.of(new float[n]);
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < n; i++) {
            p.set(i, (float) rnd.nextGaussian());
            g.set(i, (float) (rnd.nextGaussian() * 1e-3));
        }
        ParamSet set = ParamSet.builder().add("w", p, g, 0, n).build();
        java.nio.file.Path file = java.nio.file.Files.createTempDirectory("vecopt-bnb").resolve("c.safetensors");
        try (AdamW bnb = AdamW.builder(set).eightBitState(EightBitCode.BITSANDBYTES_DYNAMIC, 1).build();
             AdamW floatCodes = AdamW.builder(set).eightBitState(1).build();
             AdamW float32 = AdamW.builder(set).build();
             AdamW bnb2 = AdamW.builder(set).eightBitState(EightBitCode.BITSANDBYTES_DYNAMIC, 1).build()) {
            assertEquals(EightBitCode.BITSANDBYTES_DYNAMIC, bnb.eightBitCode());
            assertEquals(EightBitCode.FLOAT_CODES, floatCodes.eightBitCode());
            bnb.step(1e-3);
            bnb.step(1e-3);
            floatCodes.step(1e-3);
            // a file of the float codes must not be read into dynamic-map state as if its codes were that code's
            // (checkpoints of each code round-trip bitwise: EightBitCheckpointTest)
            vecopt.checkpoint.Checkpoint.save(file, floatCodes, 1);
            Exception e = assertThrows(vecopt.checkpoint.CheckpointException.class,
                    () -> vecopt.checkpoint.Checkpoint.load(file, bnb2));
            assertTrue(e.getMessage().contains("FLOAT_CODES") && e.getMessage().contains("BITSANDBYTES_DYNAMIC"),
                    e.getMessage());
            assertEquals(0, bnb2.steps(), "the refused load changed nothing");
            e = assertThrows(IllegalArgumentException.class, () -> bnb2.continueFrom(floatCodes));
            assertTrue(e.getMessage().contains("FLOAT_CODES") && e.getMessage().contains("BITSANDBYTES_DYNAMIC"),
                    e.getMessage());
            // into float32 state the codes are decoded: exactly the values the dynamic-map step works with
            float32.continueFrom(bnb);
            for (String v : new String[] {"exp_avg", "exp_avg_sq"}) {
                float[] want = bnb.stateValues("w", v), got = float32.stateValues("w", v);
                for (int i = 0; i < n; i++) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), v + " " + i);
                }
            }
        }
    }

    @Example
    void stateMemoryIsAboutTwoBytesPerParameter() {
        int n = 1 << 20;
        ParamSet set = ParamSet.builder().add("w", Storage.of(new float[n]), Storage.of(new float[n]), 0, n)
                .add("bias", Storage.of(new float[100]), Storage.of(new float[100]), 0, 100).build();
        try (AdamW fp32 = AdamW.builder(set).build(); AdamW q8 = AdamW.builder(set).eightBitState().build()) {
            assertEquals(8L * (n + 100), fp32.stateBytes());
            // 2 codes per element and 2 scales per block of 256 for w; 2 floats per element for the small bias
            assertEquals(2L * n + 2L * 4 * (n / 256) + 8L * 100, q8.stateBytes());
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Integer> length = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(0, 1, LANES - 1, LANES + 1, 255, 256, 257, 511, 513, 1000)),
                Tuple.of(2, Arbitraries.integers().between(0, 3000)),
                Tuple.of(1, Arbitraries.integers().between(65_500, 66_000))); // across chunks of the grid
        return Combinators.combine(
                Combinators.combine(length.list().ofMinSize(1).ofMaxSize(3), Arbitraries.integers().between(0, 9),
                        Arbitraries.of(1, 200, 600, 4096), Arbitraries.integers().between(0, 3),
                        Arbitraries.of(Dtype.FLOAT32, Dtype.BFLOAT16, Dtype.FLOAT16), Arbitraries.of(true, false),
                        Arbitraries.of(false, true)).as(Tuple::of),
                Arbitraries.of(false, true), Arbitraries.integers().between(1, 3), Arbitraries.of(true, true, false),
                Arbitraries.doubles().between(-4, -1).ofScale(3).map(x -> Math.pow(10, x)),
                Arbitraries.integers().between(1, 3), Arbitraries.longs(),
                Arbitraries.of(EightBitCode.FLOAT_CODES, EightBitCode.FLOAT_CODES, EightBitCode.BITSANDBYTES_DYNAMIC))
                .as((a, offHeap, threads, vec, lr, steps, seed, code) -> new Case(a.get1(), a.get2(), a.get3(),
                        a.get4(), a.get5(), a.get6(), a.get7(), offHeap, threads, vec, lr, steps, seed, code));
    }
}
