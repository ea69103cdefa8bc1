package vecopt.amp;

import vecopt.check.Require;

/**
 * Dynamic loss scaling with the semantics of PyTorch's {@code torch.amp.GradScaler}: the trainer multiplies the loss by
 * {@link #scale()} before the backward pass (so small half-precision gradients do not flush to zero), and
 * {@code opt.step(lr, scaler)} unscales the gradients inside the update, skips the step when a gradient is NaN or
 * infinite, and then calls {@link #update}: on a non-finite gradient the scale is multiplied by the backoff factor
 * (default 0.5), after {@code growthInterval} (2000) finite steps in a row by the growth factor (2).
 *
 * <pre>{@code
 * GradScaler scaler = new GradScaler();              // init 2^16, growth 2, backoff 0.5, interval 2000
 * double loss = model.forward(batch);
 * model.backward(loss * scaler.scale());             // scaled gradients in the gradient buffers
 * StepReport r = opt.step(schedule.lr(step), scaler); // unscaled, clipped, skipped on inf, scale updated
 * }</pre>
 *
 * <p>In the step, the unscale is folded into the gradient multiplier clipping already applies (no extra pass), the
 * global norm (and so the clipping coefficient) is that of the unscaled gradients, and the existing non-finite check
 * is the found-inf check, whatever the optimizer's non-finite policy. With a power-of-two scale, as the defaults keep
 * it, the folded multiplier gives bit for bit what PyTorch's {@code unscale_} then {@code clip_grad_norm_} give (a
 * multiplication by a power of two commutes with rounding). Not thread-safe: one trainer thread uses it, through one
 * optimizer's steps.
 *
 * <p>Source: PyTorch, {@code torch/amp/grad_scaler.py} and {@code _amp_update_scale_} (aten/src/ATen/native/cpu/
 * AmpGradScalerKernels.cpp): a grown scale that would be infinite is not taken.
 */
public final class GradScaler {
    private final double growthFactor;
    private final double backoffFactor;
    private final int growthInterval;
    private double scale;
    private int growthTracker;

    /** PyTorch's defaults: init scale 2^16, growth factor 2, backoff factor 0.5, growth interval 2000. */
    public GradScaler() {
        this(65536.0, 2.0, 0.5, 2000);
    }

    /**
     * @param initScale      the first scale, finite and > 0
     * @param growthFactor   the factor after {@code growthInterval} finite steps, > 1
     * @param backoffFactor  the factor after a non-finite step, in (0, 1)
     * @param growthInterval finite steps in a row before the scale grows, >= 1
     */
    public GradScaler(double initScale, double growthFactor, double backoffFactor, int growthInterval) {
        this.scale = Require.positive("initScale", Require.finite("initScale", initScale));
        Require.finite("growthFactor", growthFactor);
        if (!(growthFactor > 1)) {
            throw new IllegalArgumentException("growthFactor must be > 1, got " + growthFactor);
        }
        if (!(backoffFactor > 0 && backoffFactor < 1)) {
            throw new IllegalArgumentException("backoffFactor must be in (0, 1), got " + backoffFactor);
        }
        this.growthFactor = growthFactor;
        this.backoffFactor = backoffFactor;
        this.growthInterval = (int) Require.positive("growthInterval", growthInterval);
    }

    /** The factor to multiply the loss by before the backward pass. */
    public double scale() {
        return scale;
    }

    /** Finite steps in a row since the scale last changed. */
    public int growthTracker() {
        return growthTracker;
    }

    /** The factor the scale grows by after {@code growthInterval} finite steps in a row. */
    public double growthFactor() {
        return growthFactor;
    }

    /** The factor the scale backs off by after a non-finite step. */
    public double backoffFactor() {
        return backoffFactor;
    }

    /** Finite steps in a row before the scale grows. */
    public int growthInterval() {
        return growthInterval;
    }

    /**
     * The end of a step, as PyTorch's {@code GradScaler.update()}: backs off when the step found a non-finite
     * gradient, else counts it and grows the scale after {@code growthInterval} in a row (unless that would make it
     * infinite). {@code opt.step(lr, scaler)} calls it; call it yourself only when you step otherwise.
     */
    public void update(boolean foundInf) {
        if (foundInf) {
            scale *= backoffFactor;
            growthTracker = 0;
            return;
        }
        if (++growthTracker == growthInterval) {
            double grown = scale * growthFactor;
            if (Double.isFinite(grown)) {
                scale = grown;
            }
            growthTracker = 0;
        }
    }

    /**
     * Sets the scale and growth tracker saved with a checkpoint, so that a resumed run scales exactly as the
     * uninterrupted one. {@code Checkpoint.save(file, opt, step, extras, scaler)} and
     * {@code Checkpoint.load(file, opt, scaler)} save and call this for you; a trainer that keeps the two values in
     * its extras itself (the way before checkpoints held a scaler) calls it after the load.
     */
    public void restore(double scale, int growthTracker) {
        Require.positive("scale", Require.finite("scale", scale));
        if (growthTracker < 0 || growthTracker >= growthInterval) {
            throw new IllegalArgumentException("growthTracker must be in [0, " + growthInterval + "), got "
                    + growthTracker);
        }
        this.scale = scale;
        this.growthTracker = growthTracker;
    }

    @Override
    public String toString() {
        return "GradScaler[scale=" + scale + ", growthTracker=" + growthTracker + ", growthFactor=" + growthFactor
                + ", backoffFactor=" + backoffFactor + ", growthInterval=" + growthInterval + "]";
    }
}
