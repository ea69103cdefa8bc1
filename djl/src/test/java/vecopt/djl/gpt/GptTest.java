package vecopt.djl.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The transformer's structure: parameters as counted, and causal (no position sees a later token). */
class GptTest {
    private static final int T = 12, V = 16;

    private static GptConfig config(GptConfig.Norm norm) {
        return new GptConfig(V, T, 32, 4, 2, 4, norm);
    }

    @Test
    void parameterCountIsWhatTheConfigSays() {
        for (GptConfig.Norm norm : GptConfig.Norm.values()) {
            try (Model model = Model.newInstance("gpt", "PyTorch")) {
                model.setBlock(new Gpt(config(norm)));
                model.getBlock().initialize(model.getNDManager(), DataType.FLOAT32, new Shape(2, T));
                long n = 0;
                for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
                    n += p.getValue().getArray().size();
                }
                assertEquals(config(norm).parameterCount(), n, norm.toString());
            }
        }
    }

    /**
     * Changing the tokens after position k leaves the logits at positions 0..k bit for bit as they were, and changes
     * those after (the model does read them there). Both LayerNorm placements.
     */
    @Test
    void noPositionSeesALaterToken() {
        for (GptConfig.Norm norm : GptConfig.Norm.values()) {
            Engine.getEngine("PyTorch").setRandomSeed(5);
            try (Model model = Model.newInstance("gpt", "PyTorch")) {
                model.setBlock(new Gpt(config(norm)));
                model.getBlock().initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, T));
                long[] a = new long[T];
                for (int i = 0; i < T; i++) {
                    a[i] = (i * 7 + 3) % V;
                }
                int k = 5;
                long[] b = a.clone();
                for (int i = k + 1; i < T; i++) {
                    b[i] = (a[i] + 1) % V;
                }
                float[] la = logits(model, a), lb = logits(model, b);
                int upTo = (k + 1) * V;
                assertArrayEquals(Arrays.copyOf(la, upTo), Arrays.copyOf(lb, upTo), norm + ": positions 0.." + k);
                assertFalse(Arrays.equals(Arrays.copyOfRange(la, upTo, la.length),
                        Arrays.copyOfRange(lb, upTo, lb.length)), norm + ": positions after " + k + " changed");
            }
        }
    }

    private static float[] logits(Model model, long[] ids) {
        try (NDManager m = model.getNDManager().newSubManager()) {
            NDList out = model.getBlock().forward(new ParameterStore(m, false),
                    new NDList(m.create(ids, new Shape(1, ids.length))), false);
            return out.singletonOrThrow().toFloatArray();
        }
    }
}
