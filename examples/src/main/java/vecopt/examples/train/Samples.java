package vecopt.examples.train;

/**
 * Labelled examples: {@code count} rows of {@code features} floats and a class label each.
 *
 * @param x        row-major features, {@code count * features} floats
 * @param labels   one class index per row
 * @param features floats per row
 */
public record Samples(float[] x, int[] labels, int features) {
    public Samples {
        if (x.length != labels.length * features) {
            throw new IllegalArgumentException("x must hold labels.length * features = " + labels.length * features
                    + " floats, got " + x.length);
        }
    }

    public int count() {
        return labels.length;
    }

    /** Copies rows {@code rows[from .. from + n)} into {@code xOut}/{@code yOut} (a mini-batch). */
    void gather(int[] rows, int from, int n, float[] xOut, int[] yOut) {
        for (int i = 0; i < n; i++) {
            int r = rows[from + i];
            System.arraycopy(x, r * features, xOut, i * features, features);
            yOut[i] = labels[r];
        }
    }

    /** Copies the contiguous rows {@code [from, from + n)} (held-out evaluation in order). */
    void slice(int from, int n, float[] xOut, int[] yOut) {
        System.arraycopy(x, from * features, xOut, 0, n * features);
        System.arraycopy(labels, from, yOut, 0, n);
    }
}
