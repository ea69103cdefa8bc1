package vecopt.verification;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import vecopt.memory.Dtype;
import vecopt.optim.AdamW;
import vecopt.optim.EightBitCode;

/**
 * {@link StepAllocationTest} for 8-bit block-quantized state: a step allocates nothing. In a JVM of its own (a fourth
 * Surefire execution), for the reason {@link SixteenBitAllocationTest} gives: in a JVM that had run the 16-bit loops
 * first, the 8-bit loops boxed their vectors (61 MB per 500 steps of 4,099 elements, measured), which a training JVM,
 * running one configuration, does not see; run alone, each reaches zero. Each configuration runs once first.
 */
class EightBitAllocationTest {
    @BeforeAll
    static void everyConfigurationRunsFirst() {
        run(Dtype.FLOAT32, Dtype.FLOAT32, false, false);
        run(Dtype.BFLOAT16, Dtype.BFLOAT16, false, false);
        run(Dtype.BFLOAT16, Dtype.BFLOAT16, true, false);
        SixteenBitAllocationTest.run(Dtype.FLOAT32, Dtype.FLOAT32, false, DYNAMIC, false);
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
