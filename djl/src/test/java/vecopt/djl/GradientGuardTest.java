package vecopt.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.StepReport;
import vecopt.reference.ClipReference;
import vecopt.schedule.Schedules;

/**
 * Global-norm clipping and the non-finite policy through the bridge, on the gradients PyTorch produced: the norm and
 * coefficient of PyTorch's {@code torch.nn.utils.clip_grad_norm_} ({@code vecopt.reference.ClipReference}), and a
 * NaN in one gradient element skips the step with nothing written.
 */
class GradientGuardTest {
    private static final double MAX_NORM = 0.05;

    @Test
    void clippingIsClipGradNormOnDjlsGradients() {
        try (Tiny tiny = new Tiny(6, null);
             VecoptStep step = VecoptStep.builder(tiny.trainer)
                     .optimizer(p -> AdamW.builder(p).options(AdamOptions.ADAMW_DEFAULTS).clipGradNorm(MAX_NORM)
                             .threads(1).build())
                     .schedule(Schedules.constant(1e-2))
                     .build()) {
            tiny.trainBatch();
            Map<String, float[]> before = tiny.values();
            Map<String, float[]> grads = tiny.gradients();
            double norm = ClipReference.globalNorm(grads.values().toArray(float[][]::new));
            assertTrue(norm > MAX_NORM, "the test needs a gradient to clip, norm " + norm);
            StepReport report = step.step();
            // Both add the same exact squares (float * float is exact in double) in a different order: each of
            // the n additions rounds once, by at most 2^-53 of a partial sum, which is at most the total.
            long n = before.values().stream().mapToLong(a -> a.length).sum();
            assertEquals(norm, report.gradNorm(), n * Math.ulp(norm * norm) / (2 * norm), "global norm");
            double coef = ClipReference.coefficient(MAX_NORM, norm);
            assertEquals((float) coef, (float) report.clipCoef(), "clip_grad_norm_'s float32 coefficient");
            Map<String, float[]> after = tiny.values();
            for (String name : before.keySet()) {
                float[] p = before.get(name).clone();
                FloatAdamW.step(p, grads.get(name), new float[p.length], new float[p.length], 1e-2, 0.9, 0.999, 1e-8,
                        0.01, 1, coef);
                assertArrayEquals(p, after.get(name), name + " after a clipped step");
            }
        }
    }

    @Test
    void aNanInOneGradientSkipsTheStepAndWritesNothing() {
        try (Tiny tiny = new Tiny(7, null);
             VecoptStep step = VecoptStep.builder(tiny.trainer)
                     .optimizer(p -> AdamW.builder(p).threads(1).build())
                     .schedule(Schedules.constant(1e-2))
                     .build()) {
            tiny.trainBatch();
            step.step(); // moments are non-zero from here on
            tiny.trainBatch();
            try (NDArray grad = tiny.array("03Linear_weight").getGradient()) {
                grad.set(new NDIndex(0, 3), Float.NaN); // in place, into PyTorch's gradient
            }
            assertTrue(Float.isNaN(tiny.gradients().get("03Linear_weight")[3]), "the NaN is in PyTorch's gradient");
            Map<String, float[]> values = tiny.values();
            Map<String, float[]> state = state(step.optimizer());
            StepReport report = step.step();
            assertTrue(report.skipped(), "skipped: " + report);
            assertEquals(1, report.skippedSteps());
            assertEquals(1, step.optimizer().steps(), "no update counted");
            Map<String, float[]> valuesAfter = tiny.values();
            Map<String, float[]> stateAfter = state(step.optimizer());
            for (String name : values.keySet()) {
                assertArrayEquals(values.get(name), valuesAfter.get(name), name + " untouched");
            }
            for (String key : state.keySet()) {
                assertArrayEquals(state.get(key), stateAfter.get(key), key + " untouched");
            }
            for (float[] g : tiny.gradients().values()) {
                assertArrayEquals(new float[g.length], g, "the bad gradient is zeroed for the next batch");
            }
            tiny.trainBatch();
            assertFalse(step.step().skipped(), "the next good batch is stepped");
            assertEquals(0, step.rebinds(), "setting a gradient element in place moves nothing");
        }
    }

    private static Map<String, float[]> state(Optimizer<?> optimizer) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (var t : optimizer.params().tensors()) {
            for (String s : optimizer.stateNames()) {
                out.put(s + " of " + t.name(), optimizer.state(t.name(), s).toArray(ValueLayout.JAVA_FLOAT));
            }
        }
        return out;
    }
}
