package vecopt.spark.train;

import java.util.SplittableRandom;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;

/**
 * The example's model: a two-layer perceptron ({@code tanh(W1 x + b1)} then {@code W2 h + b2}) fitted by mean squared
 * error to a fixed random teacher ({@code tanh(A x)}) on synthetic inputs, with its forward and backward pass written
 * out in plain Java, so that the example needs no deep-learning library. Every replica starts from the same weights
 * (drawn from a fixed seed) and a batch is a pure function of the step and the sample index, so any rank can make its
 * part of any global batch.
 */
final class Mlp {
    final int in;
    final int hidden;
    final int out;
    final float[] w1;
    final float[] b1;
    final float[] w2;
    final float[] b2;
    final float[] gw1;
    final float[] gb1;
    final float[] gw2;
    final float[] gb2;
    final ParamSet params;
    private final float[] teacher;
    private final float[] x;
    private final float[] y;
    private final float[] h;
    private final float[] o;
    private final float[] dh;

    Mlp(int in, int hidden, int out) {
        this.in = in;
        this.hidden = hidden;
        this.out = out;
        w1 = new float[hidden * in];
        b1 = new float[hidden];
        w2 = new float[out * hidden];
        b2 = new float[out];
        gw1 = new float[w1.length];
        gb1 = new float[b1.length];
        gw2 = new float[w2.length];
        gb2 = new float[b2.length];
        SplittableRandom r = new SplittableRandom(42);
        fill(w1, r, 1 / Math.sqrt(in));
        fill(w2, r, 1 / Math.sqrt(hidden));
        teacher = new float[out * in];
        fill(teacher, new SplittableRandom(7), 2 / Math.sqrt(in));
        params = ParamSet.builder()
                .add("fc1.weight", Storage.of(w1), Storage.of(gw1), 0, w1.length)
                .add("fc1.bias", Storage.of(b1), Storage.of(gb1), 0, b1.length)
                .add("fc2.weight", Storage.of(w2), Storage.of(gw2), 0, w2.length)
                .add("fc2.bias", Storage.of(b2), Storage.of(gb2), 0, b2.length)
                .build();
        x = new float[in];
        y = new float[out];
        h = new float[hidden];
        o = new float[out];
        dh = new float[hidden];
    }

    private static void fill(float[] a, SplittableRandom r, double scale) {
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (scale * (2 * r.nextDouble() - 1));
        }
    }

    /** Sample {@code k} of global batch {@code step}: the input and the teacher's output. */
    private void sample(long step, long k) {
        SplittableRandom r = new SplittableRandom(step * 1_000_003L + k);
        for (int i = 0; i < in; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int j = 0; j < out; j++) {
            double s = 0;
            for (int i = 0; i < in; i++) {
                s += teacher[j * in + i] * x[i];
            }
            y[j] = (float) Math.tanh(s);
        }
    }

    private void forward() {
        for (int j = 0; j < hidden; j++) {
            float s = b1[j];
            int row = j * in;
            for (int i = 0; i < in; i++) {
                s += w1[row + i] * x[i];
            }
            h[j] = (float) Math.tanh(s);
        }
        for (int j = 0; j < out; j++) {
            float s = b2[j];
            int row = j * hidden;
            for (int i = 0; i < hidden; i++) {
                s += w2[row + i] * h[i];
            }
            o[j] = s;
        }
    }

    /**
     * Forward and backward over samples {@code [from, to)} of global batch {@code step}: the gradients of the mean
     * loss over those samples into the gradient buffers; returns that mean loss.
     */
    double gradients(long step, long from, long to) {
        java.util.Arrays.fill(gw1, 0);
        java.util.Arrays.fill(gb1, 0);
        java.util.Arrays.fill(gw2, 0);
        java.util.Arrays.fill(gb2, 0);
        double loss = 0;
        float scale = 1f / (to - from);
        for (long k = from; k < to; k++) {
            sample(step, k);
            forward();
            java.util.Arrays.fill(dh, 0);
            for (int j = 0; j < out; j++) {
                float d = o[j] - y[j];
                loss += 0.5 * d * d;
                d *= scale;
                gb2[j] += d;
                int row = j * hidden;
                for (int i = 0; i < hidden; i++) {
                    gw2[row + i] += d * h[i];
                    dh[i] += w2[row + i] * d;
                }
            }
            for (int j = 0; j < hidden; j++) {
                float d = dh[j] * (1 - h[j] * h[j]);
                gb1[j] += d;
                int row = j * in;
                for (int i = 0; i < in; i++) {
                    gw1[row + i] += d * x[i];
                }
            }
        }
        return loss / (to - from);
    }

    /** The mean loss over a held-out batch of {@code n} samples (step index -1: never a training batch). */
    double evalLoss(int n) {
        double loss = 0;
        for (int k = 0; k < n; k++) {
            sample(-1, k);
            forward();
            for (int j = 0; j < out; j++) {
                double d = o[j] - y[j];
                loss += 0.5 * d * d;
            }
        }
        return loss / n;
    }
}
