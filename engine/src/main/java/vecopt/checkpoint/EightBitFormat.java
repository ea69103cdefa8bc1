package vecopt.checkpoint;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import vecopt.kernel.BlockCodes;
import vecopt.kernel.DynamicMap;
import vecopt.optim.EightBitCode;

/**
 * How a checkpoint holds 8-bit block-quantized optimizer state ({@code eightBitState()}, codes of
 * {@link BlockCodes}): the tensor names, the metadata keys and their values, and the exact decoding into float32.
 * Each state variable (PyTorch's name) is coded as itself or as its square root; for a tensor of at least
 * {@code min_8bit_size} elements:
 * <ul>
 *   <li>a variable coded as itself (exp_avg, momentum_buffer, Lion's exp_avg, RMSprop's grad_avg):
 *       {@code state/<tensor>/<variable>} {@code I8}, the signed codes of the variable divided by its block's scale,
 *       of the parameter's shape; {@code state/<tensor>/<variable>.scale}: {@code F32} {@code [blocks]}, one scale
 *       per block of 256 elements counted from the tensor's first element (the last block may be shorter);</li>
 *   <li>a variable coded as its square root (exp_avg_sq, square_avg, Adagrad's sum):
 *       {@code state/<tensor>/sqrt_<variable>} {@code U8}, the unsigned codes of the <em>square root</em> divided by
 *       its block's scale (named so that no reader takes it for the variable itself);
 *       {@code state/<tensor>/sqrt_<variable>.scale}: {@code F32} {@code [blocks]}.</li>
 * </ul>
 * A smaller tensor keeps {@code state/<tensor>/<variable>} as {@code F32}, as float32 state does. Metadata:
 * {@code optimizer.min_8bit_size} (bitsandbytes' name), and per variable {@code state.<variable>.block}
 * ({@code 256}) and {@code state.<variable>.code} ({@link #SIGNED_CODE}, {@link #SQRT_CODE}): a file says itself
 * which variables it codes and how.
 *
 * <p>bitsandbytes' dynamic maps ({@code EightBitCode.BITSANDBYTES_DYNAMIC}, AdamW and Adam) are held the same way
 * with their own names and codes: {@code state/<tensor>/exp_avg} {@code U8} (indices into
 * {@code create_dynamic_map(signed=True)}, as bitsandbytes' {@code state1}), {@code state/<tensor>/exp_avg_sq}
 * {@code U8} (indices into {@code create_dynamic_map(signed=False)} of exp_avg_sq itself, as its {@code state2}),
 * each with its {@code .scale} (its {@code absmax1}, {@code absmax2}); codes {@link #DYNAMIC_SIGNED_CODE},
 * {@link #DYNAMIC_UNSIGNED_CODE}. A file of one code never loads into 8-bit state of the other (their bytes mean
 * different values); either decodes exactly into float32 state.
 */
final class EightBitFormat {
    static final String MIN_SIZE = "optimizer.min_8bit_size";
    /** The signed code of a variable: sign, 4 exponent and 3 fraction bits, no subnormals, no NaN (BlockCodes). */
    static final String SIGNED_CODE = "vecopt-e4m3-signed";
    /** The unsigned code of a variable's square root: 4 exponent and 4 fraction bits, 0 only for zero (BlockCodes). */
    static final String SQRT_CODE = "vecopt-e4m4-unsigned-sqrt";
    /** bitsandbytes' {@code create_dynamic_map(signed=True)}, of exp_avg (DynamicMap). */
    static final String DYNAMIC_SIGNED_CODE = "bitsandbytes-dynamic-signed";
    /** bitsandbytes' {@code create_dynamic_map(signed=False)}, of exp_avg_sq itself (DynamicMap). */
    static final String DYNAMIC_UNSIGNED_CODE = "bitsandbytes-dynamic-unsigned";
    static final String SCALE = ".scale";
    /** The prefix of the codes of a variable coded as its square root. */
    static final String SQRT = "sqrt_";

    /**
     * One file's or optimizer's 8-bit layout: the code, the quantized variables in state order and, per variable,
     * whether it is coded as its square root (bitsandbytes' maps: exp_avg and exp_avg_sq itself, neither a root).
     */
    record Layout(EightBitCode code, List<String> variables, boolean[] roots) {
        boolean dynamic() {
            return code == EightBitCode.BITSANDBYTES_DYNAMIC;
        }

        /** The tensor name (after {@code state/<tensor>/}) of variable {@code v}'s codes. */
        String codeName(int v) {
            return roots[v] ? SQRT + variables.get(v) : variables.get(v);
        }

        /** The dtype of variable {@code v}'s codes. */
        Dtype dtype(int v) {
            return dynamic() || roots[v] ? Dtype.U8 : Dtype.I8;
        }

        /** The metadata name of variable {@code v}'s code. */
        String codeOf(int v) {
            return dynamic() ? (v == 0 ? DYNAMIC_SIGNED_CODE : DYNAMIC_UNSIGNED_CODE) : roots[v] ? SQRT_CODE : SIGNED_CODE;
        }

        /**
         * The float32 value code {@code code} of variable {@code variable} stands for with its block's
         * {@code scale}: the float operations of the 8-bit step's decode, so each value is the one that step works
         * with (a variable coded as its square root: the root squared).
         */
        float decode(int variable, int code, float scale) {
            if (dynamic()) {
                return (variable == 0 ? DynamicMap.decodeSigned(code) : DynamicMap.decodeUnsigned(code)) * scale;
            }
            float r = (roots[variable] ? BlockCodes.decodeUnsigned(code) : BlockCodes.decodeSigned(code)) * scale;
            return roots[variable] ? r * r : r;
        }
    }

    /** What a file's metadata says of its 8-bit state: the size threshold and the layout. */
    record Saved(int minSize, Layout layout) {
    }

    private EightBitFormat() {
    }

    /** The layout of 8-bit state in {@code code} of these variables (bitsandbytes' maps: Adam's two moments). */
    static Layout of(EightBitCode code, List<String> variables, boolean[] roots) {
        return code == EightBitCode.BITSANDBYTES_DYNAMIC ? new Layout(code, variables, new boolean[variables.size()])
                : new Layout(code, variables, roots.clone());
    }

    static String blockKey(String variable) {
        return "state." + variable + ".block";
    }

    static String codeKey(String variable) {
        return "state." + variable + ".code";
    }

    /** Adds the 8-bit keys for threshold {@code minSize} and {@code layout} to {@code m}. */
    static void metadata(Map<String, String> m, int minSize, Layout l) {
        m.put(MIN_SIZE, Integer.toString(minSize));
        for (int v = 0; v < l.variables().size(); v++) {
            m.put(blockKey(l.variables().get(v)), Integer.toString(BlockCodes.BLOCK));
            m.put(codeKey(l.variables().get(v)), l.codeOf(v));
        }
    }

    static long blocks(long length) {
        return (length + BlockCodes.BLOCK - 1) / BlockCodes.BLOCK;
    }

    /**
     * The file's 8-bit threshold and layout (the variables among {@code stateNames}, the file's state variables,
     * that have a code in its metadata, and how each is coded), or null for a file without 8-bit state, after
     * checking its block size and codes are ones this reader knows (a file of other blocks or codes is refused
     * naming them).
     */
    static Saved check(String file, Map<String, String> meta, List<String> stateNames) throws CheckpointException {
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
        List<String> variables = new ArrayList<>();
        List<Boolean> roots = new ArrayList<>();
        boolean dynamic = false;
        for (String variable : stateNames) {
            String block = meta.get(blockKey(variable)), code = meta.get(codeKey(variable));
            if (block == null && code == null) {
                continue; // not quantized (a master copy)
            }
            if (!Integer.toString(BlockCodes.BLOCK).equals(block)) {
                throw new CheckpointException(file + ": 8-bit state '" + variable + "' has blocks of " + block
                        + " elements in the checkpoint ('" + blockKey(variable) + "') but " + BlockCodes.BLOCK + " here");
            }
            if (variables.isEmpty()) {
                dynamic = DYNAMIC_SIGNED_CODE.equals(code);
            }
            String expected = dynamic ? (variables.isEmpty() ? DYNAMIC_SIGNED_CODE : DYNAMIC_UNSIGNED_CODE) : null;
            if (dynamic ? !expected.equals(code) : !SIGNED_CODE.equals(code) && !SQRT_CODE.equals(code)) {
                throw new CheckpointException(file + ": 8-bit state '" + variable + "' is coded '" + code
                        + "' in the checkpoint ('" + codeKey(variable) + "'), which this reader does not know: it reads '"
                        + SIGNED_CODE + "' and '" + SQRT_CODE + "' (and bitsandbytes' '" + DYNAMIC_SIGNED_CODE
                        + "' with '" + DYNAMIC_UNSIGNED_CODE + "')" + (dynamic ? " (with '" + DYNAMIC_SIGNED_CODE
                        + "' for '" + variables.get(0) + "': '" + expected + "')" : ""));
            }
            variables.add(variable);
            roots.add(SQRT_CODE.equals(code));
        }
        if (variables.isEmpty()) {
            throw new CheckpointException(file + ": __metadata__ has '" + MIN_SIZE + "' but no 8-bit state variable ("
                    + "no 'state.<variable>.code' for any of " + stateNames + ")");
        }
        boolean[] r = new boolean[roots.size()];
        for (int v = 0; v < r.length; v++) {
            r[v] = roots.get(v);
        }
        return new Saved(saved, new Layout(dynamic ? EightBitCode.BITSANDBYTES_DYNAMIC : EightBitCode.FLOAT_CODES,
                List.copyOf(variables), r));
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
