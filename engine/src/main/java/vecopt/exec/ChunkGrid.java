package vecopt.exec;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import vecopt.kernel.Chunk;
import vecopt.memory.Storage;
import vecopt.param.Tensor;

/**
 * Cuts tensor ranges into the fixed grid of chunks the kernels run on. Cuts inside a merged range sit at multiples
 * of {@link #CHUNK} elements of the buffer (so 64-byte aligned in an aligned buffer, and a whole number of vectors
 * for every species); a range's first and last chunk start and end where the range does. A per-tensor grid (the
 * optimizers whose sums are per tensor, and 8-bit state) is cut at multiples counted from the tensor's own first
 * element instead, so that a tensor's chunks, and with them the order of its sums, are the same whatever the
 * storage of its state (8-bit blocks must start a whole number of blocks into the tensor). The grid never depends on
 * the number of threads: a chunk is the unit of work and of partial sums, which is what makes results identical for
 * any pool size.
 */
public final class ChunkGrid {
    /** Elements per chunk: 64 Ki floats, 256 KiB per array, so a chunk of AdamW's 7 streams fits in L2/L3 slices. */
    public static final int CHUNK = 1 << 16;
    /**
     * Most ranges one work item packs: with tensors of a few elements, 1024 pieces are some tens of microseconds of
     * work, so a step of many tiny tensors still splits into enough items to keep every thread busy to the end.
     */
    public static final int MAX_PIECES = 1024;

    private ChunkGrid() {
    }

    /** A range of one buffer: {@code [start, start + length)} of the buffers of {@code tensor}. */
    public record Range(Tensor tensor, long start, int length) {
    }

    /**
     * The chunk ranges covering {@code tensors}: ranges adjacent in one buffer are merged first (a model in one
     * flat buffer then runs as long contiguous chunks), then cut at the grid. Order: by buffer (order of first
     * appearance), then by offset.
     */
    public static List<Range> cut(List<Tensor> tensors, int chunk) {
        return cut(tensors, chunk, true);
    }

    /**
     * The ranges of each tensor on its own, cut at multiples of {@code chunk} counted from the tensor's first element
     * (not the buffer's): every range lies in one tensor and starts a whole number of {@code chunk}s into it, as
     * per-tensor blocks of 8-bit optimizer state need (a block must not straddle two chunks). Tensors in the order
     * given; empty tensors skipped.
     */
    public static List<Range> cutTensors(List<Tensor> tensors, int chunk) {
        if (chunk <= 0 || chunk % 256 != 0) {
            throw new IllegalArgumentException("chunk must be a positive multiple of 256, got " + chunk);
        }
        List<Range> out = new ArrayList<>();
        for (Tensor t : tensors) {
            for (long at = 0; at < t.length(); at += chunk) {
                out.add(new Range(t, t.offset() + at, (int) Math.min(chunk, t.length() - at)));
            }
        }
        return out;
    }

    /**
     * As {@link #cut(List, int)}; with {@code merge} false adjacent tensors are not merged, so every range lies in
     * one tensor ({@link Range#tensor()} is its tensor): for optimizers with per-tensor sums (the trust ratios of
     * LAMB and LARS, Adafactor's means). A tensor's ranges are consecutive in the result, cut at multiples of
     * {@code chunk} counted from the tensor's first element, as {@link #cutTensors} cuts: the chunks of 8-bit state
     * and of float32 or bfloat16 state are then the same, and so are the tensor's sums, bit for bit.
     */
    public static List<Range> cut(List<Tensor> tensors, int chunk, boolean merge) {
        if (chunk <= 0 || chunk % 64 != 0) {
            throw new IllegalArgumentException("chunk must be a positive multiple of 64, got " + chunk);
        }
        // Grouped by buffer in one pass, then each buffer's tensors sorted by offset: a comparator that looked the
        // buffer's rank up in a map on every comparison was a visible part of building an optimizer of 100,000 tensors.
        Map<Storage, List<Tensor>> byBuffer = new IdentityHashMap<>(tensors.size());
        List<List<Tensor>> inOrder = new ArrayList<>();
        for (Tensor t : tensors) {
            if (t.length() == 0) {
                continue;
            }
            List<Tensor> list = byBuffer.get(t.params());
            if (list == null) {
                list = new ArrayList<>(1);
                byBuffer.put(t.params(), list);
                inOrder.add(list);
            }
            list.add(t);
        }
        List<Tensor> sorted = new ArrayList<>(tensors.size());
        for (List<Tensor> list : inOrder) {
            if (list.size() > 1) {
                list.sort(Comparator.comparingLong(Tensor::offset));
            }
            sorted.addAll(list);
        }
        List<Range> out = new ArrayList<>();
        int i = 0;
        while (i < sorted.size()) {
            Tensor first = sorted.get(i);
            long start = first.offset();
            long end = first.end();
            int j = i + 1;
            while (merge && j < sorted.size() && sorted.get(j).params() == first.params()
                    && sorted.get(j).offset() == end) {
                end = sorted.get(j).end();
                j++;
            }
            long base = merge ? 0 : start; // per tensor: the grid counted from the tensor's first element
            for (long s = start; s < end; ) {
                long gridEnd = base + ((s - base) / chunk + 1) * chunk;
                long e = Math.min(end, gridEnd);
                out.add(new Range(first, s, (int) (e - s)));
                s = e;
            }
            i = j;
        }
        return out;
    }

    /** Makes the chunk a kernel runs for range {@code index} of the input, which work item {@code item} holds. */
    @FunctionalInterface
    public interface ChunkMaker {
        Chunk make(Range range, int index, int item);
    }

    /**
     * The ranges of {@code tensors} cut at the grid and packed into work items ({@link #pack} with the grid's
     * target and {@link #MAX_PIECES}), each range made a chunk: {@code items[i]} are the chunks of work item i, in
     * order.
     */
    public static Chunk[][] items(List<Range> ranges, ChunkMaker maker) {
        List<List<Range>> packed = pack(ranges, CHUNK, MAX_PIECES);
        Chunk[][] items = new Chunk[packed.size()][];
        int index = 0;
        for (int i = 0; i < items.length; i++) {
            List<Range> pieces = packed.get(i);
            items[i] = new Chunk[pieces.size()];
            for (int j = 0; j < items[i].length; j++) {
                items[i][j] = maker.make(pieces.get(j), index++, i);
            }
        }
        return items;
    }

    /**
     * Groups consecutive ranges into work items: a work item takes ranges in order until the next one would bring it
     * past {@code target} elements or {@code maxPieces} ranges, so a model of thousands of small tensors runs as a
     * few hundred work items (the per-step overhead is per item, not per tensor) while a full grid chunk is an item
     * of its own. Like the grid, the packing depends only on the ranges, never on the number of threads.
     */
    private static List<List<Range>> pack(List<Range> ranges, int target, int maxPieces) {
        List<List<Range>> items = new ArrayList<>();
        List<Range> current = new ArrayList<>();
        long size = 0;
        for (Range r : ranges) {
            if (!current.isEmpty() && (size + r.length() > target || current.size() == maxPieces)) {
                items.add(List.copyOf(current));
                current.clear();
                size = 0;
            }
            current.add(r);
            size += r.length();
        }
        if (!current.isEmpty()) {
            items.add(List.copyOf(current));
        }
        return items;
    }
}
