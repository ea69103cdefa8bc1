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
    double updateNorm = Double.NaN;
    double paramNorm = Double.NaN;

    StepReport(int groups) {
        this.groupLr = new double[groups];
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

    /** Global L2 norm of the gradients before clipping; NaN when no norm pass ran (no clipping, policy PROCEED). */
    public double gradNorm() {
        return gradNorm;
    }

    /** The factor the gradients were multiplied by (1 when not clipped). */
    public double clipCoef() {
        return clipCoef;
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
        return "StepReport[step=" + step + (skipped ? ", SKIPPED" : "") + ", lr=" + Arrays.toString(groupLr)
                + ", gradNorm=" + gradNorm + ", clipCoef=" + clipCoef + ", updateNorm=" + updateNorm
                + ", paramNorm=" + paramNorm + "]";
    }
}
