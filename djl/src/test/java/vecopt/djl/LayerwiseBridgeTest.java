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
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.optim.Lars;
import vecopt.optim.LarsOptions;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;
import vecopt.schedule.Schedule;
import vecopt.schedule.Schedules;

/**
 * The bridge steps DJL's tensors with the layer-wise optimizers (multi-pass over the chunk grid, a trust ratio per
 * tensor) exactly as vecopt steps its own buffers: LAMB and LARS through {@link VecoptStep}, over PyTorch's memory,
 * give bit for bit the parameters, and the trust ratios, of the same optimizer over heap copies fed the same
 * gradients (the engine promises heap and off-heap results are bitwise equal).
 */
class LayerwiseBridgeTest {
    private static final LambOptions LAMB = LambOptions.DEFAULTS.withWeightDecay(0.01);
    private static final LarsOptions LARS = LarsOptions.DEFAULTS.withWeightDecay(1e-4);
    private static final Schedule SCHEDULE = Schedules.warmupCosine(1e-2, 1e-3, 2, 10);

    @Test
    void lambThroughTheBridgeIsLambOverCopiesBitForBit() {
        sameAsAlone(set -> Lamb.builder(set).options(LAMB)
                .group("no_decay", LAMB.withWeightDecay(0), t -> t.name().endsWith("_bias")).threads(1).build(),
                SCHEDULE);
    }

    /** Biases neither decayed nor adapted (optax's trust-ratio mask as a group), as the large-batch runs do. */
    @Test
    void larsWithUnadaptedBiasesThroughTheBridgeIsLarsOverCopiesBitForBit() {
        sameAsAlone(set -> Lars.builder(set).options(LARS)
                .group("no_adapt", LARS.withWeightDecay(0).withTrustRatio(false), t -> t.name().endsWith("_bias"))
                .threads(2).build(), Schedules.warmupCosine(3, 0.3, 2, 10));
    }

    private static void sameAsAlone(Function<ParamSet, Optimizer<?>> build, Schedule schedule) {
        try (Tiny tiny = new Tiny(5, null);
             VecoptStep step = VecoptStep.builder(tiny.trainer).optimizer(build).schedule(schedule).build()) {
            tiny.trainBatch();
            Map<String, float[]> start = tiny.values();
            List<float[]> ps = new ArrayList<>(), gs = new ArrayList<>();
            ParamSet.Builder set = ParamSet.builder();
            for (Map.Entry<String, float[]> e : start.entrySet()) {
                float[] p = e.getValue().clone(), g = new float[p.length];
                ps.add(p);
                gs.add(g);
                set.add(e.getKey(), Storage.of(p), Storage.of(g), 0, p.length);
            }
            try (Optimizer<?> alone = build.apply(set.build())) {
                for (int s = 0; s < 5; s++) {
                    if (s > 0) {
                        tiny.trainBatch();
                    }
                    int i = 0;
                    for (float[] g : tiny.gradients().values()) {
                        System.arraycopy(g, 0, gs.get(i++), 0, g.length);
                    }
                    step.step();
                    alone.step(schedule.lr(s));
                    i = 0;
                    for (Map.Entry<String, float[]> e : tiny.values().entrySet()) {
                        assertArrayEquals(ps.get(i++), e.getValue(), e.getKey() + " after step " + s);
                    }
                    for (String name : start.keySet()) {
                        assertEquals(ratio(alone, name), ratio(step.optimizer(), name),
                                name + ": trust ratio at step " + s);
                    }
                }
                for (String name : start.keySet()) {
                    assertFalse(Arrays.equals(start.get(name), tiny.values().get(name)), name + " trained");
                }
                assertTrue(step.optimizer().getClass() == alone.getClass());
                assertEquals(0, step.rebinds(), "PyTorch kept the memory where it was: no rebinding");
            }
        }
    }

    private static double ratio(Optimizer<?> opt, String tensor) {
        return opt instanceof Lamb l ? l.trustRatio(tensor) : ((Lars) opt).trustRatio(tensor);
    }
}
