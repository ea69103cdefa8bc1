package vecopt.optim;

/**
 * What the options of every parameter group have, whatever the optimizer: a multiplier of the step's learning rate
 * and a weight decay. Each optimizer's options record ({@link AdamOptions}, {@link SgdOptions}) adds its own.
 */
public interface GroupOptions {
    /** This group's multiplier of the learning rate passed to {@link Optimizer#step(double)}; finite, >= 0. */
    double lrScale();

    /** This group's weight decay (decoupled or L2, as the optimizer defines it); finite, >= 0. */
    double weightDecay();

    /**
     * Maximize the objective instead of minimizing it: PyTorch's {@code maximize}. Every PyTorch optimizer
     * negates the gradient first, before weight decay or any state reads it; the engine does the same by negating
     * the gradient factor it multiplies each gradient by (clipping coefficient, or 1), which is exact: {@code
     * g * -c} is bitwise {@code -(g * c)}.
     */
    boolean maximize();
}
