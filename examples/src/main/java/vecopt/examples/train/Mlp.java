package vecopt.examples.train;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;

/**
 * The demo's model: {@code inputs -> fc1 -> ln1 -> GELU -> fc2 -> ln2 -> GELU -> head -> softmax}, a two-hidden-layer
 * MLP with LayerNorm, trained with mean cross-entropy. Forward and backward are written out by hand.
 *
 * <p>All parameters live in one off-heap {@link Storage} and their gradients in a second one of the same layout; the
 * tensors ({@code fc1.weight}, {@code ln1.bias}, ...) are ranges of those two shards, each starting on a 64-byte
 * boundary, and {@link #paramSet()} hands them to an optimizer as they are. The forward pass reads the weights
 * straight from the shard and the backward pass writes (overwrites) every gradient element.
 *
 * <pre>{@code
 * try (Arena arena = Arena.ofShared()) {
 *     Mlp model = Mlp.create(arena, new Mlp.Shape(32, 256, 10), 42);
 *     Mlp.Workspace ws = model.workspace(128);
 *     double loss = model.forward(ws, x, labels, 128);
 *     model.backward(ws);          // gradients now in model.paramSet()'s grad buffer
 * }
 * }</pre>
 */
public final class Mlp {
    /** LayerNorm's variance epsilon (PyTorch's default). */
    static final double LN_EPS = 1e-5;
    private static final double GELU_C = Math.sqrt(2 / Math.PI);
    private static final double GELU_A = 0.044715;
    private static final long ALIGN = 16; // floats: one 64-byte cache line

    /**
     * @param inputs  features per example
     * @param hidden  width of both hidden layers
     * @param classes number of output classes
     */
    public record Shape(int inputs, int hidden, int classes) {
        public Shape {
            if (inputs <= 0 || hidden <= 0 || classes < 2) {
                throw new IllegalArgumentException("shape needs inputs > 0, hidden > 0 and classes >= 2, got inputs "
                        + inputs + ", hidden " + hidden + ", classes " + classes);
            }
        }
    }

    private final Shape shape;
    private final Storage params;
    private final Storage grads;
    private final ParamSet paramSet;
    private final long fc1W, fc1B, ln1G, ln1B, fc2W, fc2B, ln2G, ln2B, headW, headB;
    private final long count;

    private Mlp(Shape shape, Storage params, Storage grads, Map<String, long[]> ranges) {
        this.shape = shape;
        this.params = params;
        this.grads = grads;
        ParamSet.Builder b = ParamSet.builder();
        ranges.forEach((name, r) -> b.add(name, params, grads, r[0], r[1]));
        this.paramSet = b.build();
        fc1W = ranges.get("fc1.weight")[0];
        fc1B = ranges.get("fc1.bias")[0];
        ln1G = ranges.get("ln1.weight")[0];
        ln1B = ranges.get("ln1.bias")[0];
        fc2W = ranges.get("fc2.weight")[0];
        fc2B = ranges.get("fc2.bias")[0];
        ln2G = ranges.get("ln2.weight")[0];
        ln2B = ranges.get("ln2.bias")[0];
        headW = ranges.get("head.weight")[0];
        headB = ranges.get("head.bias")[0];
        count = ranges.values().stream().mapToLong(r -> r[1]).sum();
    }

    /**
     * Allocates the parameter and gradient shards from {@code arena} and initialises the parameters from
     * {@code seed}: linear weights Gaussian with variance {@code 1/fan_in}, biases 0, LayerNorm gains 1.
     */
    public static Mlp create(Arena arena, Shape shape, long seed) {
        int d = shape.inputs(), h = shape.hidden(), k = shape.classes();
        Map<String, long[]> ranges = new LinkedHashMap<>();
        long at = 0;
        String[] names = {"fc1.weight", "fc1.bias", "ln1.weight", "ln1.bias", "fc2.weight", "fc2.bias",
            "ln2.weight", "ln2.bias", "head.weight", "head.bias"};
        long[] sizes = {(long) d * h, h, h, h, (long) h * h, h, h, h, (long) h * k, k};
        for (int i = 0; i < names.length; i++) {
            ranges.put(names[i], new long[] {at, sizes[i]});
            at = (at + sizes[i] + ALIGN - 1) / ALIGN * ALIGN;
        }
        Mlp m = new Mlp(shape, Storage.allocate(arena, at), Storage.allocate(arena, at), ranges);
        m.initialise(seed);
        return m;
    }

    private void initialise(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int d = shape.inputs(), h = shape.hidden(), k = shape.classes();
        gaussian(rnd, fc1W, (long) d * h, 1 / Math.sqrt(d));
        gaussian(rnd, fc2W, (long) h * h, 1 / Math.sqrt(h));
        gaussian(rnd, headW, (long) h * k, 1 / Math.sqrt(h));
        for (int j = 0; j < h; j++) {
            params.set(ln1G + j, 1f);
            params.set(ln2G + j, 1f);
        }
    }

    private void gaussian(SplittableRandom rnd, long at, long n, double std) {
        for (long i = 0; i < n; i++) {
            params.set(at + i, (float) (rnd.nextGaussian() * std));
        }
    }

    public Shape shape() {
        return shape;
    }

    /** The named tensors, as ranges of the parameter and gradient shards. */
    public ParamSet paramSet() {
        return paramSet;
    }

    public Storage params() {
        return params;
    }

    public Storage grads() {
        return grads;
    }

    /** Number of trainable parameters (alignment padding between tensors excluded). */
    public long parameterCount() {
        return count;
    }

    /** Activation buffers for batches of up to {@code maxRows} examples; one per thread that runs the model. */
    public Workspace workspace(int maxRows) {
        if (maxRows <= 0) {
            throw new IllegalArgumentException("maxRows must be > 0, got " + maxRows);
        }
        return new Workspace(shape, maxRows);
    }

    /** What the forward pass keeps for the backward pass, and the scratch both need; allocated once. */
    public static final class Workspace {
        final int maxRows;
        final float[] z, a1, t1, xhat1, h1, a2, t2, xhat2, h2, logits, probs, dh, dz, row, rowB, wt2, wt3;
        final double[] rstd1, rstd2;
        float[] x;
        int[] labels;
        int rows;
        int correct;

        private Workspace(Shape s, int maxRows) {
            this.maxRows = maxRows;
            int bh = maxRows * s.hidden();
            int bk = maxRows * s.classes();
            z = new float[bh];
            a1 = new float[bh];
            t1 = new float[bh];
            xhat1 = new float[bh];
            h1 = new float[bh];
            a2 = new float[bh];
            t2 = new float[bh];
            xhat2 = new float[bh];
            h2 = new float[bh];
            logits = new float[bk];
            probs = new float[bk];
            dh = new float[bh];
            dz = new float[bh];
            row = new float[Math.max(s.hidden(), s.classes())];
            rowB = new float[s.hidden()];
            wt2 = new float[s.hidden() * s.hidden()];
            wt3 = new float[s.hidden() * s.classes()];
            rstd1 = new double[maxRows];
            rstd2 = new double[maxRows];
        }

        /** Examples of the last forward pass whose argmax was the label. */
        public int correct() {
            return correct;
        }
    }

    /**
     * Runs the model on the first {@code rows} examples of {@code x}/{@code labels} and returns the mean
     * cross-entropy (NaN or infinite when the parameters have blown up). The inputs are kept by reference until
     * {@link #backward}.
     */
    public double forward(Workspace ws, float[] x, int[] labels, int rows) {
        if (rows <= 0 || rows > ws.maxRows) {
            throw new IllegalArgumentException("rows must be in [1, " + ws.maxRows + "], got " + rows);
        }
        int d = shape.inputs(), h = shape.hidden(), k = shape.classes();
        MemorySegment p = params.segment();
        ws.x = x;
        ws.labels = labels;
        ws.rows = rows;
        MatOps.linear(x, rows, d, p, fc1W, fc1B, h, ws.z);
        layerNorm(ws.z, rows, h, p, ln1G, ln1B, ws.xhat1, ws.rstd1, ws.a1);
        gelu(ws.a1, rows * h, ws.t1, ws.h1);
        MatOps.linear(ws.h1, rows, h, p, fc2W, fc2B, h, ws.z);
        layerNorm(ws.z, rows, h, p, ln2G, ln2B, ws.xhat2, ws.rstd2, ws.a2);
        gelu(ws.a2, rows * h, ws.t2, ws.h2);
        MatOps.linear(ws.h2, rows, h, p, headW, headB, k, ws.logits);
        double loss = 0;
        int correct = 0;
        for (int r = 0; r < rows; r++) {
            int o = r * k;
            double max = Double.NEGATIVE_INFINITY;
            int arg = 0;
            for (int c = 0; c < k; c++) {
                if (ws.logits[o + c] > max) {
                    max = ws.logits[o + c];
                    arg = c;
                }
            }
            double sum = 0;
            for (int c = 0; c < k; c++) {
                sum += Math.exp(ws.logits[o + c] - max);
            }
            for (int c = 0; c < k; c++) {
                ws.probs[o + c] = (float) (Math.exp(ws.logits[o + c] - max) / sum);
            }
            loss += max + Math.log(sum) - ws.logits[o + labels[r]];
            if (arg == labels[r]) {
                correct++;
            }
        }
        ws.correct = correct;
        return loss / rows;
    }

    /** Writes the gradient of the last {@link #forward}'s mean loss into every element of {@link #grads()}. */
    public void backward(Workspace ws) {
        int rows = ws.rows, d = shape.inputs(), h = shape.hidden(), k = shape.classes();
        MemorySegment p = params.segment();
        MemorySegment g = grads.segment();
        float invRows = 1f / rows;
        float[] dLogits = ws.probs; // reused in place: dL/dlogit = (softmax - onehot) / rows
        for (int r = 0; r < rows; r++) {
            dLogits[r * k + ws.labels[r]] -= 1f;
        }
        for (int i = 0; i < rows * k; i++) {
            dLogits[i] *= invRows;
        }
        MatOps.linearGrads(ws.h2, dLogits, rows, h, k, g, headW, headB, ws.row);
        MatOps.transpose(p, headW, h, k, ws.wt3);
        MatOps.linearInputGrad(dLogits, rows, k, ws.wt3, h, ws.dh);
        geluBackward(ws.dh, ws.a2, ws.t2, rows * h);
        layerNormBackward(ws.dh, ws.xhat2, ws.rstd2, rows, h, p, g, ln2G, ln2B, ws.dz, ws.row, ws.rowB);
        MatOps.linearGrads(ws.h1, ws.dz, rows, h, h, g, fc2W, fc2B, ws.row);
        MatOps.transpose(p, fc2W, h, h, ws.wt2);
        MatOps.linearInputGrad(ws.dz, rows, h, ws.wt2, h, ws.dh);
        geluBackward(ws.dh, ws.a1, ws.t1, rows * h);
        layerNormBackward(ws.dh, ws.xhat1, ws.rstd1, rows, h, p, g, ln1G, ln1B, ws.dz, ws.row, ws.rowB);
        MatOps.linearGrads(ws.x, ws.dz, rows, d, h, g, fc1W, fc1B, ws.row);
    }

    /** Per row: {@code out = gain * (z - mean) / sqrt(var + eps) + bias}; keeps the normalised z and 1/std. */
    private static void layerNorm(float[] z, int rows, int h, MemorySegment p, long gain, long bias, float[] xhat,
                                  double[] rstd, float[] out) {
        for (int r = 0; r < rows; r++) {
            int o = r * h;
            double mean = 0;
            for (int j = 0; j < h; j++) {
                mean += z[o + j];
            }
            mean /= h;
            double var = 0;
            for (int j = 0; j < h; j++) {
                double c = z[o + j] - mean;
                var += c * c;
            }
            double rs = 1 / Math.sqrt(var / h + LN_EPS);
            rstd[r] = rs;
            for (int j = 0; j < h; j++) {
                float xh = (float) ((z[o + j] - mean) * rs);
                xhat[o + j] = xh;
                out[o + j] = Math.fma(p.getAtIndex(JAVA_FLOAT, gain + j), xh, p.getAtIndex(JAVA_FLOAT, bias + j));
            }
        }
    }

    /**
     * LayerNorm backward. In: {@code da} (gradient at its output). Out: gain and bias gradients (summed over rows,
     * written to the gradient shard) and {@code dz = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))} with
     * {@code dxhat = da * gain}.
     */
    private static void layerNormBackward(float[] da, float[] xhat, double[] rstd, int rows, int h, MemorySegment p,
                                          MemorySegment g, long gain, long bias, float[] dz, float[] gGain,
                                          float[] gBias) {
        java.util.Arrays.fill(gGain, 0, h, 0f);
        java.util.Arrays.fill(gBias, 0, h, 0f);
        for (int r = 0; r < rows; r++) {
            int o = r * h;
            double m1 = 0, m2 = 0;
            for (int j = 0; j < h; j++) {
                float a = da[o + j];
                gGain[j] = Math.fma(a, xhat[o + j], gGain[j]);
                gBias[j] += a;
                double dxh = (double) a * p.getAtIndex(JAVA_FLOAT, gain + j);
                m1 += dxh;
                m2 += dxh * xhat[o + j];
            }
            m1 /= h;
            m2 /= h;
            for (int j = 0; j < h; j++) {
                double dxh = (double) da[o + j] * p.getAtIndex(JAVA_FLOAT, gain + j);
                dz[o + j] = (float) (rstd[r] * (dxh - m1 - xhat[o + j] * m2));
            }
        }
        MemorySegment.copy(gGain, 0, g, JAVA_FLOAT, gain * Float.BYTES, h);
        MemorySegment.copy(gBias, 0, g, JAVA_FLOAT, bias * Float.BYTES, h);
    }

    /** GELU, tanh form (as in GPT-2): {@code 0.5 a (1 + tanh(c (a + 0.044715 a^3)))}; keeps the tanh. */
    private static void gelu(float[] a, int n, float[] t, float[] out) {
        for (int i = 0; i < n; i++) {
            double x = a[i];
            double th = Math.tanh(GELU_C * (x + GELU_A * x * x * x));
            t[i] = (float) th;
            out[i] = (float) (0.5 * x * (1 + th));
        }
    }

    /** {@code dh *= gelu'(a)}, in place, from the tanh kept by the forward pass. */
    private static void geluBackward(float[] dh, float[] a, float[] t, int n) {
        for (int i = 0; i < n; i++) {
            double x = a[i];
            double th = t[i];
            double d = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * GELU_C * (1 + 3 * GELU_A * x * x);
            dh[i] = (float) (dh[i] * d);
        }
    }
}
