package vecopt.kernel;

import java.lang.foreign.MemorySegment;

/**
 * What Adafactor's kernels need of one chunk beyond its {@link Chunk}: where the chunk lies in its tensor, the
 * chunk's own partial sums (so that a row or column crossing chunks is summed chunk by chunk and the chunks' sums
 * are then added in grid order, whatever thread ran which chunk), and the tensor's factors and per-tensor scalars
 * for the later passes. Built once per chunk with the optimizer; a step allocates nothing.
 *
 * <p>A factored tensor of shape {@code [..., R, C]} is {@code B = prod(...)} matrices; element {@code k} of the
 * tensor is in global row {@code k / C} (batch {@code k / C / R}) and column {@code k % C}. The chunk is walked as
 * row segments: the pieces of rows it holds, each at most C long. Row sums are one per global row the chunk
 * touches; column sums one per (batch, column) it touches: {@code (b - firstBatch) * C + c} when the chunk is
 * longer than a row, else (a chunk of at most two row pieces) the column's distance from the chunk's first
 * column, around the row.
 */
public final class AdafactorChunk {
    /** Partial sums kept per chunk: 64 of p^2, 64 of update^2, 64 of the current row's g^2 + eps1. */
    public static final int PARTIALS = 64;
    final long first;
    final int cols;          // C, or 0 for an unfactored tensor
    final int rows;          // R
    final long rowFirst;     // global row of the chunk's first element
    final int colFirst;      // its column
    final long batchFirst;   // its batch
    final boolean ring;      // column sums indexed around the row (a chunk no longer than a row)
    final double[] acc = new double[3 * PARTIALS];
    /** Per row the chunk touches (from {@link #rowFirst()}): the chunk's sum of {@code g^2 + eps1} over it. */
    final double[] rowSums;
    /** Per (batch, column) the chunk touches (see the class comment): the chunk's sum of {@code g^2 + eps1}. */
    final double[] colSums;
    /** The tensor's row factors {@code rsqrt(row / mean(row))} by global row, and column factors {@code rsqrt(col)} by {@code b * C + c}. */
    final float[] rowFactor;
    final float[] colFactor;
    /** The chunk's slice of {@code exp_avg_sq} as stored (unfactored tensors: float32, or bfloat16 state), else null. */
    final MemorySegment expAvgSqStored;
    /**
     * The float32 buffers the current pass reads ({@link AdafactorStaging#load}): the gradients, the parameters
     * (the chunk's own, the master copy, or bfloat16 ones widened), {@code exp_avg_sq} (a 1-D tensor's) and
     * {@code exp_avg} (beta1): the stored buffers themselves where they are float32, else this thread's scratch.
     */
    MemorySegment grads;
    MemorySegment params;
    MemorySegment expAvgSq;
    MemorySegment expAvg;
    double paramSquares;
    double updateSquares;
    float clipDivisor = 1f;
    float lr;
    float decay;

    /**
     * A chunk of an unfactored (1-D) tensor, {@code expAvgSq} its slice of the tensor's {@code exp_avg_sq} (float32,
     * or bfloat16 under bfloat16 state).
     */
    public AdafactorChunk(long first, MemorySegment expAvgSq) {
        this.first = first;
        this.cols = 0;
        this.rows = 0;
        this.rowFirst = 0;
        this.colFirst = 0;
        this.batchFirst = 0;
        this.ring = false;
        this.rowSums = new double[0];
        this.colSums = new double[0];
        this.rowFactor = null;
        this.colFactor = null;
        this.expAvgSqStored = expAvgSq;
    }

    /**
     * A chunk of {@code length} elements from element {@code first} of a factored tensor of {@code rows} x
     * {@code cols} matrices, whose factors the optimizer keeps in {@code rowFactor} and {@code colFactor}.
     */
    public AdafactorChunk(long first, int length, int rows, int cols, float[] rowFactor, float[] colFactor) {
        if (length < 1 || rows < 1 || cols < 1) {
            throw new IllegalArgumentException("chunk of " + length + " elements of " + rows + " x " + cols);
        }
        this.first = first;
        this.cols = cols;
        this.rows = rows;
        this.rowFirst = first / cols;
        this.colFirst = (int) (first - rowFirst * cols);
        this.batchFirst = rowFirst / rows;
        long last = first + length - 1, rowLast = last / cols, batchLast = rowLast / rows;
        this.ring = length <= cols;
        this.rowSums = new double[Math.toIntExact(rowLast - rowFirst + 1)];
        this.colSums = new double[ring ? length : Math.toIntExact((batchLast - batchFirst + 1) * cols)];
        this.rowFactor = rowFactor;
        this.colFactor = colFactor;
        this.expAvgSqStored = null;
    }

    public boolean factored() {
        return cols > 0;
    }

    public long rowFirst() {
        return rowFirst;
    }

    /** The chunk's sum of {@code g^2 + eps1} over the row {@code rowFirst() + i}. */
    public double rowSum(int i) {
        return rowSums[i];
    }

    public int rowCount() {
        return rowSums.length;
    }

    public int colCount() {
        return colSums.length;
    }

    /** The chunk's sum of {@code g^2 + eps1} over its column slot {@code i}. */
    public double colSum(int i) {
        return colSums[i];
    }

    /**
     * Adds the chunk's column sums into a tensor's totals ({@code total[b * C + c]}), slot by slot: the same adds,
     * in the same order, as adding {@link #colSum(int)} at {@link #colIndex(int)} for each slot. A chunk longer
     * than a row adds its slots to consecutive totals in one plain array loop, without the per-slot index
     * arithmetic: at 64M parameters as 8192 x 8192 that is 8M slots per step, on the stepping thread.
     */
    public void addColSums(double[] total) {
        final double[] s = colSums;
        if (!ring) {
            final int base = Math.toIntExact(batchFirst * cols);
            for (int i = 0; i < s.length; i++) {
                total[base + i] += s[i];
            }
            return;
        }
        for (int i = 0; i < s.length; i++) {
            total[(int) colIndex(i)] += s[i];
        }
    }

    /** The {@code b * C + c} of column slot {@code i} (see the class comment). */
    public long colIndex(int i) {
        if (!ring) {
            return batchFirst * cols + i;
        }
        int head = cols - colFirst; // slots of the first row piece
        return i < head ? (rowFirst / rows) * cols + colFirst + i : ((rowFirst + 1) / rows) * cols + (i - head);
    }

    /** The chunk's sum of p^2 from pass 1. */
    public double paramSquares() {
        return paramSquares;
    }

    /** The chunk's sum of update^2 (pass 1 for an unfactored tensor, pass 2 for a factored one). */
    public double updateSquares() {
        return updateSquares;
    }

    /** Sets the tensor's scalars for the apply pass: the clipping divisor, the learning rate, {@code -weight_decay * lr}. */
    public void prepareApply(float clipDivisor, float lr, float decay) {
        this.clipDivisor = clipDivisor;
        this.lr = lr;
        this.decay = decay;
    }

    /** Zeroes the first {@code n} partials from {@code from}. */
    void clear(int from, int n) {
        java.util.Arrays.fill(acc, from, from + n, 0.0);
    }

    /** The {@link #PARTIALS} partials from {@code from}, added in order: the one summation order of every kernel. */
    double total(int from) {
        return total(from, PARTIALS);
    }

    /** The {@code n} partials from {@code from}, added in order. */
    double total(int from, int n) {
        double s = 0;
        for (int i = from; i < from + n; i++) {
            s += acc[i];
        }
        return s;
    }
}
