package vecopt.checkpoint;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * How one tensor of a checkpoint fills a {@link TrainingState.Part} of an optimizer on {@link Checkpoint#load}:
 * copied from {@code entry} (widened where the part is float32 and the entry 16-bit; 8-bit codes byte for byte), or,
 * with {@code scales}, decoded from the 8-bit codes of {@code entry} into float32 state. The checks that decide
 * which (dtype, shape, what a missing tensor's place holds instead) run before anything in memory changes.
 */
record Fill(TrainingState.Part part, TensorEntry entry, TensorEntry scales, EightBitFormat.Layout layout) {
    /** Writes the part's memory from {@code f}; called only once every fill of the load was checked. */
    void run(SafetensorsFile f) throws IOException {
        TrainingState.Part p = part;
        if (scales != null) {
            float[] s = new float[Math.toIntExact(scales.elements())];
            f.copyFloats(scales, MemorySegment.ofArray(s), 0);
            EightBitFormat.decode(layout, layout.variables().indexOf(p.variable()), f.bytes(entry), s,
                    p.length(), p.segment());
        } else if (p.memory() == null) { // 8-bit codes: bytes as they are
            MemorySegment.copy(f.bytes(entry), 0, p.segment(), 0, p.segment().byteSize());
        } else {
            f.copy(entry, 0, p.length(), p.segment(), p.memory(), 0);
        }
    }

    /**
     * For a float32 state variable {@code p} (exp_avg, momentum_buffer, ...) of a file with 8-bit state: its decoding from the file's
     * codes and scales when the file holds codes for it, else null (a tensor below the threshold there: F32).
     */
    static Fill decoding(String file, SafetensorsFile f, TrainingState.Part p, EightBitFormat.Layout layout)
            throws CheckpointException {
        int v = layout.variables().indexOf(p.variable());
        if (!p.name().startsWith(TrainingState.STATE) || v < 0 || p.memory() == null) {
            return null;
        }
        String base = p.name().substring(0, p.name().lastIndexOf('/') + 1) + layout.codeName(v);
        TensorEntry codes = f.tensor(base);
        if (codes == null || codes.dtype() != layout.dtype(v)) {
            return null; // F32 in the file (or another dtype, which the ordinary checks refuse naming it)
        }
        if (p.memory() != vecopt.memory.Dtype.FLOAT32) {
            throw new CheckpointException(file + ": tensor '" + base + "' is " + codes.dtype() + " (8-bit"
                    + " block-quantized codes) in the checkpoint but state '" + p.variable() + "' is "
                    + p.memory().torchName() + " here: decoding gives floats, which " + p.memory().torchName()
                    + " would round (refused; 8-bit state loads into 8-bit or float32 state)");
        }
        TensorEntry scales = f.tensor(base + EightBitFormat.SCALE);
        long blocks = EightBitFormat.blocks(p.length());
        if (scales == null || scales.dtype() != Dtype.F32 || !Arrays.equals(scales.shape(), new long[] {blocks})) {
            throw new CheckpointException(file + ": tensor '" + base + EightBitFormat.SCALE + "' is "
                    + (scales == null ? "missing" : scales.dtype() + " " + Arrays.toString(scales.shape()))
                    + ", expected F32 [" + blocks + "] (one scale per block of the codes of '" + base + "')");
        }
        checkShape(file, codes, p);
        return new Fill(p, codes, scales, layout);
    }

    /** A tensor's shape must be the part's, or flat [length] where the part allows it. */
    static void checkShape(String file, TensorEntry e, TrainingState.Part p) throws CheckpointException {
        // The tensor's declared shape, or flat [length]: files written before tensors had shapes, and converters that
        // flatten, hold the same row-major elements.
        if (!Arrays.equals(e.shape(), p.shape())
                && !(p.flat() && Arrays.equals(e.shape(), new long[] {p.length()}))) {
            throw new CheckpointException(file + ": tensor '" + e.name() + "' has shape " + Arrays.toString(e.shape())
                    + ", expected " + Arrays.toString(p.shape())
                    + (p.shape().length == 1 || !p.flat() ? "" : " (or [" + p.length() + "])"));
        }
    }

    /**
     * What the file holds instead of missing part {@code p}, where that says why: float32 moments where this
     * optimizer keeps 8-bit codes (loading would quantize), or Adafactor's state of the other layout (the tensor
     * was factored there and is not here, or the reverse: its shape differs).
     */
    static String missingHint(SafetensorsFile f, TrainingState.Part p) {
        String dir = p.name().substring(0, p.name().lastIndexOf('/') + 1);
        String v = p.variable();
        String other = switch (v) {
            case "exp_avg_sq_row", "exp_avg_sq_col" -> "exp_avg_sq";
            case "exp_avg_sq" -> "exp_avg_sq_row";
            default -> { // 8-bit codes or scales: the variable itself, stored as floats there
                String base = v.endsWith(EightBitFormat.SCALE) ? v.substring(0, v.length() - EightBitFormat.SCALE.length()) : v;
                base = base.startsWith(EightBitFormat.SQRT) ? base.substring(EightBitFormat.SQRT.length()) : base;
                yield base.equals(v) ? null : base;
            }
        };
        TensorEntry e = other == null ? null : f.tensor(dir + other);
        if (e == null) {
            return "";
        }
        if (v.startsWith("exp_avg_sq_")) {
            return "; the checkpoint holds '" + dir + other + "' " + Arrays.toString(e.shape()) + " instead: the tensor"
                    + " is factored here (rank >= 2, shape " + Arrays.toString(p.shape()) + " of its exp_avg_sq_"
                    + (v.endsWith("row") ? "row" : "col") + ") but was not there";
        }
        if (v.equals("exp_avg_sq")) {
            return "; the checkpoint holds '" + dir + other + "' " + Arrays.toString(e.shape()) + " instead: the tensor"
                    + " is not factored here (1-D) but was there";
        }
        return "; the checkpoint holds '" + dir + other + "' as " + e.dtype() + " instead, and this optimizer keeps it"
                + " 8-bit block-quantized: loading would quantize it (refused, as narrowing is)";
    }
}
