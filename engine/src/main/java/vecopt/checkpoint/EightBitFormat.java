package vecopt.checkpoint;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import vecopt.kernel.BlockCodes;

/**
 * How a checkpoint holds 8-bit block-quantized Adam moments ({@code eightBitState()}, codes of
 * {@link BlockCodes}): the tensor names, the metadata keys and their values, and the exact decoding into float32.
 * For a tensor of at least {@code min_8bit_size} elements:
 * <ul>
 *   <li>{@code state/<tensor>/exp_avg}: {@code I8}, the signed codes of exp_avg divided by its block's scale, of the
 *       parameter's shape; {@code state/<tensor>/exp_avg.scale}: {@code F32} {@code [blocks]}, one scale per block
 *       of 256 elements counted from the tensor's first element (the last block may be shorter);</li>
 *   <li>{@code state/<tensor>/sqrt_exp_avg_sq}: {@code U8}, the unsigned codes of the <em>square root</em> of
 *       exp_avg_sq divided by its block's scale (named so that no reader takes it for exp_avg_sq itself);
 *       {@code state/<tensor>/sqrt_exp_avg_sq.scale}: {@code F32} {@code [blocks]}.</li>
 * </ul>
 * A smaller tensor keeps {@code state/<tensor>/exp_avg} and {@code state/<tensor>/exp_avg_sq} as {@code F32}, as
 * float32 state does. Metadata: {@code optimizer.min_8bit_size} (bitsandbytes' name), and per variable
 * {@code state.<variable>.block} ({@code 256}) and {@code state.<variable>.code} ({@link #SIGNED_CODE},
 * {@link #SQRT_CODE}).
 */
final class EightBitFormat {
    static final String MIN_SIZE = "optimizer.min_8bit_size";
    /** The signed code of exp_avg: sign, 4 exponent and 3 fraction bits, no subnormals, no NaN (BlockCodes). */
    static final String SIGNED_CODE = "vecopt-e4m3-signed";
    /** The unsigned code of sqrt(exp_avg_sq): 4 exponent and 4 fraction bits, 0 only for zero (BlockCodes). */
    static final String SQRT_CODE = "vecopt-e4m4-unsigned-sqrt";
    static final String SCALE = ".scale";
    /** The moments, in the order of the optimizer's state variables. */
    static final List<String> VARIABLES = List.of("exp_avg", "exp_avg_sq");
    /** The tensor names of their codes. */
    static final List<String> CODE_NAMES = List.of("exp_avg", "sqrt_exp_avg_sq");
    static final List<String> CODES = List.of(SIGNED_CODE, SQRT_CODE);
    static final List<Dtype> DTYPES = List.of(Dtype.I8, Dtype.U8);

    private EightBitFormat() {
    }

    static String blockKey(String variable) {
        return "state." + variable + ".block";
    }

    static String codeKey(String variable) {
        return "state." + variable + ".code";
    }

    /** Adds the 8-bit keys for threshold {@code minSize} to {@code m}. */
    static void metadata(Map<String, String> m, int minSize) {
        m.put(MIN_SIZE, Integer.toString(minSize));
        for (int v = 0; v < VARIABLES.size(); v++) {
            m.put(blockKey(VARIABLES.get(v)), Integer.toString(BlockCodes.BLOCK));
            m.put(codeKey(VARIABLES.get(v)), CODES.get(v));
        }
    }

    static long blocks(long length) {
        return (length + BlockCodes.BLOCK - 1) / BlockCodes.BLOCK;
    }

    /**
     * The file's 8-bit threshold, or 0 for a file without 8-bit state, after checking its block size and codes are
     * this reader's (a file of other blocks or codes is refused naming both).
     */
    static int check(String file, Map<String, String> meta) throws CheckpointException {
        String size = meta.get(MIN_SIZE);
        if (size == null) {
            return 0;
        }
        int saved;
        try {
            saved = Integer.parseInt(size);
            if (saved < 1) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new CheckpointException(file + ": __metadata__ '" + MIN_SIZE + "' must be an integer >= 1, got '"
                    + size + "'");
        }
        for (int v = 0; v < VARIABLES.size(); v++) {
            String block = meta.get(blockKey(VARIABLES.get(v))), code = meta.get(codeKey(VARIABLES.get(v)));
            if (!Integer.toString(BlockCodes.BLOCK).equals(block)) {
                throw new CheckpointException(file + ": 8-bit state '" + VARIABLES.get(v) + "' has blocks of " + block
                        + " elements in the checkpoint ('" + blockKey(VARIABLES.get(v)) + "') but "
                        + BlockCodes.BLOCK + " here");
            }
            if (!CODES.get(v).equals(code)) {
                throw new CheckpointException(file + ": 8-bit state '" + VARIABLES.get(v) + "' is coded '" + code
                        + "' in the checkpoint ('" + codeKey(VARIABLES.get(v)) + "') but '" + CODES.get(v) + "' here");
            }
        }
        return saved;
    }

    /**
     * Decodes {@code codes} (one byte each) with {@code scales} (one float per block) into {@code length} floats at
     * the start of {@code dst}: variable 0 (exp_avg) as {@code decodeSigned(code) * scale}, variable 1 (exp_avg_sq)
     * as the square of {@code decodeUnsigned(code) * scale}: the float operations of the 8-bit step's decode, so each
     * float32 value is the one that step works with.
     */
    static void decode(int variable, MemorySegment codes, float[] scales, long length, MemorySegment dst) {
        for (long i = 0; i < length; i++) {
            int code = codes.get(ValueLayout.JAVA_BYTE, i);
            float scale = scales[(int) (i / BlockCodes.BLOCK)];
            float r = (variable == 0 ? BlockCodes.decodeSigned(code) : BlockCodes.decodeUnsigned(code)) * scale;
            dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED, i * Float.BYTES, variable == 0 ? r : r * r);
        }
    }
}
