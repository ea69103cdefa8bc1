package vecopt.examples.train;

import java.util.SplittableRandom;

/**
 * The embedded dataset: a classification task defined by a random "teacher" network, generated from a seed.
 *
 * <p>Inputs are standard Gaussian vectors; the label of {@code x} is the argmax of a fixed random two-layer tanh
 * network's logits at {@code x}. The boundary is smooth and nonlinear, so a linear model cannot fit it but an MLP can,
 * and held-out accuracy says plainly whether the student learned it. A teacher rather than a downloaded dataset keeps
 * the run self-contained and exactly reproducible; {@code labelNoise} flips that fraction of labels to a random
 * class, so the best achievable held-out loss is not zero and overfitting is visible.
 *
 * <pre>{@code
 * TeacherTask.Split data = new TeacherTask(32, 10, 64, 0.05).generate(42, 8192, 2048);
 * }</pre>
 *
 * @param features   input dimension
 * @param classes    number of classes
 * @param width      hidden width of the teacher
 * @param labelNoise fraction of labels replaced by a uniformly random class, in [0, 1)
 */
public record TeacherTask(int features, int classes, int width, double labelNoise) {
    /** The default task of the training demo. */
    public static final TeacherTask DEFAULT = new TeacherTask(32, 10, 64, 0.05);

    public TeacherTask {
        positive("features", features);
        if (classes < 2) {
            throw new IllegalArgumentException("classes must be >= 2, got " + classes);
        }
        positive("width", width);
        if (!(labelNoise >= 0 && labelNoise < 1)) {
            throw new IllegalArgumentException("labelNoise must be in [0, 1), got " + labelNoise);
        }
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
        }
    }

    /** A training split and a held-out split drawn from the same distribution. */
    public record Split(Samples train, Samples heldOut) {
    }

    /** Draws the teacher, then {@code trainCount + heldOutCount} examples, all from {@code seed}. */
    public Split generate(long seed, int trainCount, int heldOutCount) {
        positive("trainCount", trainCount);
        positive("heldOutCount", heldOutCount);
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] w1 = gaussian(rnd, features * width, 1 / Math.sqrt(features));
        double[] b1 = gaussian(rnd, width, 0.5);
        // Scaled so that tanh is used in its nonlinear range and logits differ by O(1) between classes.
        double[] w2 = gaussian(rnd, width * classes, 2 / Math.sqrt(width));
        return new Split(draw(rnd, trainCount, w1, b1, w2), draw(rnd, heldOutCount, w1, b1, w2));
    }

    private Samples draw(SplittableRandom rnd, int n, double[] w1, double[] b1, double[] w2) {
        float[] x = new float[n * features];
        int[] y = new int[n];
        double[] h = new double[width];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < features; k++) {
                x[i * features + k] = (float) rnd.nextGaussian();
            }
            for (int j = 0; j < width; j++) {
                double s = b1[j];
                for (int k = 0; k < features; k++) {
                    s += x[i * features + k] * w1[k * width + j];
                }
                h[j] = Math.tanh(s);
            }
            int best = 0;
            double bestLogit = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                double s = 0;
                for (int j = 0; j < width; j++) {
                    s += h[j] * w2[j * classes + c];
                }
                if (s > bestLogit) {
                    bestLogit = s;
                    best = c;
                }
            }
            // Always draw both numbers so that the noise level does not shift the stream of later examples.
            double u = rnd.nextDouble();
            int other = rnd.nextInt(classes);
            y[i] = u < labelNoise ? other : best;
        }
        return new Samples(x, y, features);
    }

    private static double[] gaussian(SplittableRandom rnd, int n, double std) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = rnd.nextGaussian() * std;
        }
        return a;
    }
}
