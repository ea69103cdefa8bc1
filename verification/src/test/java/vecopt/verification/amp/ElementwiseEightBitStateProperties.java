package vecopt.verification.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vecopt.verification.amp.MixedPrecisionProperties.assertBits;
import static vecopt.verification.amp.MixedPrecisionProperties.raw;
import static vecopt.verification.amp.MixedPrecisionProperties.storage;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
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
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.Adadelta;
import vecopt.optim.Adafactor;
import vecopt.optim.AdamaxOptions;
import vecopt.optim.Asgd;
import vecopt.optim.EightBitCode;
import vecopt.optim.LionOptions;
import vecopt.optim.NAdamOptions;
import vecopt.optim.Optimizer;
import vecopt.optim.RAdamOptions;
import vecopt.optim.Rmsprop;
import vecopt.optim.RmspropOptions;
import vecopt.optim.RpropOptions;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.reference.BlockQuantization;
import vecopt.verification.amp.MixedPrecisionProperties.Case;
import vecopt.verification.amp.MixedPrecisionProperties.Kind;

/**
 * 8-bit block-quantized state ({@code eightBitState(minSize)}) for the elementwise optimizers beyond Adam that take
 * it (SGD with momentum, Lion, RMSprop without momentum, Adagrad, NAdam, RAdam in both its branches, Adamax), bit for bit, over trajectories. The test keeps its
 * own copy of each tensor's state as the reference's {@link BlockQuantization} codes and block scales (float32
 * values below {@code minSize}); before each step a fresh float32-state twin over equal buffers takes the 8-bit
 * optimizer's state over, decoded ({@code continueFrom}), and both step. Then the parameters (and the master copy)
 * must be the twin's bit for bit (the update uses the new state as computed in float32, before it is coded), and each
 * state variable the twin's new values coded block by block against the scales the test derives from the bound
 * known before the step: the block's largest decoded values before it (of the square root, for a variable coded so)
 * and its largest {@code |g|} (the gradient times its scale, plus the weight decay times the largest {@code |p|}
 * where the decay enters the gradient), by each optimizer's formula ({@link #scale}). Every new value must lie within
 * its block's scale (the headroom check). The twin is the float32 optimizer, held to the reference elsewhere
 * ({@code OptimizerVsReferenceProperties}, {@link MixedPrecisionProperties}); what this adds is the storage: codes,
 * scales, the bound, blocks counted from each tensor's start and cut by its end, several tensors in one buffer, the
 * size threshold, every parameter and gradient type, heap and off-heap, 1 to 3 threads, SIMD and scalar.
 */
class ElementwiseEightBitStateProperties {
    static final int GUARD = MixedPrecisionProperties.GUARD;
    static final int LANES = MixedPrecisionProperties.LANES;
    /** The kinds that take 8-bit state (RMSprop with momentum is refused: {@link #refusalsNameTheVariant}). */
    static final List<Kind> KINDS = List.of(Kind.SGD_MOMENTUM, Kind.SGD_NESTEROV, Kind.SGD_DAMPENING, Kind.LION,
            Kind.RMSPROP, Kind.RMSPROP_CENTERED, Kind.ADAGRAD, Kind.NADAM, Kind.RADAM, Kind.ADAMAX, Kind.RPROP);

    /** A 16-bit property's case (kind, storage, options, threads...) over tensors of these lengths, 8-bit from minSize. */
    record Case8(Case k, List<Integer> lengths, int minSize) {
    }

    @Property(tries = 120)
    void eachStepIsTheFloat32StepOnTheDecodedStateCodedBlockByBlock(@ForAll("cases") Case8 c) {
        Case k = c.k();
        SplittableRandom rnd = new SplittableRandom(k.seed());
        int count = c.lengths().size();
        int[] at = new int[count];
        int total = k.offset();
        for (int j = 0; j < count; j++) {
            at[j] = total;
            total += c.lengths().get(j) + (j % 2); // adjacent tensors, and one element of gap after every other
        }
        total += GUARD;
        try (Arena arena = Arena.ofShared()) {
            Storage pa = storage(arena, k.offHeap(), k.paramType(), total), ga = storage(arena, k.offHeap(), k.gradType(), total);
            Storage pb = storage(arena, k.offHeap(), k.paramType(), total), gb = storage(arena, k.offHeap(), k.gradType(), total);
            for (int i = 0; i < total; i++) {
                pa.set(i, (float) (rnd.nextDouble(-1, 1) * Math.scalb(1.0, rnd.nextInt(-8, 3))));
                ga.set(i, -99f);
                gb.set(i, -99f);
            }
            ParamSet.Builder sa = ParamSet.builder(), sb = ParamSet.builder();
            for (int j = 0; j < count; j++) {
                sa.add("t" + j, pa, ga, at[j], c.lengths().get(j));
                sb.add("t" + j, pb, gb, at[j], c.lengths().get(j));
            }
            ParamSet set = sa.build(), twinSet = sb.build();
            try (Optimizer<?> a = MixedPrecisionProperties.build(set, k, k.threads(), k.vectorized(), null, c.minSize())) {
                assertTrue(a.eightBitState());
                List<String> vars = a.stateNames().stream().filter(n -> !n.equals(Optimizer.MASTER)).toList();
                State[][] own = new State[count][vars.size()];
                for (int j = 0; j < count; j++) {
                    for (int v = 0; v < vars.size(); v++) {
                        own[j][v] = State.initial(c.lengths().get(j), c.lengths().get(j) >= c.minSize(), root(vars.get(v)),
                                k.kind() == Kind.ADAGRAD ? 0.1f : 0f); // the initial_accumulator_value the case sets
                    }
                }
                for (int t = 1; t <= k.steps(); t++) {
                    for (int j = 0; j < count; j++) {
                        for (int i = at[j]; i < at[j] + c.lengths().get(j); i++) {
                            ga.set(i, (float) (rnd.nextGaussian() * Math.scalb(1.0, k.gradExp())));
                            gb.set(i, ga.get(i));
                        }
                    }
                    String where = c + ", step " + t;
                    float[][] pBefore = new float[count][];
                    for (int j = 0; j < count; j++) { // the parameters the step reads: the master where there is one
                        pBefore[j] = a.stateNames().contains(Optimizer.MASTER) ? a.stateValues("t" + j, Optimizer.MASTER)
                                : pa.toArray(at[j], c.lengths().get(j));
                        for (int v = 0; v < vars.size(); v++) {
                            assertBits(vars.get(v) + " of t" + j + " before the step", where, own[j][v].values(),
                                    a.stateValues("t" + j, vars.get(v)));
                        }
                    }
                    MemorySegment.copy(pa.segment(), 0, pb.segment(), 0, pa.segment().byteSize());
                    try (Optimizer<?> b = MixedPrecisionProperties.build(twinSet, k, 1, k.vectorized(), null)) {
                        b.continueFrom(a);
                        StepReport rep = a.step(k.lr());
                        float gs = (float) rep.clipCoef();
                        b.step(k.lr());
                        assertBits("params", where, raw(pb), raw(pa));
                        for (int j = 0; j < count; j++) {
                            String in = "tensor t" + j + " (" + c.lengths().get(j) + " elements), " + where;
                            if (a.stateNames().contains(Optimizer.MASTER)) {
                                assertBits(Optimizer.MASTER, in, b.stateValues("t" + j, Optimizer.MASTER),
                                        a.stateValues("t" + j, Optimizer.MASTER));
                            }
                            float[] g = ga.toArray(at[j], c.lengths().get(j));
                            for (int v = 0; v < vars.size(); v++) {
                                float[] next = b.stateValues("t" + j, vars.get(v));
                                own[j][v].step(next, g, pBefore[j], gs, k, vars.get(v), t, in);
                                assertBits(vars.get(v), in, own[j][v].values(), a.stateValues("t" + j, vars.get(v)));
                            }
                        }
                    }
                }
            }
        }
    }

    /** Whether the engine codes state variable {@code name} as its square root (non-negative: the unsigned code). */
    static boolean root(String name) {
        return name.equals("square_avg") || name.equals("sum") || name.equals("exp_avg_sq") || name.equals("exp_inf")
                || name.equals("step_size");
    }

    /**
     * The scale a block of variable {@code name} is coded against after the step, from its largest decoded value
     * {@code largest} before it (its square root's, for a root) and the bound {@code g} on its largest {@code |g|}:
     * the optimizer's own bound by the triangle inequality, in double, rounded to float, with the float scalars the
     * kernels take ({@code (float) beta2} and {@code (float) (1 - beta2)}, ...). SGD: {@code momentum * B +
     * (1 - dampening) * G}, and {@code G} on the first step (the buffer is the gradient); Lion: its stored
     * {@code beta2 m + (1 - beta2) g}; RMSprop: {@code sqrt(alpha R^2 + (1 - alpha) G^2)} for square_avg,
     * {@code alpha A + (1 - alpha) G} for grad_avg; Adagrad: {@code sqrt(R^2 + G^2)}; NAdam and RAdam, Adam's:
     * {@code beta1 M + (1 - beta1) G} for exp_avg, {@code sqrt(beta2 R^2 + (1 - beta2) G^2)} for exp_avg_sq; Adamax: Adam's for exp_avg and
     * {@code sqrt(max(beta2 R^2, G + eps))} for exp_inf (coded as its root: {@code u = max(beta2 u, |g| + eps)}).
     */
    static float scale(Kind kind, String name, int t, float largest, double g) {
        return switch (kind) {
            case SGD_MOMENTUM, SGD_NESTEROV, SGD_DAMPENING -> {
                double momentum = kind == Kind.SGD_DAMPENING ? 0.8 : 0.9, dampening = kind == Kind.SGD_DAMPENING ? 0.3 : 0;
                yield t == 1 ? (float) g : (float) ((double) (float) momentum * largest + (double) (float) (1 - dampening) * g);
            }
            case LION -> {
                double beta2 = LionOptions.DEFAULTS.beta2();
                yield BlockQuantization.nextScaleOfExpAvg(largest, g, (float) beta2, (float) (1 - beta2));
            }
            case RMSPROP, RMSPROP_CENTERED -> {
                double alpha = RmspropOptions.DEFAULTS.alpha();
                yield name.equals("square_avg") ? BlockQuantization.nextScaleOfRoot(largest, g, (float) alpha, (float) (1 - alpha))
                        : BlockQuantization.nextScaleOfExpAvg(largest, g, (float) alpha, (float) (1 - alpha));
            }
            case ADAGRAD -> BlockQuantization.nextScaleOfRoot(largest, g, 1f, 1f);
            case NADAM, RADAM -> {
                double beta1 = kind == Kind.NADAM ? NAdamOptions.DEFAULTS.beta1() : RAdamOptions.DEFAULTS.beta1();
                double beta2 = kind == Kind.NADAM ? NAdamOptions.DEFAULTS.beta2() : RAdamOptions.DEFAULTS.beta2();
                yield name.equals("exp_avg_sq") ? BlockQuantization.nextScaleOfRoot(largest, g, (float) beta2, (float) (1 - beta2))
                        : BlockQuantization.nextScaleOfExpAvg(largest, g, (float) beta1, (float) (1 - beta1));
            }
            case ADAMAX -> {
                AdamaxOptions o = AdamaxOptions.DEFAULTS;
                yield name.equals("exp_inf") ? (float) Math.sqrt(Math.max((float) o.beta2() * ((double) largest * largest),
                        g + (float) o.eps())) : BlockQuantization.nextScaleOfExpAvg(largest, g, (float) o.beta1(), (float) (1 - o.beta1()));
            }
            case RPROP -> throw new IllegalArgumentException("Rprop's scales take the case: rpropScale");
            default -> throw new IllegalArgumentException("no 8-bit state for " + kind);
        };
    }

    /**
     * Whether the weight decay enters the gradient (g + wd p): all but Lion, whose decay is decoupled, and NAdam's
     * and RAdam's variant (decoupled_weight_decay).
     */
    static boolean l2(Case k) {
        return k.kind() != Kind.LION && k.kind() != Kind.RPROP && !((k.kind() == Kind.NADAM || k.kind() == Kind.RADAM) && k.variant());
    }

    /**
     * Rprop's scales: prev (the scaled gradient or 0) {@code G}; step_size, coded as its root, {@code sqrt(min(max(S
     * etaplus, step_size_min), step_size_max))}, S its largest decoded value before the step ({@code largest}
     * squared) or the lr on the first step; the case's step sizes (the variant's lr / 2 and 1.5 lr) in float, as the
     * kernels take them.
     */
    static float rpropScale(Case k, String name, int t, float largest, double g) {
        if (name.equals("prev")) {
            return (float) g;
        }
        RpropOptions o = k.variant() ? RpropOptions.DEFAULTS.withStepSizes(k.lr() / 2, 1.5 * k.lr()) : RpropOptions.DEFAULTS;
        double s = (t == 1 ? (float) k.lr() : (double) largest * largest) * (float) o.etaPlus();
        return (float) Math.sqrt(Math.min(Math.max(s, (float) o.stepSizeMin()), (float) o.stepSizeMax()));
    }

    /** One variable of one tensor as the test keeps it: codes and block scales, or float32 values below minSize. */
    private static final class State {
        final boolean quantized;
        final boolean root;
        final byte[] codes;
        final float[] scales;
        float[] floats;

        private State(int n, boolean quantized, boolean root) {
            this.quantized = quantized;
            this.root = root;
            this.codes = new byte[n];
            this.scales = new float[(n + BlockQuantization.BLOCK - 1) / BlockQuantization.BLOCK];
            this.floats = new float[n];
        }

        /**
         * The state before the first step: every element {@code value}; coded, each block's scale the value (its
         * square root, for a root) and each element the value coded against it, as any later state is coded.
         */
        static State initial(int n, boolean quantized, boolean root, float value) {
            State s = new State(n, quantized, root);
            Arrays.fill(s.floats, value);
            if (quantized && value != 0f) {
                float x = root ? (float) Math.sqrt(value) : value;
                Arrays.fill(s.scales, Math.abs(x));
                float[] all = new float[n];
                Arrays.fill(all, x);
                BlockQuantization.code(all, !root, s.scales, s.codes);
            }
            return s;
        }

        /** The values the step decodes: code value times scale (squared for a root), or the floats. */
        float[] values() {
            if (!quantized) {
                return floats.clone();
            }
            float[] x = BlockQuantization.dequantize(codes, scales, !root);
            if (root) {
                for (int i = 0; i < x.length; i++) {
                    x[i] = x[i] * x[i];
                }
            }
            return x;
        }

        /**
         * Takes the twin's new values {@code next}: below minSize as they are; else each block's new scale from the
         * bound ({@link #scale}: its largest decoded value before the step, its largest {@code |g|} times
         * {@code |gs|} plus the decay times its largest {@code |p|}), every new value checked within it, and the
         * values coded against it.
         */
        void step(float[] next, float[] g, float[] p, float gs, Case k, String name, int t, String where) {
            if (!quantized) {
                floats = next;
                return;
            }
            float[] before = BlockQuantization.dequantize(codes, scales, !root); // roots themselves, not squared
            float[] coded = root ? new float[next.length] : next;
            for (int i = 0; i < next.length && root; i++) {
                coded[i] = (float) Math.sqrt(next[i]);
            }
            final int block = BlockQuantization.BLOCK;
            for (int b = 0; b < scales.length; b++) {
                float maxX = 0f, maxG = 0f, maxP = 0f;
                for (int i = b * block; i < Math.min(next.length, (b + 1) * block); i++) {
                    maxX = Math.max(maxX, Math.abs(before[i]));
                    maxG = Math.max(maxG, Math.abs(g[i]));
                    maxP = Math.max(maxP, Math.abs(p[i]));
                }
                double bound = maxG * (double) Math.abs(gs)
                        + (l2(k) && k.weightDecay() != 0 ? (double) Math.abs((float) k.weightDecay()) * maxP : 0);
                scales[b] = k.kind() == Kind.RPROP ? rpropScale(k, name, t, maxX, bound) : scale(k.kind(), name, t, maxX, bound);
                // the headroom: each new value is at most a few float roundings (relative 2^-24 each: g times its
                // scale, the decay's fma, the state's product and fma, for a root the square of the decoded root
                // and the square root, halved by the root) above the exact bound, which the scale rounds to within
                // 2^-24; 2^-20 covers them, far below the codes' 1.75 (signed) and 1.875 (unsigned)
                for (int i = b * block; i < Math.min(next.length, (b + 1) * block); i++) {
                    int ii = i, bb = b;
                    assertTrue(Math.abs(coded[i]) <= scales[b] * (1 + 0x1p-20), () -> name + (root ? " (root) " : " ")
                            + coded[ii] + " of element " + ii + " above its block's scale " + scales[bb] + ", " + where);
                }
            }
            BlockQuantization.code(coded, !root, scales, codes);
        }
    }

    @Example
    void refusalsNameTheVariant() {
        ParamSet set = ParamSet.builder().add("w", Storage.of(new float[8]), Storage.of(new float[8]), 0, 8).build();
        var e = assertThrows(IllegalArgumentException.class, () -> Rmsprop.builder(set)
                .options(RmspropOptions.DEFAULTS.withMomentum(0.9)).eightBitState().build());
        assertTrue(e.getMessage().contains("eightBitState: RMSprop with momentum") && e.getMessage().contains("0.9")
                && e.getMessage().contains("'default'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sgd.builder(set).eightBitState().build());
        assertTrue(e.getMessage().contains("eightBitState: SGD without momentum") && e.getMessage().contains("'default'"),
                e.getMessage());
        // the optimizers whose state has no useful bound known before the step say why
        e = assertThrows(IllegalArgumentException.class, () -> Adadelta.builder(set).eightBitState().build());
        assertTrue(e.getMessage().contains("eightBitState: Adadelta") && e.getMessage().contains("acc_delta")
                && e.getMessage().contains("sqrt(eps)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Asgd.builder(set).eightBitState().build());
        assertTrue(e.getMessage().contains("eightBitState: Asgd") && e.getMessage().contains("average of the parameters"),
                e.getMessage());
        // Adafactor keeps float32 or bfloat16 state (exp_avg, a 1-D exp_avg_sq), never 8-bit: the prefix says so
        e = assertThrows(IllegalArgumentException.class, () -> Adafactor.builder(set).eightBitState().build());
        assertTrue(e.getMessage().contains("eightBitState: Adafactor keeps float32 or bfloat16 state only: exp_avg")
                && e.getMessage().contains("sqrt(numel) * clip_threshold * lr"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sgd.builder(set).options(SgdOptions.MOMENTUM)
                .eightBitState(EightBitCode.BITSANDBYTES_DYNAMIC, 1).build());
        assertTrue(e.getMessage().contains("dynamic maps") && e.getMessage().contains("Sgd"), e.getMessage());
        // a group with momentum beside a refused one: the refused group is named
        e = assertThrows(IllegalArgumentException.class, () -> Sgd.builder(set).options(SgdOptions.MOMENTUM)
                .group("plain", SgdOptions.PLAIN, t -> true).eightBitState().build());
        assertTrue(e.getMessage().contains("'plain'"), e.getMessage());
    }

    @Example
    void stateMemoryIsAboutOneBytePerVariableAndParameter() {
        int n = 1 << 16;
        ParamSet set = ParamSet.builder().add("w", Storage.of(new float[n]), Storage.of(new float[n]), 0, n)
                .add("bias", Storage.of(new float[100]), Storage.of(new float[100]), 0, 100).build();
        try (Rmsprop q8 = Rmsprop.builder(set).options(RmspropOptions.DEFAULTS.withCentered(true)).eightBitState().build()) {
            // square_avg and grad_avg: a code per element and a scale per block of 256 each for w; floats for bias
            assertEquals(2L * n + 2L * 4 * (n / 256) + 2L * 4 * 100, q8.stateBytes());
        }
    }

    /**
     * The 16-bit property's cases (every storage mix, float32 too) of the kinds above, over one to three tensors of
     * lengths around the vector width, the block and the grid's chunks, with the threshold on either side of them.
     */
    @Provide
    Arbitrary<Case8> cases() {
        Arbitrary<Integer> length = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(0, 1, LANES - 1, LANES + 1, 255, 256, 257, 511, 513, 1000)),
                Tuple.of(2, Arbitraries.integers().between(0, 3000)),
                Tuple.of(1, Arbitraries.integers().between(65_500, 66_000))); // across chunks of the grid
        // each kind drawn uniformly (RAdam's rectified branch reading the old moment went unseen in two runs of 120
        // tries while the kind came from the seed: see MixedPrecisionProperties.cases)
        return Combinators.combine(MixedPrecisionProperties.cases(KINDS, true),
                length.list().ofMinSize(1).ofMaxSize(3), Arbitraries.of(1, 200, 600, 4096)).as(Case8::new);
    }
}
