package vecopt.checkpoint;

import java.nio.file.Path;
import java.util.Map;

/**
 * A checkpoint file whose tensors are pieces of whole tensors (one shard of a sharded run): {@code starts} maps each
 * tensor name in the file to the element of the whole tensor its piece begins at (the piece's length is the file's
 * tensor's). For {@link Checkpoint#loadPieces}.
 *
 * <pre>{@code
 * // rank 1's shard of a run cut in two: the second half of "emb.weight", all of "fc.bias"
 * new PieceFile(Path.of("rank-1-of-2.safetensors"), Map.of("emb.weight", 35_000L, "fc.bias", 0L))
 * }</pre>
 *
 * @param path   the checkpoint file
 * @param starts tensor name to the first element of its piece, counted in the whole tensor
 */
public record PieceFile(Path path, Map<String, Long> starts) {
    public PieceFile {
        if (path == null) {
            throw new IllegalArgumentException("path must not be null");
        }
        if (starts == null) {
            throw new IllegalArgumentException("starts must not be null");
        }
        starts = Map.copyOf(starts);
        for (Map.Entry<String, Long> e : starts.entrySet()) {
            if (e.getValue() < 0) {
                throw new IllegalArgumentException("start of tensor '" + e.getKey() + "' in " + path
                        + " must be >= 0, got " + e.getValue());
            }
        }
    }
}
