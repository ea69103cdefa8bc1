package vecopt.checkpoint;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import vecopt.kernel.BlockCodes;
import vecopt.kernel.DynamicMap;
import vecopt.optim.EightBitCode;

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
 *
 * <p>bitsandbytes' dynamic maps ({@code EightBitCode.BITSANDBYTES_DYNAMIC}) are held the same way with their own
 * names and codes: {@code state/<tensor>/exp_avg} {@code U8} (indices into {@code create_dynamic_map(signed=True)},
 * as bitsandbytes' {@code state1}), {@code state/<tensor>/exp_avg_sq} {@code U8} (indices into
 * {@code create_dynamic_map(signed=False)} of exp_avg_sq itself, as its {@code state2}), each with its {@code .scale}
 * (its {@code absmax1}, {@code absmax2}); codes {@link #DYNAMIC_SIGNED_CODE}, {@link #DYNAMIC_UNSIGNED_CODE}. A file
 * of one code never loads into 8-bit state of the other (their bytes mean different values); either decodes exactly
 * into float32 state.
 */
final class EightBitFormat {
    static final String MIN_SIZE = "optimizer.min_8bit_size";
    /** The signed code of exp_avg: sign, 4 exponent and 3 fraction bits, no subnormals, no NaN (BlockCodes). */
    static final String SIGNED_CODE = "vecopt-e4m3-signed";
    /** The unsigned code of sqrt(exp_avg_sq): 4 exponent and 4 fraction bits, 0 only for zero (BlockCodes). */
    static final String SQRT_CODE = "vecopt-e4m4-unsigned-sqrt";
    /** bitsandbytes' {@code create_dynamic_map(signed=True)}, of exp_avg (DynamicMap). */
    static final String DYNAMIC_SIGNED_CODE = "bitsandbytes-dynamic-signed";
    /** bitsandbytes' {@code create_dynamic_map(signed=False)}, of exp_avg_sq itself (DynamicMap). */
    static final String DYNAMIC_UNSIGNED_CODE = "bitsandbytes-dynamic-unsigned";
    static final String SCALE = ".scale";
    /** The moments, in the order of the optimizer's state variables. */
    static final List<String> VARIABLES = List.of("exp_avg", "exp_avg_sq");

    /**
     * One code's layout in a file: the tensor names of the moments' codes, their dtypes and the codes' names in the
     * metadata, in the order of {@link #VARIABLES}.
     */
    record Layout(EightBitCode code, List<String> codeNames, List<Dtype> dtypes, List<String> codes) {
        /**
         * The float32 value code {@code code} of variable {@code variable} stands for with its block's
         * {@code scale}: the float operations of the 8-bit step's decode, so each value is the one that step works
         * with (vecopt's code of exp_avg_sq holds its square root: squared).
         */
        float decode(int variable, int code, float scale) {
            if (this.code == EightBitCode.BITSANDBYTES_DYNAMIC) {
                return (variable == 0 ? DynamicMap.decodeSigned(code) : DynamicMap.decodeUnsigned(code)) * scale;
            }
            float r = (variable == 0 ? BlockCodes.decodeSigned(code) : BlockCodes.decodeUnsigned(code)) * scale;
            return variable == 0 ? r : r * r;
        }
    }

    static final Layout FLOAT_CODES = new Layout(EightBitCode.FLOAT_CODES, List.of("exp_avg", "sqrt_exp_avg_sq"),
            List.of(Dtype.I8, Dtype.U8), List.of(SIGNED_CODE, SQRT_CODE));
    static final Layout DYNAMIC_MAPS = new Layout(EightBitCode.BITSANDBYTES_DYNAMIC, List.of("exp_avg", "exp_avg_sq"),
            List.of(Dtype.U8, Dtype.U8), List.of(DYNAMIC_SIGNED_CODE, DYNAMIC_UNSIGNED_CODE));

    /** What a file's metadata says of its 8-bit state: the size threshold and the layout. */
    record Saved(int minSize, Layout layout) {
    }

    private EightBitFormat() {
    }

    static Layout of(EightBitCode code) {
        return code == EightBitCode.BITSANDBYTES_DYNAMIC ? DYNAMIC_MAPS : FLOAT_CODES;
    }

    static String blockKey(String variable) {
        return "state." + variable + ".block";
    }

    static String codeKey(String variable) {
        return "state." + variable + ".code";
    }

    /** Adds the 8-bit keys for threshold {@code minSize} and the layout of {@code code} to {@code m}. */
    static void metadata(Map<String, String> m, int minSize, EightBitCode code) {
        Layout l = of(code);
        m.put(MIN_SIZE, Integer.toString(minSize));
        for (int v = 0; v < VARIABLES.size(); v++) {
            m.put(blockKey(VARIABLES.get(v)), Integer.toString(BlockCodes.BLOCK));
            m.put(codeKey(VARIABLES.get(v)), l.codes().get(v));
        }
    }

    static long blocks(long length) {
        return (length + BlockCodes.BLOCK - 1) / BlockCodes.BLOCK;
    }

    /**
     * The file's 8-bit threshold and layout, or null for a file without 8-bit state, after checking its block size
     * and codes are ones this reader knows (a file of other blocks or codes is refused naming them).
     */
    static Saved check(String file, Map<String, String> meta) throws CheckpointException {
        String size = meta.get(MIN_SIZE);
        if (size == null) {
            return null;
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
        String first = meta.get(codeKey(VARIABLES.get(0)));
        Layout layout = DYNAMIC_MAPS.codes().get(0).equals(first) ? DYNAMIC_MAPS : FLOAT_CODES;
        for (int v = 0; v < VARIABLES.size(); v++) {
            String block = meta.get(blockKey(VARIABLES.get(v))), code = meta.get(codeKey(VARIABLES.get(v)));
            if (!Integer.toString(BlockCodes.BLOCK).equals(block)) {
                throw new CheckpointException(file + ": 8-bit state '" + VARIABLES.get(v) + "' has blocks of " + block
                        + " elements in the checkpoint ('" + blockKey(VARIABLES.get(v)) + "') but "
                        + BlockCodes.BLOCK + " here");
            }
            if (!layout.codes().get(v).equals(code)) {
                throw new CheckpointException(file + ": 8-bit state '" + VARIABLES.get(v) + "' is coded '" + code
                        + "' in the checkpoint ('" + codeKey(VARIABLES.get(v)) + "'), which this reader does not"
                        + " know: it reads '" + FLOAT_CODES.codes().get(v) + "' and '" + DYNAMIC_MAPS.codes().get(v)
                        + "'" + (v > 0 ? " (with '" + layout.codes().get(0) + "' for '" + VARIABLES.get(0) + "': '"
                        + layout.codes().get(v) + "')" : ""));
            }
        }
        return new Saved(saved, layout);
    }

    /**
     * Decodes {@code codes} (one byte each) of variable {@code variable} in layout {@code layout} with
     * {@code scales} (one float per block) into {@code length} floats at the start of {@code dst}
     * ({@link Layout#decode}).
     */
    static void decode(Layout layout, int variable, MemorySegment codes, float[] scales, long length,
                       MemorySegment dst) {
        for (long i = 0; i < length; i++) {
            int code = codes.get(ValueLayout.JAVA_BYTE, i);
            float value = layout.decode(variable, code, scales[(int) (i / BlockCodes.BLOCK)]);
            dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED, i * Float.BYTES, value);
        }
    }
}
