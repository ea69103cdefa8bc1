package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.Adadelta;
import vecopt.optim.AdadeltaOptions;
import vecopt.optim.Adagrad;
import vecopt.optim.AdagradOptions;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Adamax;
import vecopt.optim.AdamaxOptions;
import vecopt.optim.Asgd;
import vecopt.optim.AsgdOptions;
import vecopt.optim.GroupOptions;
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.optim.Lars;
import vecopt.optim.LarsOptions;
import vecopt.optim.Lion;
import vecopt.optim.LionOptions;
import vecopt.optim.NAdam;
import vecopt.optim.NAdamOptions;
import vecopt.optim.Optimizer;
import vecopt.optim.RAdam;
import vecopt.optim.RAdamOptions;
import vecopt.optim.Rmsprop;
import vecopt.optim.RmspropOptions;
import vecopt.optim.Rprop;
import vecopt.optim.ScheduleFreeAdamW;
import vecopt.optim.ScheduleFreeAdamWOptions;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.param.ParamSet;

/**
 * {@link StepAllocationTest} for 16-bit parameters, gradients and state: a step allocates nothing. In a JVM of its
 * own (a third Surefire execution): run in the float32 test's JVM, the switches between these configurations and the
 * float32 ones left the float32 kernels boxing every vector (80 bytes per vector iteration, measured), the history a
 * training JVM, which runs one configuration, does not have. Each configuration runs once first, as there. The other
 * elementwise optimizers' generated loops ({@code MixedSgdPanama}, ...) and LAMB's and LARS's two passes are measured
 * too: each on bfloat16 gradients with float32 parameters, on bfloat16 parameters with a master copy, with stochastic
 * rounding, and with bfloat16 state on float32 and on bfloat16 storage; Adafactor on bfloat16 and float16 gradients
 * and on each of those storages.
 */
class SixteenBitAllocationTest {
    @BeforeAll
    static void everyConfigurationRunsFirst() {
        for (Dtype[] types : new Dtype[][] {{Dtype.FLOAT32, Dtype.BFLOAT16}, {Dtype.BFLOAT16, Dtype.BFLOAT16},
                {Dtype.FLOAT16, Dtype.FLOAT16}}) {
            run(types[0], types[1], false, false, false);
        }
        run(Dtype.BFLOAT16, Dtype.BFLOAT16, true, false, false);
        run(Dtype.BFLOAT16, Dtype.BFLOAT16, true, true, false);
        for (Other o : Other.values()) {
            for (Storage16 st : Storage16.values()) {
                run(o, st, false);
            }
        }
        for (Dtype g : new Dtype[] {Dtype.BFLOAT16, Dtype.FLOAT16}) {
            for (boolean beta1 : new boolean[] {false, true}) {
                adafactor(g, beta1, false);
            }
        }
        for (Storage16 st : Storage16.values()) {
            for (boolean beta1 : new boolean[] {false, true}) {
                adafactor(st.paramType, st.gradType, st.stochastic, st.bf16State, beta1, false);
            }
        }
    }

    /**
     * Adafactor on 16-bit gradients with float32 parameters (each pass widens a chunk's gradients first), the
     * shapes of {@code StepAllocationTest}'s Adafactor cases: a 37 x 111 matrix (9 groups of 4 rows and a row left
     * over, rows ending mid-vector) and a 1-D tensor of 515, with and without beta1; one thread, so that every pass
     * runs on the measured thread.
     */
    static void adafactor(Dtype gradType, boolean beta1, boolean measure) {
        adafactor(Dtype.FLOAT32, gradType, false, false, beta1, measure);
    }

    /**
     * As {@link #adafactor(Dtype, boolean, boolean)} on any storage: 16-bit parameters with a master copy (staged from
     * and rounded into after the apply) or rounded stochastically, bfloat16 state ({@code exp_avg}, the 1-D tensor's
     * {@code exp_avg_sq}: widened into scratch and rounded back).
     */
    static void adafactor(Dtype paramType, Dtype gradType, boolean stochastic, boolean bf16State, boolean beta1,
                          boolean measure) {
        int rows = 37, cols = 111, bias = 515, n = rows * cols + bias;
        try (Arena arena = Arena.ofShared()) {
            Storage p = Storage.allocate(arena, n, paramType), g = Storage.allocate(arena, n, gradType);
            p.copyFrom(Rig.values(new SplittableRandom(1), n, -2, 2), 0);
            g.copyFrom(Rig.values(new SplittableRandom(2), n, -6, 2), 0);
            ParamSet set = ParamSet.builder()
                    .add("w", p, g, 0, rows * cols, vecopt.param.Shape.of(rows, cols))
                    .add("b", p, g, rows * cols, bias)
                    .build();
            var b = vecopt.optim.Adafactor.builder(set)
                    .options(vecopt.optim.AdafactorOptions.DEFAULTS.withBeta1(beta1 ? 0.9 : null).withWeightDecay(0.01))
                    .clipGradNorm(1.0).threads(1);
            if (stochastic) {
                b = b.stochasticRounding(5);
            }
            if (bf16State) {
                b = b.bfloat16State(6);
            }
            try (vecopt.optim.Adafactor opt = b.build()) {
                if (measure) {
                    StepAllocationTest.warmThenMeasure(opt, null);
                } else {
                    StepAllocationTest.allocatedBySteps(opt, 1000);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Dtype.class, names = {"BFLOAT16", "FLOAT16"})
    void adafactorOnSixteenBitGradientsWithoutBeta1(Dtype gradType) {
        adafactor(gradType, false, true);
    }

    @ParameterizedTest
    @EnumSource(value = Dtype.class, names = {"BFLOAT16", "FLOAT16"})
    void adafactorOnSixteenBitGradientsWithBeta1(Dtype gradType) {
        adafactor(gradType, true, true);
    }

    @ParameterizedTest
    @EnumSource(Storage16.class)
    void adafactorOnSixteenBitStorageWithoutBeta1(Storage16 st) {
        adafactor(st.paramType, st.gradType, st.stochastic, st.bf16State, false, true);
    }

    @ParameterizedTest
    @EnumSource(Storage16.class)
    void adafactorOnSixteenBitStorageWithBeta1(Storage16 st) {
        adafactor(st.paramType, st.gradType, st.stochastic, st.bf16State, true, true);
    }

    /** The other elementwise optimizers, each in the variant with the most streams. */
    enum Other {
        SGD_MOMENTUM_NESTEROV_L2, ADAGRAD, RMSPROP_CENTERED_MOMENTUM, ADAMAX, NADAM, RADAM, ASGD, RPROP,
        ADADELTA_L2, LION_DECAY, SCHEDULE_FREE_DECAY, LAMB_DECAY, LARS_NESTEROV_DECAY
    }

    /**
     * Storage of the parameters, gradients and state: bf16 gradients, bf16 parameters + master, bf16 stochastic
     * rounding; bf16 state with float32 parameters and gradients, and with everything bf16.
     */
    enum Storage16 {
        BF16_GRADS(Dtype.FLOAT32, Dtype.BFLOAT16, false, false),
        BF16_PARAMS_MASTER(Dtype.BFLOAT16, Dtype.BFLOAT16, false, false),
        FP16_PARAMS_MASTER(Dtype.FLOAT16, Dtype.FLOAT16, false, false),
        BF16_STOCHASTIC(Dtype.BFLOAT16, Dtype.BFLOAT16, true, false),
        BF16_STATE(Dtype.FLOAT32, Dtype.FLOAT32, false, true),
        BF16_EVERYTHING(Dtype.BFLOAT16, Dtype.BFLOAT16, true, true);

        final Dtype paramType;
        final Dtype gradType;
        final boolean stochastic;
        final boolean bf16State;

        Storage16(Dtype paramType, Dtype gradType, boolean stochastic, boolean bf16State) {
            this.paramType = paramType;
            this.gradType = gradType;
            this.stochastic = stochastic;
            this.bf16State = bf16State;
        }
    }

    private static <O extends GroupOptions, B extends Optimizer.Builder<O, B>> B common(B b, Storage16 st) {
        b = b.clipGradNorm(1.0).threads(1);
        b = st.bf16State ? b.bfloat16State(11) : b;
        return st.stochastic ? b.stochasticRounding(7) : b;
    }

    private static Optimizer<?> build(Other o, ParamSet set, Storage16 st) {
        return switch (o) {
            case SGD_MOMENTUM_NESTEROV_L2 -> common(Sgd.builder(set).options(SgdOptions.MOMENTUM.withNesterov(true)
                    .withWeightDecay(1e-4)), st).build();
            case ADAGRAD -> common(Adagrad.builder(set).options(AdagradOptions.DEFAULTS.withWeightDecay(1e-4)), st)
                    .build();
            case RMSPROP_CENTERED_MOMENTUM -> common(Rmsprop.builder(set).options(RmspropOptions.DEFAULTS
                    .withCentered(true).withMomentum(0.9)), st).build();
            case ADAMAX -> common(Adamax.builder(set).options(AdamaxOptions.DEFAULTS), st).build();
            case NADAM -> common(NAdam.builder(set).options(NAdamOptions.DEFAULTS.withWeightDecay(0.01)), st).build();
            case RADAM -> common(RAdam.builder(set).options(RAdamOptions.DEFAULTS.withWeightDecay(0.01)), st).build();
            case ASGD -> common(Asgd.builder(set).options(AsgdOptions.DEFAULTS.withT0(10)), st).build();
            case RPROP -> common(Rprop.builder(set), st).build();
            case ADADELTA_L2 -> common(Adadelta.builder(set).options(AdadeltaOptions.DEFAULTS.withWeightDecay(1e-4)), st)
                    .build();
            case LION_DECAY -> common(Lion.builder(set).options(LionOptions.DEFAULTS.withWeightDecay(0.1)), st).build();
            case SCHEDULE_FREE_DECAY -> {
                ScheduleFreeAdamW opt = common(ScheduleFreeAdamW.builder(set).options(ScheduleFreeAdamWOptions.DEFAULTS
                        .withWeightDecay(0.01).withWarmupSteps(100)), st).build();
                opt.train(); // it steps in train mode only
                yield opt;
            }
            case LAMB_DECAY -> common(Lamb.builder(set).options(LambOptions.DEFAULTS.withWeightDecay(0.01)), st).build();
            case LARS_NESTEROV_DECAY -> common(Lars.builder(set).options(LarsOptions.DEFAULTS.withMomentum(0.9)
                    .withNesterov(true).withWeightDecay(1e-4)), st).build();
        };
    }

    /** {@code o} on storage {@code st}, filled as {@link #run(Dtype, Dtype, boolean, UnaryOperator, boolean)} fills. */
    private static void run(Other o, Storage16 st, boolean measure) {
        run(st.paramType, st.gradType, set -> build(o, set, st), measure);
    }

    private static void run(Dtype paramType, Dtype gradType, boolean stochastic, boolean bf16State, boolean measure) {
        run(paramType, gradType, stochastic, bf16State ? b -> b.bfloat16State(3) : b -> b, measure);
    }

    /**
     * AdamW on 16-bit storage, {@code n} elements filled from fixed seeds, with the state option {@code state} adds:
     * warm, then measured when asked. 4,099 elements: with 8-bit state, 16 whole blocks and a block of 3.
     */
    static void run(Dtype paramType, Dtype gradType, boolean stochastic, UnaryOperator<AdamW.Builder> state,
                    boolean measure) {
        run(paramType, gradType, set -> {
            AdamW.Builder b = AdamW.builder(set).options(AdamOptions.ADAMW_DEFAULTS).clipGradNorm(1.0).threads(1);
            b = state.apply(b);
            return (stochastic ? b.stochasticRounding(7) : b).build();
        }, measure);
    }

    /** The optimizer {@code build} makes on 16-bit storage, {@code n} elements from fixed seeds: warm, then measured. */
    static void run(Dtype paramType, Dtype gradType, Function<ParamSet, Optimizer<?>> build, boolean measure) {
        final int n = 4099;
        try (Arena arena = Arena.ofShared()) {
            Storage p = Storage.allocate(arena, n, paramType), g = Storage.allocate(arena, n, gradType);
            p.copyFrom(Rig.values(new SplittableRandom(1), n, -2, 2), 0);
            g.copyFrom(Rig.values(new SplittableRandom(2), n, -6, 2), 0);
            ParamSet set = ParamSet.builder().add("w", p, g, 0, n).build();
            try (Optimizer<?> opt = build.apply(set)) {
                if (measure) {
                    StepAllocationTest.warmThenMeasure(opt, null);
                } else {
                    StepAllocationTest.allocatedBySteps(opt, 1000);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Other.class)
    void otherOptimizersOnBFloat16GradientsWithFloat32Parameters(Other o) {
        run(o, Storage16.BF16_GRADS, true);
    }

    @ParameterizedTest
    @EnumSource(Other.class)
    void otherOptimizersOnBFloat16ParametersWithAMasterCopy(Other o) {
        run(o, Storage16.BF16_PARAMS_MASTER, true);
    }

    @ParameterizedTest
    @EnumSource(Other.class)
    void otherOptimizersOnBFloat16ParametersWithStochasticRounding(Other o) {
        run(o, Storage16.BF16_STOCHASTIC, true);
    }

    @ParameterizedTest
    @EnumSource(Other.class)
    void otherOptimizersWithBFloat16StateOnFloat32Storage(Other o) {
        run(o, Storage16.BF16_STATE, true);
    }

    @ParameterizedTest
    @EnumSource(Other.class)
    void otherOptimizersWithBFloat16StateOnBFloat16Storage(Other o) {
        run(o, Storage16.BF16_EVERYTHING, true);
    }

    /**
     * Schedule-free AdamW's eval() and train() switches on 16-bit storage (the generated switch loops) allocate
     * nothing either: after the steps, rounds of 200 eval()/train() pairs until one allocates nothing, bounded by
     * 120 s, as {@code StepAllocationTest.scheduleFreeAdamWAndItsSwitch} holds the float32 ones.
     */
    @ParameterizedTest
    @EnumSource(Storage16.class)
    void scheduleFreeSwitchOnSixteenBitStorage(Storage16 st) {
        run(st.paramType, st.gradType, set -> {
            ScheduleFreeAdamW opt = (ScheduleFreeAdamW) build(Other.SCHEDULE_FREE_DECAY, set, st);
            StepAllocationTest.allocatedBySteps(opt, 100); // a z to move to
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long tid = Thread.currentThread().threadId();
            for (int i = 0; i < 2000; i++) { // warm-up of the switch's loops
                opt.eval();
                opt.train();
            }
            long deadline = System.nanoTime() + 120_000_000_000L, bytes;
            do {
                long before = threads.getThreadAllocatedBytes(tid);
                for (int i = 0; i < 200; i++) {
                    opt.eval();
                    opt.train();
                }
                bytes = threads.getThreadAllocatedBytes(tid) - before;
            } while (bytes != 0 && System.nanoTime() < deadline);
            assertEquals(0, bytes, "bytes allocated by the last round of 200 eval()/train() pairs, " + st);
            return opt;
        }, false);
    }

    @Test
    void adamWOnBFloat16GradientsWithFloat32Parameters() {
        run(Dtype.FLOAT32, Dtype.BFLOAT16, false, false, true);
    }

    @Test
    void adamWOnBFloat16ParametersWithAMasterCopy() {
        run(Dtype.BFLOAT16, Dtype.BFLOAT16, false, false, true);
    }

    @Test
    void adamWOnFloat16ParametersWithAMasterCopy() {
        run(Dtype.FLOAT16, Dtype.FLOAT16, false, false, true);
    }

    @Test
    void adamWOnBFloat16ParametersWithStochasticRounding() {
        run(Dtype.BFLOAT16, Dtype.BFLOAT16, true, false, true);
    }

    @Test
    void adamWWithBFloat16StateOnBFloat16Parameters() {
        run(Dtype.BFLOAT16, Dtype.BFLOAT16, true, true, true);
    }
}
