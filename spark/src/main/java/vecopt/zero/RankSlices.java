package vecopt.zero;

import java.util.ArrayList;
import java.util.List;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * The cut of a parameter set's flat parameter space into {@code ranks} contiguous slices, one per data-parallel rank,
 * as ZeRO stage 1 shards optimizer state (Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion
 * Parameter Models", SC 2020): rank r owns the elements {@code [r * sliceLength, (r + 1) * sliceLength)} of the
 * concatenation of all tensors in parameter-set order, so a slice cuts across tensors, buffers and parameter groups.
 *
 * <p>Every slice has the same length, a multiple of {@link #ALIGN} floats (one 512-bit vector), because the
 * collectives exchange equal blocks: the flat space is padded to {@code ranks * sliceLength} (the padding is zero and
 * belongs to no tensor), so the last slice may be partly or wholly padding. Slice boundaries fall on multiples of 16
 * of the flat index, so each rank's block of a collective's buffer starts on a cache line.
 *
 * <pre>{@code
 * RankSlices slices = RankSlices.of(params, 4);
 * for (RankSlices.Piece p : slices.pieces(rank)) {
 *     // p.tensor()'s elements [p.from(), p.from() + p.length()) are this rank's, at p.flatOffset() of the flat space
 * }
 * }</pre>
 */
public final class RankSlices {
    /** Floats a slice length is a multiple of: one 512-bit vector, one 64-byte cache line. */
    public static final int ALIGN = 16;

    /**
     * The part of one tensor inside one rank's slice.
     *
     * @param tensor     the whole tensor, as in the parameter set
     * @param from       first element of the piece, counted within the tensor (0 = the tensor's first element)
     * @param length     elements in the piece, at least 1
     * @param flatOffset the piece's first element in the flat parameter space
     */
    public record Piece(Tensor tensor, long from, long length, long flatOffset) {
    }

    private final ParamSet params;
    private final int ranks;
    private final long total;
    private final long sliceLength;
    private final long[] flatOffsets; // per tensor, in parameter-set order

    private RankSlices(ParamSet params, int ranks) {
        this.params = params;
        this.ranks = ranks;
        this.flatOffsets = new long[params.tensors().size()];
        long n = 0;
        for (int i = 0; i < flatOffsets.length; i++) {
            flatOffsets[i] = n;
            n += params.tensors().get(i).length();
        }
        this.total = n;
        long perRank = (n + ranks - 1) / ranks;
        this.sliceLength = (perRank + ALIGN - 1) / ALIGN * ALIGN;
    }

    /**
     * Slices {@code params} for {@code ranks} ranks.
     *
     * @throws IllegalArgumentException when {@code ranks < 1}, or the set has no elements
     */
    public static RankSlices of(ParamSet params, int ranks) {
        if (params == null) {
            throw new IllegalArgumentException("params must not be null");
        }
        if (ranks < 1) {
            throw new IllegalArgumentException("ranks must be >= 1, got " + ranks);
        }
        if (params.size() == 0) {
            throw new IllegalArgumentException("params must hold at least one element, got a set of "
                    + params.tensors().size() + " empty tensors");
        }
        return new RankSlices(params, ranks);
    }

    public ParamSet params() {
        return params;
    }

    public int ranks() {
        return ranks;
    }

    /** Elements of all tensors together (the flat space without its padding). */
    public long total() {
        return total;
    }

    /** Elements of every slice (padding included): a multiple of {@link #ALIGN}. */
    public long sliceLength() {
        return sliceLength;
    }

    /** {@code ranks() * sliceLength()}: the flat space with its padding, the length of a collective's buffer. */
    public long paddedTotal() {
        return ranks * sliceLength;
    }

    /** The flat offset of tensor {@code index} (in parameter-set order). */
    public long flatOffset(int index) {
        return flatOffsets[index];
    }

    /** Rank {@code rank}'s real elements (padding excluded): 0 for a rank whose slice is all padding. */
    public long owned(int rank) {
        checkRank(rank);
        long start = Math.min(total, rank * sliceLength);
        long end = Math.min(total, (rank + 1) * sliceLength);
        return end - start;
    }

    /** The tensor pieces of rank {@code rank}'s slice, in flat order (so in parameter-set order); empty pieces left out. */
    public List<Piece> pieces(int rank) {
        checkRank(rank);
        long start = rank * sliceLength;
        long end = Math.min(total, start + sliceLength);
        List<Piece> out = new ArrayList<>();
        List<Tensor> tensors = params.tensors();
        for (int i = 0; i < tensors.size(); i++) {
            long t0 = flatOffsets[i];
            long t1 = t0 + tensors.get(i).length();
            long a = Math.max(start, t0);
            long b = Math.min(end, t1);
            if (a < b) {
                out.add(new Piece(tensors.get(i), a - t0, b - a, a));
            }
        }
        return out;
    }

    private void checkRank(int rank) {
        if (rank < 0 || rank >= ranks) {
            throw new IllegalArgumentException("rank must be in [0, " + ranks + "), got " + rank);
        }
    }

    @Override
    public String toString() {
        return "RankSlices[" + ranks + " ranks, " + total + " elements, slices of " + sliceLength + "]";
    }
}
