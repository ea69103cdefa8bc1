package vecopt.zero;

import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * The collectives a data-parallel ZeRO-1 step needs, among {@link #size()} ranks that each hold one communicator:
 * reduce-scatter of the gradients, all-gather of the parameters, an exchange of a few doubles (the norm's partial
 * sums) and a barrier. Every call is collective: each rank makes the same calls in the same order with the same
 * counts.
 *
 * <p><b>Failure.</b> No call waits forever: a call that a peer does not join within {@link #timeout()}, or that a
 * peer left (closed, died, lost its connection), throws {@link CommunicatorException} naming the operation and, where
 * known, the peer; after that the group is broken and every further call throws at once. A data-parallel job is
 * restarted as a whole (Spark's barrier execution mode restarts all tasks of the stage), so there is no recovery
 * inside a group.
 *
 * <p>Buffers are segments of floats (heap or off-heap; transports that hand memory to native code may require
 * off-heap). Float sums in {@link #reduceScatter} are each transport's own order, the same for every call of a
 * group of a given size, so a run is bitwise reproducible for a fixed size.
 *
 * <pre>{@code
 * comm.reduceScatter(grads, mySlice, sliceLength);   // mySlice[i] = sum over ranks q of grads_q[rank * sliceLength + i]
 * double[] parts = comm.allGather(new double[] {partialSumOfSquares});
 * comm.allGather(mySlice, params, sliceLength);      // params[q * sliceLength + i] = slice_q[i]
 * }</pre>
 */
public interface Communicator extends AutoCloseable {
    /** This rank, in {@code [0, size())}. */
    int rank();

    /** Ranks in the group. */
    int size();

    /** How long a call waits for its peers before it fails. */
    Duration timeout();

    /**
     * Sums {@code send} (of {@code size() * count} floats, rank q's block at {@code q * count}) over all ranks and
     * leaves this rank's block of the sum in {@code recv} ({@code count} floats). {@code send} is not changed.
     */
    void reduceScatter(MemorySegment send, MemorySegment recv, long count);

    /**
     * Concatenates every rank's {@code send} ({@code count} floats) in rank order into {@code recv}
     * ({@code size() * count} floats).
     */
    void allGather(MemorySegment send, MemorySegment recv, long count);

    /**
     * {@link #allGather(MemorySegment, MemorySegment, long)} of 16-bit elements (bfloat16 or float16 bits):
     * {@code count} elements of 2 bytes from every rank, concatenated in rank order into {@code recv}
     * ({@code size() * count} elements). An all-gather only moves bits (it adds nothing), so the elements travel
     * as {@code count / 2} 32-bit words through the float all-gather: {@code count} must be even (a
     * {@link RankSlices} slice length is a multiple of 16).
     *
     * <pre>{@code
     * comm.allGather16(mySliceBf16, paramsBf16, sliceLength);   // 2 bytes per parameter on the wire
     * }</pre>
     */
    default void allGather16(MemorySegment send, MemorySegment recv, long count) {
        if (count < 0 || count % 2 != 0) {
            throw new IllegalArgumentException("allGather16: count must be even and >= 0 (16-bit elements travel in"
                    + " pairs, as 32-bit words), got " + count);
        }
        allGather(send, recv, count / 2);
    }

    /**
     * Every rank's {@code send} (all of one length), concatenated in rank order into {@code recv}: rank q's at
     * {@code q * send.length}; {@code recv} holds at least {@code size() * send.length} values. Allocates nothing
     * of its own (the sharded step's norm exchange uses this form).
     */
    void allGather(double[] send, double[] recv);

    /** Every rank's {@code values} (all of one length), concatenated in rank order: rank q's at {@code q * length}. */
    default double[] allGather(double[] values) {
        if (values == null) {
            throw new IllegalArgumentException("allGather: values must not be null");
        }
        double[] out = new double[size() * values.length];
        allGather(values, out);
        return out;
    }

    /**
     * The element-wise sum of every rank's {@code values}, added in rank order ({@code ((v_0 + v_1) + v_2) + ...}),
     * so every rank gets the same bits whatever order the transport moves them in.
     */
    default double[] allReduceSum(double[] values) {
        double[] all = allGather(values);
        double[] sum = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            double s = all[i];
            for (int q = 1; q < size(); q++) {
                s += all[q * values.length + i];
            }
            sum[i] = s;
        }
        return sum;
    }

    /** Returns once every rank has called it. */
    void barrier();

    /** Leaves the group: peers still waiting in a call fail (where the transport can tell them) instead of hanging. */
    @Override
    void close();
}
