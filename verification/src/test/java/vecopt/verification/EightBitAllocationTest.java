package vecopt.verification;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import vecopt.memory.Dtype;
import vecopt.optim.Adagrad;
import vecopt.optim.AdagradOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Adamax;
import vecopt.optim.AdamaxOptions;
import vecopt.optim.EightBitCode;
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
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;

/**
 * {@link StepAllocationTest} for 8-bit block-quantized state: a step allocates nothing. In a JVM of its own (a fourth
 * Surefire execution), for the reason {@link SixteenBitAllocationTest} gives: in a JVM that had run the 16-bit loops
 * first, the 8-bit loops boxed their vectors (61 MB per 500 steps of 4,099 elements, measured), which a training JVM,
 * running one configuration, does not see; run alone, each reaches zero. Each configuration runs once first. AdamW,
 * and the other optimizers that take 8-bit state (SGD with momentum, Lion, RMSprop, Adagrad, NAdam, RAdam, Adamax,
 * Rprop, LAMB, LARS), the others on the scalar kernels too (their one 8-bit block driver, {@code MixedScalar.quantized},
 * and LAMB's and LARS's).
 */
class EightBitAllocationTest {
    @BeforeAll
    static void everyConfigurationRunsFirst() {
        run(Dtype.FLOAT32, Dtype.FLOAT32, false, false);
        run(Dtype.BFLOAT16, Dtype.BFLOAT16, false, false);
        run(Dtype.BFLOAT16, Dtype.BFLOAT16, true, false);
        SixteenBitAllocationTest.run(Dtype.FLOAT32, Dtype.FLOAT32, false, DYNAMIC, false);
        for (Other o : Other.values()) {
            for (int storage = 0; storage < 3; storage++) {
                run(o, storage, false);
            }
            run(o, 0, false, false);
        }
    }

    /**
     * The other optimizers that take 8-bit state ({@code EightBitSgdPanama}, ...), each in the variant with the most
     * streams and the bound's weight-decay term.
     */
    enum Other {
        SGD_MOMENTUM_NESTEROV_L2, LION_DECAY, RMSPROP_CENTERED_L2, ADAGRAD_L2, NADAM_L2, RADAM_L2, ADAMAX_L2, RPROP,
        LAMB_DECAY, LARS_NESTEROV_DECAY
    }

    /**
     * {@code o} with 8-bit state on float32 storage (0), bfloat16 parameters with a master copy (1) or with
     * stochastic rounding (2), bfloat16 gradients for both: warm, then measured when asked.
     */
    private static void run(Other o, int storage, boolean measure) {
        run(o, storage, true, measure);
    }

    /** As above, on the SIMD kernels ({@code vectorized}) or the scalar ones (one block driver for them all). */
    private static void run(Other o, int storage, boolean vectorized, boolean measure) {
        Dtype p = storage == 0 ? Dtype.FLOAT32 : Dtype.BFLOAT16;
        SixteenBitAllocationTest.run(p, p, set -> {
            Optimizer<?> opt = switch (o) {
                case SGD_MOMENTUM_NESTEROV_L2 -> common(Sgd.builder(set).options(SgdOptions.MOMENTUM.withNesterov(true)
                        .withWeightDecay(1e-4)), storage, vectorized).build();
                case LION_DECAY -> common(Lion.builder(set).options(LionOptions.DEFAULTS.withWeightDecay(0.1)), storage,
                        vectorized).build();
                case RMSPROP_CENTERED_L2 -> common(Rmsprop.builder(set).options(RmspropOptions.DEFAULTS.withCentered(true)
                        .withWeightDecay(1e-4)), storage, vectorized).build();
                case ADAGRAD_L2 -> common(Adagrad.builder(set).options(AdagradOptions.DEFAULTS.withWeightDecay(1e-4)
                        .withInitialAccumulatorValue(0.1)), storage, vectorized).build();
                case NADAM_L2 -> common(NAdam.builder(set).options(NAdamOptions.DEFAULTS.withWeightDecay(1e-4)), storage,
                        vectorized).build();
                case RADAM_L2 -> common(RAdam.builder(set).options(RAdamOptions.DEFAULTS.withWeightDecay(1e-4)), storage,
                        vectorized).build();
                case ADAMAX_L2 -> common(Adamax.builder(set).options(AdamaxOptions.DEFAULTS.withWeightDecay(1e-4)),
                        storage, vectorized).build();
                case LAMB_DECAY -> common(Lamb.builder(set).options(LambOptions.DEFAULTS.withWeightDecay(0.01)), storage,
                        vectorized).build();
                case LARS_NESTEROV_DECAY -> common(Lars.builder(set).options(LarsOptions.DEFAULTS.withMomentum(0.9)
                        .withNesterov(true).withWeightDecay(1e-4)), storage, vectorized).build();
                case RPROP -> common(Rprop.builder(set), storage, vectorized).build();
            };
            return opt;
        }, measure);
    }

    private static <O extends GroupOptions, B extends Optimizer.Builder<O, B>> B common(B b, int storage,
                                                                                      boolean vectorized) {
        b = b.clipGradNorm(1.0).threads(1).vectorized(vectorized).eightBitState();
        return storage == 2 ? b.stochasticRounding(7) : b;
    }

    @ParameterizedTest
    @EnumSource(Other.class)
    void otherOptimizersWithEightBitState(Other o) {
        run(o, 0, true);
    }

    @ParameterizedTest
    @EnumSource(Other.class)
    void otherOptimizersWithEightBitStateOnTheScalarKernels(Other o) {
        run(o, 0, false, true);
    }

    @ParameterizedTest
    @EnumSource(Other.class)
    void otherOptimizersWithEightBitStateOnBFloat16ParametersWithAMasterCopy(Other o) {
        run(o, 1, true);
    }

    @ParameterizedTest
    @EnumSource(Other.class)
    void otherOptimizersWithEightBitStateOnBFloat16ParametersWithStochasticRounding(Other o) {
        run(o, 2, true);
    }

    /** bitsandbytes' dynamic maps (scalar loops). */
    private static final java.util.function.UnaryOperator<AdamW.Builder> DYNAMIC =
            b -> b.eightBitState(EightBitCode.BITSANDBYTES_DYNAMIC, 4096);

    /** AdamW with 8-bit state on {@link SixteenBitAllocationTest}'s buffers: warm, then measured when asked. */
    private static void run(Dtype paramType, Dtype gradType, boolean stochastic, boolean measure) {
        SixteenBitAllocationTest.run(paramType, gradType, stochastic, AdamW.Builder::eightBitState, measure);
    }

    @Test
    void adamWWithEightBitState() {
        run(Dtype.FLOAT32, Dtype.FLOAT32, false, true);
    }

    @Test
    void adamWWithEightBitStateOnBFloat16ParametersWithAMasterCopy() {
        run(Dtype.BFLOAT16, Dtype.BFLOAT16, false, true);
    }

    @Test
    void adamWWithEightBitStateOnBFloat16ParametersWithStochasticRounding() {
        run(Dtype.BFLOAT16, Dtype.BFLOAT16, true, true);
    }

    @Test
    void adamWWithEightBitStateInBitsandbytesDynamicMaps() {
        SixteenBitAllocationTest.run(Dtype.FLOAT32, Dtype.FLOAT32, false, DYNAMIC, true);
    }
}
