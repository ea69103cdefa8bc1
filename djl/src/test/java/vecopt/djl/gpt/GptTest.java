package vecopt.djl.gpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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

    /**
     * A sequence shorter than the context gives the full sequence's logits at its positions (it sees the same tokens),
     * to rounding. The two calls run the same operations on the same values; only the number of rows differs (8 and
     * 12 positions), which lets PyTorch's matmul and reduction kernels group their float32 sums differently. A sum of
     * k terms grouped two ways differs by at most 2 * gamma(k - 1) * sum|terms|, gamma(m) = m * 2^-24 (Higham); the
     * longest sums here are the MLP's 128-term dot products, and each of the (layers + 1) linear stages adds at most
     * that relative error to values of the logits' scale. Hence the bound 2 * 127 * 2^-24 * (layers + 1) *
     * max|logit|, about 4.5e-5 of the largest logit (seen: one float ulp).
     */
    @Test
    void aShorterSequenceGivesThePrefixsLogits() {
        Engine.getEngine("PyTorch").setRandomSeed(5);
        try (Model model = Model.newInstance("gpt", "PyTorch")) {
            model.setBlock(new Gpt(config(GptConfig.Norm.PRE)));
            model.getBlock().initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, T));
            long[] a = new long[T];
            for (int i = 0; i < T; i++) {
                a[i] = (i * 5 + 1) % V;
            }
            int n = 8;
            float[] full = logits(model, a);
            float[] prefix = logits(model, Arrays.copyOf(a, n));
            assertEquals(n * V, prefix.length);
            double max = 0;
            for (float v : full) {
                max = Math.max(max, Math.abs(v));
            }
            double bound = 2 * 127 * Math.pow(2, -24) * (config(GptConfig.Norm.PRE).layers() + 1) * max;
            for (int i = 0; i < n * V; i++) {
                assertEquals(full[i], prefix[i], bound, "logit " + i + " (position " + i / V + ")");
            }
        }
    }

    /**
     * The gradients do not depend on when the garbage collector runs: with collections between the forward and the
     * backward pass, and the freed native memory handed out again (small direct buffers filled with NaN), every
     * parameter's gradient is bit for bit the one of a pass without them. An array that the forward pass made over
     * Java memory and let go of, but that the backward pass still reads (as DJL's {@code mul(Number)} does with its
     * number: see {@code CausalSelfAttention.scale}), is read after it was freed: with the attention's scale made
     * so, the first collected pass already read NaN for it (4 runs of 4).
     */
    @Test
    void aCollectionBetweenForwardAndBackwardChangesNoGradient() {
        Engine.getEngine("PyTorch").setRandomSeed(5);
        try (Model model = Model.newInstance("gpt", "PyTorch")) {
            model.setBlock(new Gpt(config(GptConfig.Norm.PRE)));
            model.getBlock().initialize(model.getNDManager(), DataType.FLOAT32, new Shape(2, T));
            long[] ids = new long[2 * T];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (i * 7 + 2) % V;
            }
            List<float[]> quiet = gradients(model, ids, false);
            for (int round = 0; round < 40; round++) {
                List<float[]> collected = gradients(model, ids, true);
                for (int i = 0; i < quiet.size(); i++) {
                    assertArrayEquals(quiet.get(i), collected.get(i), "round " + round + ", parameter " + i);
                }
            }
        }
    }

    /** Every parameter's gradient of mean(logits^2) at {@code ids}, zeroed after reading. */
    private static List<float[]> gradients(Model model, long[] ids, boolean collect) {
        try (NDManager m = model.getNDManager().newSubManager()) {
            NDArray in = m.create(ids, new Shape(2, T));
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray out = model.getBlock().forward(new ParameterStore(m, false), new NDList(in), true)
                        .singletonOrThrow();
                NDArray loss = out.mul(out).mean();
                if (collect) {
                    List<ByteBuffer> reuse = new ArrayList<>();
                    for (int k = 0; k < 3; k++) {
                        System.gc();
                        for (int j = 0; j < 2000; j++) {
                            ByteBuffer b = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
                            b.putDouble(0, Double.NaN);
                            reuse.add(b);
                        }
                    }
                }
                gc.backward(loss);
            }
        }
        List<float[]> grads = new ArrayList<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            try (NDArray g = p.getValue().getArray().getGradient()) {
                grads.add(g.toFloatArray());
                g.subi(g);
            }
        }
        return grads;
    }

    private static float[] logits(Model model, long[] ids) {
        try (NDManager m = model.getNDManager().newSubManager()) {
            NDList out = model.getBlock().forward(new ParameterStore(m, false),
                    new NDList(m.create(ids, new Shape(1, ids.length))), false);
            return out.singletonOrThrow().toFloatArray();
        }
    }
}
