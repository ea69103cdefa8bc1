package vecopt.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.engine.PtNDArray;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;
import vecopt.schedule.Schedules;

/**
 * What happens to the binding when PyTorch's memory changes under it: a swapped storage is bound again with the
 * optimizer's state carried over, a parameter without a gradient is skipped, a closed model or trainer fails the next
 * step clearly, and a tensor vecopt cannot update in place is refused, naming it, before anything is written.
 */
class RebindingTest {
    private static final Function<ParamSet, Optimizer<?>> ADAMW = set -> AdamW.builder(set).threads(1)
            .options(AdamOptions.ADAMW_DEFAULTS.withWeightDecay(0.1))
            .group("no_decay", AdamOptions.ADAMW_DEFAULTS.withWeightDecay(0), t -> t.name().endsWith("_bias"))
            .build();

    @Test
    void aSwappedStorageIsReboundAndTrainsAsIfNothingHadMoved() {
        try (Tiny tiny = new Tiny(8, null);
             VecoptStep step = VecoptStep.builder(tiny.trainer).optimizer(ADAMW)
                     .schedule(Schedules.constant(1e-2)).build()) {
            tiny.trainBatch();
            // The control: the same optimizer over heap copies, which never move.
            List<float[]> ps = new ArrayList<>(), gs = new ArrayList<>();
            List<String> names = new ArrayList<>();
            ParamSet.Builder set = ParamSet.builder();
            for (Map.Entry<String, float[]> e : tiny.values().entrySet()) {
                float[] p = e.getValue().clone(), g = new float[p.length];
                ps.add(p);
                gs.add(g);
                names.add(e.getKey());
                set.add(e.getKey(), Storage.of(p), Storage.of(g), 0, p.length);
            }
            try (Optimizer<?> control = ADAMW.apply(set.build())) {
                for (int s = 0; s < 5; s++) {
                    if (s > 0) {
                        tiny.trainBatch();
                    }
                    if (s == 2) { // NDArray.set gives the tensor new storage: a direct buffer of DJL's
                        PtNDArray weight = (PtNDArray) tiny.array("01Linear_weight");
                        long before = TensorMemory.address(weight);
                        float[] shifted = weight.toFloatArray();
                        for (int i = 0; i < shifted.length; i++) {
                            shifted[i] += 0.25f;
                        }
                        weight.set(shifted);
                        assertNotEquals(before, TensorMemory.address(weight), "set moved the storage");
                        System.arraycopy(shifted, 0, ps.get(names.indexOf("01Linear_weight")), 0, shifted.length);
                    }
                    int i = 0;
                    for (float[] g : tiny.gradients().values()) {
                        System.arraycopy(g, 0, gs.get(i++), 0, g.length);
                    }
                    step.step();
                    control.step(1e-2);
                    i = 0;
                    for (Map.Entry<String, float[]> e : tiny.values().entrySet()) {
                        assertArrayEquals(ps.get(i++), e.getValue(), e.getKey() + " after step " + s);
                    }
                }
            }
            assertEquals(1, step.rebinds(), "bound again once, after the swap");
            assertEquals(5, step.optimizer().steps(), "the rebuilt optimizer continued the count");
        }
    }

    @Test
    void aParameterWithoutAGradientIsSkipped() {
        try (Tiny tiny = new Tiny(9, null, new HalfUsedBlock());
             VecoptStep step = VecoptStep.builder(tiny.trainer).optimizer(ADAMW)
                     .schedule(Schedules.constant(1e-2)).build()) {
            Map<String, float[]> start = tiny.values();
            assertEquals(List.of("01used_weight", "01used_bias", "02unused_weight", "02unused_bias"),
                    List.copyOf(start.keySet()), "DJL's names of the used and the unused layer");
            for (int s = 0; s < 3; s++) {
                tiny.trainBatch();
                step.step();
            }
            assertEquals(List.of("01used_weight", "01used_bias"), step.boundParameters());
            assertEquals(List.of("02unused_weight", "02unused_bias"), step.unboundParameters());
            Map<String, float[]> end = tiny.values();
            assertArrayEquals(start.get("02unused_weight"), end.get("02unused_weight"), "unused weight untouched");
            assertArrayEquals(start.get("02unused_bias"), end.get("02unused_bias"), "unused bias untouched");
            assertFalse(java.util.Arrays.equals(start.get("01used_weight"), end.get("01used_weight")), "trained");
            assertEquals(0, step.rebinds(), "checking the unused parameters each step moves nothing");
        }
    }

    @Test
    void aParameterThatGetsAGradientLaterIsBoundThen() {
        HalfUsedBlock block = new HalfUsedBlock();
        try (Tiny tiny = new Tiny(13, null, block);
             VecoptStep step = VecoptStep.builder(tiny.trainer).optimizer(ADAMW)
                     .schedule(Schedules.constant(1e-2)).build()) {
            for (int s = 0; s < 2; s++) {
                tiny.trainBatch();
                step.step();
            }
            float[] exp = step.optimizer().state("01used_weight", "exp_avg").toArray(ValueLayout.JAVA_FLOAT);
            Map<String, float[]> before = tiny.values();
            block.useBoth();
            tiny.trainBatch();
            float[] grad = tiny.gradients().get("01used_weight");
            step.step();
            assertEquals(1, step.rebinds(), "bound again when the second layer got gradients");
            assertEquals(List.of(), step.unboundParameters());
            assertEquals(List.of("01used_weight", "01used_bias", "02unused_weight", "02unused_bias"),
                    step.boundParameters());
            assertFalse(java.util.Arrays.equals(before.get("02unused_weight"), tiny.values().get("02unused_weight")),
                    "the second layer is trained now");
            assertEquals(3, step.optimizer().steps(), "the count went on");
            // The first layer's moments went on from where they were (kernel formula m = fma(m, b1, g * (1 - b1))),
            // where fresh state would have given g * (1 - b1) alone.
            float[] expNow = step.optimizer().state("01used_weight", "exp_avg").toArray(ValueLayout.JAVA_FLOAT);
            float[] expected = new float[exp.length];
            for (int i = 0; i < exp.length; i++) {
                expected[i] = Math.fma(exp[i], 0.9f, grad[i] * (float) (1 - 0.9));
            }
            assertArrayEquals(expected, expNow, "exp_avg of 01used_weight carried over the rebinding");
        }
    }

    @Test
    void aClosedTrainerOrModelFailsTheNextStepClearly() {
        Tiny tiny = new Tiny(10, null);
        VecoptStep step = VecoptStep.builder(tiny.trainer).optimizer(ADAMW).schedule(Schedules.constant(1e-2))
                .build();
        tiny.trainBatch();
        step.step();
        Optimizer<?> optimizer = step.optimizer();
        tiny.close(); // trainer, then model
        IllegalStateException e = assertThrows(IllegalStateException.class, step::step);
        assertTrue(e.getMessage().contains("trainer was closed"), e.getMessage());
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> optimizer.step(1e-2));
        assertTrue(closed.getMessage().contains("closed"), "the binding is released: " + closed.getMessage());
        IllegalStateException again = assertThrows(IllegalStateException.class, step::step);
        assertTrue(again.getMessage().contains("closed"), again.getMessage());
        step.close(); // harmless after the release
    }

    @Test
    void aClosedModelFailsTheNextStepOfAModelBridgeNamingAParameter() {
        Tiny tiny = new Tiny(11, null);
        VecoptStep step = VecoptStep.builder(tiny.model).optimizer(ADAMW).schedule(Schedules.constant(1e-2))
                .build();
        tiny.trainBatch();
        step.step();
        tiny.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, step::step);
        assertTrue(e.getMessage().contains("'01Linear_weight'") && e.getMessage().contains("model was closed"),
                e.getMessage());
    }

    @Test
    void aFloat64ParameterIsRefusedNamingItBeforeAnythingIsWritten() {
        try (Model model = Model.newInstance("f64", "PyTorch")) {
            model.setBlock(Linear.builder().setUnits(2).build());
            model.getBlock().initialize(model.getNDManager(), DataType.FLOAT64, new Shape(4, 3));
            double[] before = model.getBlock().getParameters().get("weight").getArray().toDoubleArray();
            try (VecoptStep step = VecoptStep.builder(model).optimizer(ADAMW).schedule(Schedules.constant(1e-2))
                    .build()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, step::step);
                assertTrue(e.getMessage().contains("'weight'") && e.getMessage().contains("float64"), e.getMessage());
                assertEquals(null, step.optimizer(), "nothing bound");
            }
            assertArrayEquals(before, model.getBlock().getParameters().get("weight").getArray().toDoubleArray(),
                    "nothing written");
        }
    }

    @Test
    void aNonContiguousTensorIsRefusedNamingIt() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            PtNDArray transposed = (PtNDArray) manager.arange(12f).reshape(new Shape(3, 4)).transpose();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TensorMemory.of("parameter 'w'", transposed));
            assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("not contiguous"), e.getMessage());
            PtNDArray contiguous = (PtNDArray) manager.arange(12f).reshape(new Shape(3, 4));
            assertEquals(TensorMemory.address(contiguous), TensorMemory.of("parameter 'v'", contiguous).address(),
                    "a contiguous tensor is its own memory");
        }
    }
}
