package vecopt.optim;

import java.util.Arrays;

/**
 * What one {@link Optimizer#step(double)} did. The optimizer owns one report and overwrites it on each step, so
 * stepping allocates nothing; copy what you keep ({@link #toString()} is a snapshot).
 */
public final class StepReport {
    final double[] groupLr;
    long step;
    long skippedSteps;
    boolean skipped;
    double gradNorm = Double.NaN;
    double clipCoef = 1.0;
    double lossScale = Double.NaN;
    double updateNorm = Double.NaN;
    double paramNorm = Double.NaN;
    boolean gradNormComputed;
    boolean normsTracked;
    boolean nonFiniteParams;
    private final String kernels;

    StepReport(int groups, String kernels) {
        this.groupLr = new double[groups];
        this.kernels = kernels;
    }

    /** Number of updates the optimizer has applied, including this one. */
    public long step() {
        return step;
    }

    /** The learning rate applied to group {@code group} (step lr times the group's lrScale). */
    public double lr(int group) {
        return groupLr[group];
    }

    /** True when this step found a NaN or infinite gradient and, by policy, changed nothing. */
    public boolean skipped() {
        return skipped;
    }

    /** Steps skipped so far. */
    public long skippedSteps() {
        return skippedSteps;
    }

    /**
     * Global L2 norm of the gradients before clipping; NaN when no norm pass ran (no clipping and policy PROCEED:
     * {@link #gradNormComputed()} tells that apart from a NaN gradient).
     */
    public double gradNorm() {
        return gradNorm;
    }

    /**
     * The loss scale this step's gradients were unscaled by ({@code step(lr, GradScaler)}); NaN for a step without
     * loss scaling.
     */
    public double lossScale() {
        return lossScale;
    }

    /** The factor the gradients were multiplied by (1 when not clipped). */
    public double clipCoef() {
        return clipCoef;
    }

    /** True when this step ran the norm pass, so {@link #gradNorm()} is the gradients' norm (possibly NaN or inf). */
    public boolean gradNormComputed() {
        return gradNormComputed;
    }

    /**
     * True when this step computed {@link #updateNorm()} and {@link #paramNorm()} ({@code trackNorms} on and the
     * step not skipped); when false they are NaN, which then means "not computed", not "the parameters are NaN".
     */
    public boolean normsTracked() {
        return normsTracked;
    }

    /** True when the step was skipped because a parameter was NaN or infinite ({@code checkParams} on). */
    public boolean nonFiniteParams() {
        return nonFiniteParams;
    }

    /**
     * The kernels that ran, e.g. "Panama FloatVector 512-bit (16 lanes)" (the scalar kernels are 7 to 25 times
     * slower).
     */
    public String kernels() {
        return kernels;
    }

    /** L2 norm of this step's change of the parameters (with {@code trackNorms}; else NaN). */
    public double updateNorm() {
        return updateNorm;
    }

    /** L2 norm of the parameters after this step (with {@code trackNorms}; else NaN). */
    public double paramNorm() {
        return paramNorm;
    }

    /**
     * {@code updateNorm / paramNorm}: the update-to-weight ratio the optimizer guide "Optimizers and Schedules"
     * asks you to watch (around 1e-3 is healthy).
     */
    public double updateRatio() {
        return updateNorm / paramNorm;
    }

    public int groups() {
        return groupLr.length;
    }

    @Override
    public String toString() {
        return "StepReport[step=" + step + (skipped ? ", SKIPPED" + (nonFiniteParams ? " (non-finite parameter)" : "")
                : "") + ", lr=" + Arrays.toString(groupLr)
                + ", gradNorm=" + (gradNormComputed ? String.valueOf(gradNorm) : "not computed")
                + ", clipCoef=" + clipCoef
                + (normsTracked ? ", updateNorm=" + updateNorm + ", paramNorm=" + paramNorm : ", norms not tracked")
                + ", kernels=" + kernels + "]";
    }
}
