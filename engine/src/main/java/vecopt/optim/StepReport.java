package vecopt.optim;

import java.util.Arrays;

/**
 * What one {@link Optimizer#step(double)} did. The optimizer owns one report and overwrites it on each step, so
 * stepping allocates nothing; copy what you keep ({@link #toString()} is a snapshot).
 */
public final class StepReport {
    final double[] groupLr;
    long step;

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

    public int groups() {
        return groupLr.length;
    }

    @Override
    public String toString() {
        return "StepReport[step=" + step + ", lr=" + Arrays.toString(groupLr) + "]";
    }
}
