package vecopt.monitor;

/**
 * The last {@code capacity} values seen, and their median (sorted in a scratch array: nothing allocated per value).
 * Values are finite: the monitor keeps NaN and infinities out.
 */
final class Window {
    private final double[] ring;
    private final double[] scratch;
    private int next;
    private int count;

    Window(int capacity) {
        this.ring = new double[capacity];
        this.scratch = new double[capacity];
    }

    void add(double x) {
        ring[next] = x;
        next = (next + 1) % ring.length;
        count = Math.min(count + 1, ring.length);
    }

    int count() {
        return count;
    }

    boolean full() {
        return count == ring.length;
    }

    /** Median of the values from the {@code from}-th oldest to the {@code to}-th oldest (exclusive) held now. */
    double median(int from, int to) {
        int start = count < ring.length ? 0 : next; // the oldest value
        int n = to - from;
        for (int i = 0; i < n; i++) {
            scratch[i] = ring[(start + from + i) % ring.length];
        }
        // Insertion sort, not Arrays.sort: on JDK 25, sorting a double[] of a few dozen varied values allocates (the
        // partitioning returns its pivot indices in a new array), 72 bytes a step measured, and windows are short.
        for (int i = 1; i < n; i++) {
            double x = scratch[i];
            int j = i - 1;
            while (j >= 0 && scratch[j] > x) {
                scratch[j + 1] = scratch[j];
                j--;
            }
            scratch[j + 1] = x;
        }
        return n % 2 == 1 ? scratch[n / 2] : (scratch[n / 2 - 1] + scratch[n / 2]) / 2;
    }

    double median() {
        return median(0, count);
    }
}
