package vecopt.verification;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.param.ParamSet;

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
    }

    /**
     * AdamW with 8-bit state, 4,099 elements (16 whole blocks and a block of 3) filled from fixed seeds: warm, then
     * measured when asked.
     */
    private static void run(Dtype paramType, Dtype gradType, boolean stochastic, boolean measure) {
        final int n = 4099;
        try (Arena arena = Arena.ofShared()) {
            Storage p = Storage.allocate(arena, n, paramType), g = Storage.allocate(arena, n, gradType);
            p.copyFrom(Rig.values(new SplittableRandom(1), n, -2, 2), 0);
            g.copyFrom(Rig.values(new SplittableRandom(2), n, -6, 2), 0);
            ParamSet set = ParamSet.builder().add("w", p, g, 0, n).build();
            AdamW.Builder b = AdamW.builder(set).options(AdamOptions.ADAMW_DEFAULTS).clipGradNorm(1.0).threads(1)
                    .eightBitState();
            try (AdamW opt = (stochastic ? b.stochasticRounding(7) : b).build()) {
                if (measure) {
                    StepAllocationTest.warmThenMeasure(opt, null);
                } else {
                    StepAllocationTest.allocatedBySteps(opt, 1000);
                }
            }
        }
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
}
