package vecopt.djl;

/**
 * The AdamW update written out element by element in float, in the order vecopt's kernels document it
 * ({@code vecopt.kernel.AdamStep}): the same operations and roundings, so its results are vecopt's bit for bit. It
 * is PyTorch's {@code torch.optim.AdamW} (eps added after {@code sqrt(v) / sqrt(1 - beta2^t)}), the clipping
 * coefficient of {@code clip_grad_norm_} applied to the gradient as a float first.
 */
final class FloatAdamW {
    private FloatAdamW() {
    }

    /** One step of update number {@code t}, in place over {@code p}, {@code m}, {@code v}. */
    static void step(float[] p, float[] grad, float[] m, float[] v, double lr, double beta1, double beta2, double eps,
                     double weightDecay, long t, double clipCoef) {
        float b1 = (float) beta1, c1 = (float) (1 - beta1), b2 = (float) beta2, c2 = (float) (1 - beta2);
        float decay = (float) (1 - lr * weightDecay);
        float negStep = (float) (-lr / (1 - Math.pow(beta1, t)));
        float invSqrtBc2 = (float) (1 / Math.sqrt(1 - Math.pow(beta2, t)));
        float scale = (float) clipCoef;
        for (int i = 0; i < p.length; i++) {
            float g = grad[i] * scale;
            m[i] = Math.fma(m[i], b1, g * c1);
            v[i] = Math.fma(v[i], b2, (g * c2) * g);
            float d = Math.fma((float) Math.sqrt(v[i]), invSqrtBc2, (float) eps);
            p[i] = Math.fma(m[i] / d, negStep, p[i] * decay);
        }
    }
}
