package vecopt.reference;

/** Global-norm and value clipping as {@code torch.nn.utils.clip_grad_norm_} / {@code clip_grad_value_} state them. */
public final class ClipReference {
    private ClipReference() {
    }

    /** sqrt(sum of g^2) over all the arrays, in double, one element after another. */
    public static double globalNorm(float[]... grads) {
        double sum = 0;
        for (float[] g : grads) {
            for (float x : g) {
                sum += (double) x * x;
            }
        }
        return Math.sqrt(sum);
    }

    /** max |g| over all the arrays (NaN if any element is NaN). */
    public static double infNorm(float[]... grads) {
        double max = 0;
        for (float[] g : grads) {
            for (float x : g) {
                max = Math.max(max, Math.abs(x));
            }
        }
        return max;
    }

    /** clip_coef = max_norm / (total_norm + 1e-6), clamped to at most 1. */
    public static double coefficient(double maxNorm, double totalNorm) {
        double clipCoef = maxNorm / (totalNorm + 1e-6);
        return Math.min(clipCoef, 1.0);
    }

    /** Multiplies every gradient by the clamped coefficient (as a float32, like PyTorch); returns the total norm. */
    public static double clipByNorm(double maxNorm, float[]... grads) {
        double total = globalNorm(grads);
        float coef = (float) coefficient(maxNorm, total);
        for (float[] g : grads) {
            for (int i = 0; i < g.length; i++) {
                g[i] = g[i] * coef;
            }
        }
        return total;
    }

    /** Clamps every gradient to [-clipValue, clipValue]. */
    public static void clipByValue(double clipValue, float[]... grads) {
        for (float[] g : grads) {
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) Math.min(Math.max(g[i], -clipValue), clipValue);
            }
        }
    }
}
