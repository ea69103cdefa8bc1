package vecopt.verification;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.param.ParamSet;

/**
 * {@link StepAllocationTest} for 16-bit parameters, gradients and state: a step allocates nothing. In a JVM of its
 * own (a third Surefire execution): run in the float32 test's JVM, the switches between these configurations and the
 * float32 ones left the float32 kernels boxing every vector (80 bytes per vector iteration, measured), the history a
 * training JVM, which runs one configuration, does not have. Each configuration runs once first, as there.
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
        final int n = 4099;
        try (Arena arena = Arena.ofShared()) {
            Storage p = Storage.allocate(arena, n, paramType), g = Storage.allocate(arena, n, gradType);
            p.copyFrom(Rig.values(new SplittableRandom(1), n, -2, 2), 0);
            g.copyFrom(Rig.values(new SplittableRandom(2), n, -6, 2), 0);
            ParamSet set = ParamSet.builder().add("w", p, g, 0, n).build();
            AdamW.Builder b = AdamW.builder(set).options(AdamOptions.ADAMW_DEFAULTS).clipGradNorm(1.0).threads(1);
            b = state.apply(b);
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
