package vecopt.exec;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import vecopt.param.Tensor;

/**
 * Cuts tensor ranges into the fixed grid of chunks the kernels run on. Cuts inside a range sit at multiples of
 * {@link #CHUNK} elements of the buffer (so 64-byte aligned in an aligned buffer, and a whole number of vectors for
 * every species); a range's first and last chunk start and end where the range does. The grid never depends on the
 * number of threads: a chunk is the unit of work and of partial sums, which is what makes results identical for any
 * pool size.
 */
public final class ChunkGrid {
    /** Elements per chunk: 64 Ki floats, 256 KiB per array, so a chunk of AdamW's 7 streams fits in L2/L3 slices. */
    public static final int CHUNK = 1 << 16;

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
        if (chunk <= 0 || chunk % 64 != 0) {
            throw new IllegalArgumentException("chunk must be a positive multiple of 64, got " + chunk);
        }
        List<Object> bufferOrder = new ArrayList<>();
        for (Tensor t : tensors) {
            if (bufferOrder.stream().noneMatch(b -> b == t.params())) {
                bufferOrder.add(t.params());
            }
        }
        List<Tensor> sorted = new ArrayList<>(tensors);
        sorted.removeIf(t -> t.length() == 0);
        sorted.sort(Comparator.<Tensor>comparingInt(t -> indexOf(bufferOrder, t.params()))
                .thenComparingLong(Tensor::offset));
        List<Range> out = new ArrayList<>();
        int i = 0;
        while (i < sorted.size()) {
            Tensor first = sorted.get(i);
            long start = first.offset();
            long end = first.end();
            int j = i + 1;
            while (j < sorted.size() && sorted.get(j).params() == first.params() && sorted.get(j).offset() == end) {
                end = sorted.get(j).end();
                j++;
            }
            for (long s = start; s < end; ) {
                long gridEnd = (s / chunk + 1) * chunk;
                long e = Math.min(end, gridEnd);
                out.add(new Range(first, s, (int) (e - s)));
                s = e;
            }
            i = j;
        }
        return out;
    }

    private static int indexOf(List<Object> list, Object o) {
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == o) {
                return i;
            }
        }
        return -1;
    }
}
