package vecopt.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.schedule.Schedule;
import vecopt.schedule.Schedules;

/**
 * The bridge updates DJL's own tensors: after vecopt's step through {@link VecoptStep}, the values PyTorch holds are
 * exactly what vecopt computes from the gradients PyTorch produced.
 */
class InPlaceStepTest {
    private static final AdamOptions DECAY = AdamOptions.ADAMW_DEFAULTS.withWeightDecay(0.1);
    private static final Function<ParamSet, Optimizer<?>> ADAMW = set -> AdamW.builder(set).options(DECAY)
            .group("no_decay", DECAY.withWeightDecay(0), t -> t.name().endsWith("_bias"))
            .threads(1).build();
    // Step 0 of the warmup has lr 0: the several-steps test goes through that too.
    private static final Schedule SCHEDULE = Schedules.warmupCosine(3e-2, 3e-3, 2, 10);

    /**
     * {@code bind()} is a step without an update: the optimizer exists and sees DJL's memory, the gradients are zero,
     * the parameters and the optimizer's counters are untouched, and the schedule's count does not advance.
     */
    @Test
    void bindBindsAndZeroesTheGradientsWithoutUpdating() {
        try (Tiny tiny = new Tiny(3, null);
             VecoptStep step = VecoptStep.builder(tiny.trainer).optimizer(ADAMW).schedule(SCHEDULE).build()) {
            tiny.trainBatch();
            Map<String, float[]> before = tiny.values();
            Optimizer<?> opt = step.bind();
            assertTrue(opt == step.optimizer(), "bind() returns the bound optimizer");
            assertEquals(0, step.calls(), "not counted as a step");
            assertEquals(0, opt.steps(), "no update counted by the optimizer");
            Map<String, float[]> after = tiny.values();
            for (String name : before.keySet()) {
                assertArrayEquals(before.get(name), after.get(name), name + " unchanged");
            }
            for (float[] g : tiny.gradients().values()) {
                assertArrayEquals(new float[g.length], g, "gradients zeroed by bind()");
            }
            assertEquals(4, step.boundParameters().size(), "the two layers' weights and biases are bound");
        }
    }

    @Test
    void firstStepIsTheAdamWFormulaOnDjlsGradientsBitForBit() {
        try (Tiny tiny = new Tiny(3, null);
             VecoptStep step = VecoptStep.builder(tiny.trainer).optimizer(ADAMW)
                     .schedule(Schedules.cosineDecay(3e-2, 3e-3, 10)).build()) {
            tiny.trainBatch();
            Map<String, float[]> before = tiny.values();
            Map<String, float[]> grads = tiny.gradients();
            StepReport report = step.step();
            assertFalse(report.skipped());
            double lr = 3e-2; // cosineDecay's lr(0) is its peak
            assertEquals(lr, report.lr(0));
            Map<String, float[]> after = tiny.values();
            for (String name : before.keySet()) {
                float[] p = before.get(name).clone();
                float[] g = grads.get(name);
                assertTrue(Arrays.stream(box(g)).anyMatch(x -> x != 0f), name + " has a gradient");
                double wd = name.endsWith("_bias") ? 0 : 0.1;
                FloatAdamW.step(p, g, new float[p.length], new float[p.length], lr, 0.9, 0.999, 1e-8, wd, 1, 1.0);
                assertArrayEquals(p, after.get(name), name + ": PyTorch's tensor after vecopt's step");
                assertFalse(Arrays.equals(before.get(name), after.get(name)), name + " changed");
            }
            for (float[] g : tiny.gradients().values()) {
                assertArrayEquals(new float[g.length], g, "gradients zeroed after the step, as DJL's optimizers do");
            }
        }
    }

    @Test
    void severalStepsMatchVecoptOverCopiesOfTheSameMemoryBitForBit() {
        try (Tiny tiny = new Tiny(4, null);
             VecoptStep step = VecoptStep.builder(tiny.trainer).optimizer(ADAMW).schedule(SCHEDULE).build()) {
            tiny.trainBatch();
            Map<String, float[]> start = tiny.values();
            // The same optimizer over heap copies: the engine promises heap and off-heap results are bitwise equal.
            List<float[]> ps = new ArrayList<>(), gs = new ArrayList<>();
            ParamSet.Builder set = ParamSet.builder();
            for (Map.Entry<String, float[]> e : start.entrySet()) {
                float[] p = e.getValue().clone(), g = new float[p.length];
                ps.add(p);
                gs.add(g);
                set.add(e.getKey(), Storage.of(p), Storage.of(g), 0, p.length);
            }
            try (Optimizer<?> copy = ADAMW.apply(set.build())) {
                for (int s = 0; s < 6; s++) {
                    if (s > 0) {
                        tiny.trainBatch();
                    }
                    int i = 0;
                    for (float[] g : tiny.gradients().values()) {
                        System.arraycopy(g, 0, gs.get(i++), 0, g.length);
                    }
                    StepReport bridged = step.step();
                    StepReport alone = copy.step(SCHEDULE.lr(s));
                    assertEquals(alone.gradNorm(), bridged.gradNorm(), "grad norm at step " + s);
                    i = 0;
                    for (Map.Entry<String, float[]> e : tiny.values().entrySet()) {
                        assertArrayEquals(ps.get(i++), e.getValue(), e.getKey() + " after step " + s);
                    }
                }
                assertEquals(6, step.optimizer().steps());
                assertEquals(0, step.rebinds(), "PyTorch kept the memory where it was: no rebinding");
            }
        }
    }

    private static Float[] box(float[] a) {
        Float[] out = new Float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }
}
