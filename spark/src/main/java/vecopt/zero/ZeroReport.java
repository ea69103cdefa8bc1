package vecopt.zero;

import java.util.Locale;

/**
 * What one sharded step did, the same on every rank except the timings. A {@link ZeroStep} owns one report and
 * overwrites it on each step, so stepping allocates nothing (as the engine's {@code StepReport}); keep a
 * {@link #copy()} of what you want to keep.
 *
 * <pre>{@code
 * ZeroReport r = zero.step(lr);
 * history.add(r.copy());                 // r itself changes at the next step
 * }</pre>
 */
public final class ZeroReport {
    long step;
    boolean skipped;
    double gradNorm = Double.NaN;
    double clipCoef = Double.NaN;
    long reduceScatterNanos;
    long normNanos;
    long updateNanos;
    long allGatherNanos;

    ZeroReport() {
    }

    /** A copy that later steps do not change. */
    public ZeroReport copy() {
        ZeroReport c = new ZeroReport();
        c.step = step;
        c.skipped = skipped;
        c.gradNorm = gradNorm;
        c.clipCoef = clipCoef;
        c.reduceScatterNanos = reduceScatterNanos;
        c.normNanos = normNanos;
        c.updateNanos = updateNanos;
        c.allGatherNanos = allGatherNanos;
        return c;
    }

    /** Updates applied so far by the step object (skipped steps not counted). */
    public long step() {
        return step;
    }

    /** True when the global gradient norm was not finite and every rank skipped the step. */
    public boolean skipped() {
        return skipped;
    }

    /** The global L2 norm of the mean gradients, from the ranks' partial sums added in rank order. */
    public double gradNorm() {
        return gradNorm;
    }

    /** The factor the gradients were multiplied by (1 without clipping; NaN when skipped). */
    public double clipCoef() {
        return clipCoef;
    }

    /** Packing the gradients, the reduce-scatter and the division by the number of ranks. */
    public long reduceScatterNanos() {
        return reduceScatterNanos;
    }

    /** This rank's partial sum of squares and the exchange of the partial sums. */
    public long normNanos() {
        return normNanos;
    }

    /** The fused update of the owned slice. */
    public long updateNanos() {
        return updateNanos;
    }

    /** The all-gather of the parameters and unpacking them into the model's buffers. */
    public long allGatherNanos() {
        return allGatherNanos;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "ZeroReport[step=%d, skipped=%b, gradNorm=%s, clipCoef=%s, reduceScatter=%.3f ms,"
                + " norm=%.3f ms, update=%.3f ms, allGather=%.3f ms]", step, skipped, gradNorm, clipCoef,
                reduceScatterNanos / 1e6, normNanos / 1e6, updateNanos / 1e6, allGatherNanos / 1e6);
    }
}
