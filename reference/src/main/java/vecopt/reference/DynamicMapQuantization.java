package vecopt.reference;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * bitsandbytes' 8-bit block-wise state, as its CPU kernels code it ({@code csrc/cpu_ops.cpp}), defined by the maps'
 * values and a direct search: exp_avg in {@code create_dynamic_map(signed=True)}, exp_avg_sq in
 * {@code create_dynamic_map(signed=False)} (bitsandbytes {@code functional.py}), both read from
 * {@code bnb-dynamic-maps.txt}, the values PyTorch computed for them ({@code tools/bnb_dynamic_map.py}).
 *
 * <p>A block of 256 consecutive elements keeps its largest magnitude as its scale ({@code std::max}: a NaN is passed
 * over). An element {@code x} of a block with scale {@code s > 0} is coded as follows: {@code y = x * (1 / s)} in
 * float, clamped to [-1, 1]; its bin {@code b = (int) ((y + 1) * 0.5 * 65535 + 0.5)} in float operations (0 for a
 * NaN); the bin's center {@code c = -1 + (2 * b) / 65535} in float; the code is the number of midpoints
 * {@code 0.5 * (map[j] + map[j + 1])} (float) that lie below {@code c}: the index of the map entry nearest the
 * center. A block with scale 0 is all code 0. The value of code {@code k} is {@code map[k] * s} in float.
 */
public final class DynamicMapQuantization {
    /** Elements per block. */
    public static final int BLOCK = 256;
    private static final float[] SIGNED = new float[256];
    private static final float[] UNSIGNED = new float[256];

    static {
        try (InputStream in = DynamicMapQuantization.class.getResourceAsStream("bnb-dynamic-maps.txt");
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            float[] into = null;
            int n = 0;
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                if (line.equals("signed") || line.equals("unsigned")) {
                    into = line.equals("signed") ? SIGNED : UNSIGNED;
                    n = 0;
                    continue;
                }
                into[n++] = Float.intBitsToFloat(Integer.parseUnsignedInt(line.split(" ")[0], 16));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private DynamicMapQuantization() {
    }

    /** The map of exp_avg ({@code signed}) or of exp_avg_sq, a copy. */
    public static float[] map(boolean signed) {
        return (signed ? SIGNED : UNSIGNED).clone();
    }

    /** The code of {@code x}, already multiplied by its block's reciprocal scale, in the given map. */
    public static int encode(float x, boolean signed) {
        float[] map = signed ? SIGNED : UNSIGNED;
        float y = x < -1f ? -1f : (x > 1f ? 1f : x);
        int bin = (int) ((y + 1.0f) * 0.5f * 65535f + 0.5f);
        float center = -1.0f + (2.0f * bin) / 65535f;
        int code = 0;
        for (int j = 0; j + 1 < map.length; j++) {
            if (0.5f * (map[j] + map[j + 1]) < center) {
                code++;
            }
        }
        return code;
    }

    /** Quantizes {@code values} (one tensor's state) block by block into {@code codes} and {@code scales}. */
    public static void quantize(float[] values, boolean signed, byte[] codes, float[] scales) {
        for (int b = 0; b * BLOCK < values.length; b++) {
            int from = b * BLOCK, to = Math.min(values.length, from + BLOCK);
            float s = 0f;
            for (int i = from; i < to; i++) {
                float a = Math.abs(values[i]);
                s = s < a ? a : s;
            }
            scales[b] = s;
            float inv = 1f / s;
            for (int i = from; i < to; i++) {
                codes[i] = (byte) (s == 0f ? 0 : encode(values[i] * inv, signed));
            }
        }
    }

    /** The values {@code codes} and {@code scales} stand for. */
    public static float[] dequantize(byte[] codes, float[] scales, boolean signed) {
        float[] map = signed ? SIGNED : UNSIGNED;
        float[] out = new float[codes.length];
        for (int i = 0; i < codes.length; i++) {
            out[i] = map[codes[i] & 0xFF] * scales[i / BLOCK];
        }
        return out;
    }
}
