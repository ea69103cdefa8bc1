package vecopt.reference;

/**
 * Rprop as PyTorch's {@code torch/optim/rprop.py}, {@code _single_tensor_rprop}, states it, one element at a time.
 * Every operation of Rprop on a float tensor is a single float operation or a selection (the product
 * {@code grad.mul(prev)} whose sign decides, {@code step_size.mul_(sign)}, the clamp, {@code param.addcmul_} with an
 * exact product), so this computes each in float as PyTorch's kernels do: the etas and bounds are rounded to float
 * as PyTorch's float tensors receive them, and the gradient is the float tensor {@code clip_grad_norm_} leaves.
 */
public final class RpropReference {
    private RpropReference() {
    }

    /**
     * One step, in place. {@code stepSize} must hold the group's lr before the first step (PyTorch's
     * {@code torch.full_like(grad, lr)}).
     *
     * @param gradScale a factor applied to each gradient first (the clipping coefficient; 1 for none)
     */
    public static void step(float[] p, float[] g, float[] prev, float[] stepSize, int from, int to, double etaMinus,
                            double etaPlus, double stepSizeMin, double stepSizeMax, double gradScale,
                            boolean maximize) {
        float etaminus = (float) etaMinus, etaplus = (float) etaPlus;
        float lo = (float) stepSizeMin, hi = (float) stepSizeMax;
        for (int i = from; i < to; i++) {
            float grad = g[i] * (float) gradScale;                   // p.grad.mul_(clip_coef) in float
            if (maximize) {
                grad = -grad;                                        // grad = grad if not maximize else -grad
            }
            float sign = Math.signum(grad * prev[i]);                // sign = grad.mul(prev).sign()
            float factor = sign > 0 ? etaplus : sign < 0 ? etaminus : 1f; // sign[gt(0)] = etaplus; lt(0); eq(0)
            stepSize[i] = Math.min(Math.max(stepSize[i] * factor, lo), hi); // step_size.mul_(sign).clamp_(min, max)
            if (factor == etaminus) {
                grad = 0;                                            // grad[sign.eq(etaminus)] = 0
            }
            p[i] = p[i] - Math.signum(grad) * stepSize[i];           // param.addcmul_(grad.sign(), step_size, -1)
            prev[i] = grad;                                          // prev.copy_(grad)
        }
    }
}
