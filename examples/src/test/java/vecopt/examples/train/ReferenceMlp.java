package vecopt.examples.train;

import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * The model's forward pass again, written independently and plainly in double from the formulas (no fma, no shared
 * code with {@link Mlp}): the oracle that the gradient check differentiates numerically.
 */
final class ReferenceMlp {
    private final Mlp.Shape s;
    private final long fc1W, fc1B, ln1G, ln1B, fc2W, fc2B, ln2G, ln2B, headW, headB;

    ReferenceMlp(Mlp.Shape shape, ParamSet set) {
        this.s = shape;
        fc1W = off(set, "fc1.weight");
        fc1B = off(set, "fc1.bias");
        ln1G = off(set, "ln1.weight");
        ln1B = off(set, "ln1.bias");
        fc2W = off(set, "fc2.weight");
        fc2B = off(set, "fc2.bias");
        ln2G = off(set, "ln2.weight");
        ln2B = off(set, "ln2.bias");
        headW = off(set, "head.weight");
        headB = off(set, "head.bias");
    }

    private static long off(ParamSet set, String name) {
        Tensor t = set.tensor(name);
        return t.offset();
    }

    /** Mean cross-entropy of the model with parameters {@code p} (indexed like the shard) on the batch. */
    double loss(double[] p, float[] x, int[] labels, int rows) {
        int d = s.inputs(), h = s.hidden(), k = s.classes();
        double total = 0;
        for (int r = 0; r < rows; r++) {
            double[] in = new double[d];
            for (int i = 0; i < d; i++) {
                in[i] = x[r * d + i];
            }
            double[] h1 = gelu(layerNorm(linear(in, p, fc1W, fc1B, d, h), p, ln1G, ln1B));
            double[] h2 = gelu(layerNorm(linear(h1, p, fc2W, fc2B, h, h), p, ln2G, ln2B));
            double[] logits = linear(h2, p, headW, headB, h, k);
            double max = Double.NEGATIVE_INFINITY;
            for (double v : logits) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (double v : logits) {
                sum += Math.exp(v - max);
            }
            total += Math.log(sum) + max - logits[labels[r]];
        }
        return total / rows;
    }

    private static double[] linear(double[] in, double[] p, long w, long b, int nIn, int nOut) {
        double[] out = new double[nOut];
        for (int j = 0; j < nOut; j++) {
            double acc = p[(int) b + j];
            for (int i = 0; i < nIn; i++) {
                acc += in[i] * p[(int) w + i * nOut + j];
            }
            out[j] = acc;
        }
        return out;
    }

    private static double[] layerNorm(double[] z, double[] p, long gain, long bias) {
        int n = z.length;
        double mean = 0;
        for (double v : z) {
            mean += v / n;
        }
        double var = 0;
        for (double v : z) {
            var += (v - mean) * (v - mean) / n;
        }
        double[] out = new double[n];
        for (int j = 0; j < n; j++) {
            out[j] = p[(int) gain + j] * (z[j] - mean) / Math.sqrt(var + Mlp.LN_EPS) + p[(int) bias + j];
        }
        return out;
    }

    private static double[] gelu(double[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            double x = a[i];
            out[i] = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
        }
        return out;
    }
}
