package vecopt.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import vecopt.memory.BFloat16;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;
import vecopt.schedule.Schedule;
import vecopt.schedule.Schedules;

/**
 * The bf16 emulation at the bridge ({@link Precision}): vecopt reads PyTorch's gradients rounded to bfloat16 and
 * stores bfloat16 parameters that PyTorch's float32 memory then holds exactly. Held to vecopt's own step over
 * bfloat16 heap buffers filled by hand with {@link BFloat16#round} of PyTorch's values: bit for bit, parameters,
 * state and gradient norm.
 */
class PrecisionBridgeTest {
    private static final AdamOptions DECAY = AdamOptions.ADAMW_DEFAULTS.withWeightDecay(0.1);
    private static final Schedule SCHEDULE = Schedules.warmupCosine(3e-2, 3e-3, 2, 10);

    private static Function<ParamSet, Optimizer<?>> adamW(Function<AdamW.Builder, AdamW.Builder> mix) {
        return set -> mix.apply(AdamW.builder(set).options(DECAY)
                .group("no_decay", DECAY.withWeightDecay(0), t -> t.name().endsWith("_bias")).threads(1)).build();
    }

    @Test
    void stochasticBf16ParametersAndGradientsAreVecoptsOwnBf16StepBitForBit() {
        sameAsOwnBf16Step(Precision.BFLOAT16, adamW(b -> b.stochasticRounding(42)));
    }

    @Test
    void bf16ParametersWithMasterAreVecoptsOwnBf16StepBitForBit() {
        sameAsOwnBf16Step(Precision.BFLOAT16, adamW(b -> b));
    }

    @Test
    void allBf16IsVecoptsOwnBf16StepBitForBit() {
        sameAsOwnBf16Step(Precision.BFLOAT16, adamW(b -> b.stochasticRounding(42).bfloat16State(7)));
    }

    @Test
    void bf16GradientsAloneAreVecoptsOwnStepBitForBit() {
        sameAsOwnBf16Step(Precision.BFLOAT16_GRADIENTS, adamW(b -> b));
    }

    /**
     * Five steps through the bridge against vecopt alone over heap buffers of the precision's types, whose
     * gradients are PyTorch's rounded by hand; at bind, the bridge rounds PyTorch's initial float32 values to
     * bfloat16 (the copy starts from those rounded by hand). After every step PyTorch's float32 memory holds
     * exactly the bfloat16 parameters widened, and those are vecopt-alone's bit for bit; so are the state
     * variables (the master copy too) and the gradient norm.
     */
    private static void sameAsOwnBf16Step(Precision precision, Function<ParamSet, Optimizer<?>> build) {
        boolean bf16Params = precision.parameters() == Dtype.BFLOAT16;
        try (Tiny tiny = new Tiny(6, null);
             VecoptStep step = VecoptStep.builder(tiny.trainer).precision(precision).optimizer(build)
                     .schedule(SCHEDULE).build()) {
            tiny.trainBatch();
            Map<String, float[]> start = tiny.values();
            List<Storage> ps = new ArrayList<>(), gs = new ArrayList<>();
            ParamSet.Builder set = ParamSet.builder();
            for (Map.Entry<String, float[]> e : start.entrySet()) {
                float[] v = e.getValue();
                Storage p = bf16Params ? Storage.of(bf16(v), Dtype.BFLOAT16) : Storage.of(v.clone());
                Storage g = Storage.of(new short[v.length], Dtype.BFLOAT16);
                ps.add(p);
                gs.add(g);
                set.add(e.getKey(), p, g, 0, v.length);
            }
            try (Optimizer<?> alone = build.apply(set.build())) {
                for (int s = 0; s < 5; s++) {
                    if (s > 0) {
                        tiny.trainBatch();
                    }
                    int i = 0;
                    for (float[] g : tiny.gradients().values()) {
                        Storage into = gs.get(i++);
                        for (int j = 0; j < g.length; j++) {
                            into.set(j, g[j]); // Storage rounds to its bfloat16 (nearest even) as it stores
                        }
                    }
                    double bridged = step.step().gradNorm();
                    assertEquals(alone.step(SCHEDULE.lr(s)).gradNorm(), bridged, "gradient norm at step " + s);
                    i = 0;
                    for (Map.Entry<String, float[]> e : tiny.values().entrySet()) {
                        float[] pytorch = e.getValue();
                        assertArrayEquals(ps.get(i++).toArray(0, pytorch.length), pytorch,
                                e.getKey() + ": PyTorch's values after step " + s);
                        if (bf16Params) {
                            assertArrayEquals(widened(bf16(pytorch)), pytorch, e.getKey()
                                    + ": every PyTorch value is a bfloat16 value (the round trip is exact)");
                        }
                        for (String state : alone.stateNames()) {
                            assertTrue(segmentsEqual(alone.state(e.getKey(), state),
                                    step.optimizer().state(e.getKey(), state)), e.getKey() + ": " + state
                                    + " after step " + s);
                        }
                    }
                }
                for (String name : start.keySet()) {
                    assertFalse(Arrays.equals(start.get(name), tiny.values().get(name)), name + " trained");
                }
                assertEquals(alone.stateNames(), step.optimizer().stateNames(),
                        "the same state variables (a master copy exactly where vecopt alone keeps one)");
            }
        }
    }

    /** The default precision is PyTorch's own memory: nothing copied, no conversion time. */
    @Test
    void float32IsPyTorchsMemoryWithoutConversions() {
        try (Tiny tiny = new Tiny(6, null);
             VecoptStep step = VecoptStep.builder(tiny.trainer).optimizer(adamW(b -> b)).schedule(SCHEDULE)
                     .build()) {
            tiny.trainBatch();
            step.step();
            assertEquals(0, step.conversionNanos());
            assertTrue(Precision.FLOAT32.direct());
            assertFalse(Precision.BFLOAT16_GRADIENTS.direct());
        }
    }

    private static short[] bf16(float[] v) {
        short[] out = new short[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = BFloat16.round(v[i]);
        }
        return out;
    }

    private static float[] widened(short[] h) {
        float[] out = new float[h.length];
        for (int i = 0; i < h.length; i++) {
            out[i] = BFloat16.widen(h[i]);
        }
        return out;
    }

    private static boolean segmentsEqual(MemorySegment a, MemorySegment b) {
        return a.byteSize() == b.byteSize() && a.mismatch(b) == -1;
    }

}
