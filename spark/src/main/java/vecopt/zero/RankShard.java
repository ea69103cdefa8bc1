package vecopt.zero;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * One rank's own copy of its slice: the parameters (in the model's type; for 16-bit ones the rank's optimizer keeps the
 * float32 master as its state {@code master_param}) and the reduced float32 gradients of the pieces it owns, in
 * buffers of its own, as a {@link ParamSet} whose tensors carry the names of the tensors they are pieces of (so an
 * optimizer's group selectors by name work unchanged). The rank's optimizer is built over {@link #params()}, so its
 * state covers the slice only: that is ZeRO stage 1's saving.
 *
 * <p>Layout. With several ranks: one parameter and one gradient buffer of {@code sliceLength} floats, each piece at
 * its offset in the slice, so the state is exactly the slice's, with no gap or padding whatever the model's layout.
 * With one rank: one buffer pair per model buffer, covering the touched range {@code [lo, hi)} of it (gaps kept),
 * preceded by {@code lo mod 65536} floats, so every piece sits where it sits in the model's buffer relative to the
 * engine's fixed grid of 64 Ki-element chunks: the optimizer's norm pass then cuts and adds exactly as the
 * single-process optimizer's does, the global norm and so the clipping coefficient have the same bits, and one rank
 * is the single process bit for bit (never more memory than the model's buffers). With several ranks no norm is
 * bitwise the single process's anyway: the partial sums are cut at the slices.
 */
final class RankShard {
    /** The engine's chunk grid (64 Ki floats: "Threads and determinism" in the README). */
    static final long CHUNK = 1 << 16;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;

    /** Where a piece of the slice lives: its offset in the contiguous slice, and its tensor in this shard. */
    private record Place(long sliceOffset, Tensor shardTensor) {
    }

    private final ParamSet params;
    private final List<Place> places;
    private final long bufferFloats;
    private final Dtype paramType;

    RankShard(RankSlices slices, int rank, Arena arena) {
        List<RankSlices.Piece> pieces = slices.pieces(rank);
        long sliceStart = rank * slices.sliceLength();
        boolean mirror = slices.ranks() == 1;
        this.paramType = paramType(slices.params());
        long elementBytes = paramType.bytes();
        // Per shard buffer: the model buffer it stands for (the first piece's, when all share one), and the model
        // offset that maps to its element pad.
        Map<Storage, long[]> ranges = new IdentityHashMap<>(); // model buffer -> {lo, hi} (mirror only)
        List<Storage> order = new ArrayList<>();
        for (RankSlices.Piece p : pieces) {
            Tensor t = p.tensor();
            Storage key = mirror ? t.params() : pieces.get(0).tensor().params();
            long a = t.offset() + p.from();
            long b = a + p.length();
            long[] r = ranges.get(key);
            if (r == null) {
                ranges.put(key, new long[] {a, b});
                order.add(key);
            } else {
                r[0] = Math.min(r[0], a);
                r[1] = Math.max(r[1], b);
            }
        }
        Map<Storage, Storage[]> own = new IdentityHashMap<>();
        long floats = 0;
        for (Storage model : order) {
            long[] r = ranges.get(model);
            long length = mirror ? r[0] % CHUNK + (r[1] - r[0]) : slices.sliceLength();
            // Parameters in the model's type (the optimizer keeps the float32 master of 16-bit ones as its state);
            // gradients always float32: they receive the float32 mean of the reduce-scatter.
            own.put(model, new Storage[] {allocate(model, arena, length), model.allocateLike(arena, length)});
            floats += length;
        }
        this.bufferFloats = floats;
        List<Tensor> tensors = new ArrayList<>(pieces.size());
        List<Place> placed = new ArrayList<>(pieces.size());
        for (RankSlices.Piece p : pieces) {
            Tensor t = p.tensor();
            Storage key = mirror ? t.params() : pieces.get(0).tensor().params();
            long[] r = ranges.get(key);
            Storage[] s = own.get(key);
            long at = mirror ? r[0] % CHUNK + (t.offset() + p.from() - r[0]) : p.flatOffset() - sliceStart;
            Tensor piece = new Tensor(t.name(), s[0], s[1], at, p.length());
            tensors.add(piece);
            placed.add(new Place(p.flatOffset() - sliceStart, piece));
            // The shard's parameters (and so the optimizer's master, where it keeps one) start as the model's values.
            MemorySegment.copy(t.params().segment(), (t.offset() + p.from()) * elementBytes, s[0].segment(),
                    at * elementBytes, p.length() * elementBytes);
        }
        this.params = ParamSet.of(tensors);
        this.places = List.copyOf(placed);
    }

    /** The slice's pieces over this shard's buffers: what the rank's optimizer is built over. */
    ParamSet params() {
        return params;
    }

    /** Floats per buffer role (parameters, gradients, each state variable) this shard holds, padding included. */
    long bufferFloats() {
        return bufferFloats;
    }

    /**
     * Sets the shard's gradients to the mean of the ranks' gradients: {@code reduced} (this rank's block of the
     * reduce-scatter, a sum over {@code ranks}) divided by {@code ranks}, one float division per element (exact for
     * one rank, and for any power of two above the subnormal range).
     */
    void takeMeanGradients(MemorySegment reduced, int ranks) {
        float n = ranks;
        for (Place p : places) {
            Tensor t = p.shardTensor();
            MemorySegment g = t.grads().segment();
            long src = p.sliceOffset() * Float.BYTES;
            long dst = t.offset() * Float.BYTES;
            for (long i = 0; i < t.length(); i++) {
                g.set(FLOAT, dst + i * Float.BYTES, reduced.get(FLOAT, src + i * Float.BYTES) / n);
            }
        }
    }

    /**
     * Writes the shard's parameters into {@code slice} (the contiguous slice, in the parameters' type: 2 bytes an
     * element for 16-bit ones; padding left as it is).
     */
    void putParams(MemorySegment slice) {
        long bytes = paramType.bytes();
        for (Place p : places) {
            Tensor t = p.shardTensor();
            MemorySegment.copy(t.params().segment(), t.offset() * bytes, slice, p.sliceOffset() * bytes,
                    t.length() * bytes);
        }
    }

    /** The model's parameter type: float32, or a 16-bit type whose float32 master the rank's optimizer keeps. */
    Dtype paramType() {
        return paramType;
    }

    /**
     * The one parameter type of every tensor of {@code model}: a collective moves one element size, and the engine's
     * optimizer takes one parameter type per set.
     */
    static Dtype paramType(ParamSet model) {
        List<Tensor> tensors = model.tensors();
        Dtype type = tensors.get(0).params().dtype();
        for (Tensor t : tensors) {
            if (t.params().dtype() != type) {
                throw new IllegalArgumentException("every tensor's parameters must be of one type for sharding: "
                        + tensors.get(0).name() + " is " + type.torchName() + ", " + t.name() + " is "
                        + t.params().dtype().torchName());
            }
        }
        return type;
    }

    /** A zeroed buffer of {@code length} elements of {@code model}'s type and kind (heap or off-heap). */
    private static Storage allocate(Storage model, Arena arena, long length) {
        if (model.dtype() == Dtype.FLOAT32) {
            return model.allocateLike(arena, length);
        }
        if (model.isNative()) {
            return Storage.allocate(arena, length, model.dtype());
        }
        if (length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a heap buffer holds at most 2^31-9 elements, got " + length);
        }
        return Storage.of(new short[(int) length], model.dtype());
    }
}
