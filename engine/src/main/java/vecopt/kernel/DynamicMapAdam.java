package vecopt.kernel;

import static vecopt.kernel.MixedScalar.B;
import static vecopt.kernel.ScalarKernels.F;

import java.lang.foreign.MemorySegment;

/**
 * Adam / AdamW with 8-bit state in bitsandbytes' dynamic maps ({@link DynamicMap}, {@code Chunk.stateType} 3), as
 * bitsandbytes' CPU 8-bit blockwise optimizer does it: exp_avg and exp_avg_sq (itself, not its square root) are
 * decoded, updated in float32, the parameter is updated from the new float moments, and the moments are coded
 * against their block's new largest magnitude. The float operations are {@link AdamStep}'s, as for every other
 * storage (bitsandbytes' Python update rounds differently in places: {@code mul_} then {@code add_} where these fuse
 * into one multiply-add, a division by {@code sqrt(1 - beta2^t)} where these multiply by its reciprocal; at most a
 * rounding each). Two scalar passes per block of 256, which stays in L1: the first finds the new largest
 * magnitudes, the second recomputes the moments bit for bit, updates and codes. Scalar by design: see
 * {@link DynamicMap}.
 */
final class DynamicMapAdam {
    private DynamicMapAdam() {
    }

    static void adam(Chunk c, AdamStep k) {
        final MemorySegment ms = c.state[0], vs = c.state[1], sm = c.scales[0], sv = c.scales[1];
        final int key = k.roundingKey;
        for (int b = 0, from = 0; from < c.length; b++, from += BlockCodes.BLOCK) {
            final int to = Math.min(c.length, from + BlockCodes.BLOCK);
            final float scaleM = sm.get(F, b * 4L), scaleV = sv.get(F, b * 4L);
            float maxM = 0f, maxV = 0f;
            for (int i = from; i < to; i++) {
                float g = MixedScalar.grad(c, k, i, MixedScalar.param(c, i));
                float m = Math.abs(newM(ms, i, g, scaleM, k)), v = newV(vs, i, g, scaleV, k);
                maxM = maxM < m ? m : maxM; // std::max(absmax, |x|): a NaN is passed over
                maxV = maxV < v ? v : maxV;
            }
            sm.set(F, b * 4L, maxM);
            sv.set(F, b * 4L, maxV);
            final float invM = 1.0f / maxM, invV = 1.0f / maxV;
            for (int i = from; i < to; i++) {
                float p = MixedScalar.param(c, i);
                float g = MixedScalar.grad(c, k, i, p);
                float m = newM(ms, i, g, scaleM, k);
                float v = newV(vs, i, g, scaleV, k);
                float pNew = Math.fma(m / Math.fma((float) Math.sqrt(v), k.invSqrtBc2, k.eps), k.negStepSize,
                        p * k.decay);
                MixedScalar.storeParam(c, key, i, pNew);
                // bitsandbytes codes a block whose largest magnitude is 0 as all zeros
                ms.set(B, i, (byte) (maxM == 0f ? 0 : DynamicMap.encodeSigned(m * invM)));
                vs.set(B, i, (byte) (maxV == 0f ? 0 : DynamicMap.encodeUnsigned(v * invV)));
            }
        }
    }

    private static float newM(MemorySegment ms, int i, float g, float scaleM, AdamStep k) {
        return Math.fma(DynamicMap.decodeSigned(ms.get(B, i)) * scaleM, k.beta1, g * k.oneMinusBeta1);
    }

    private static float newV(MemorySegment vs, int i, float g, float scaleV, AdamStep k) {
        return Math.fma(DynamicMap.decodeUnsigned(vs.get(B, i)) * scaleV, k.beta2, (g * k.oneMinusBeta2) * g);
    }
}
