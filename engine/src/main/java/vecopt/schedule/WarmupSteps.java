package vecopt.schedule;

import vecopt.check.Require;

/**
 * How many warmup steps, the two ways the warmup guide "Learning Rate Warmup" counts them (its section "How Many
 * Warmup Steps?").
 *
 * <pre>{@code
 * long w1 = WarmupSteps.fraction(0.1, 10_000);  // int(0.1 * total_steps) = 1000
 * long w2 = WarmupSteps.epochs(5, 782);         // warmup_epochs * steps_per_epoch = 3910
 * }</pre>
 */
public final class WarmupSteps {
    private WarmupSteps() {
    }

    /**
     * {@code int(fraction * totalSteps)}: the warmup guide's {@code warmup_steps = int(0.1 * total_steps)}, truncated
     * as Python's {@code int} does.
     *
     * @param fraction in [0, 1)
     */
    public static long fraction(double fraction, long totalSteps) {
        Require.unitInterval("fraction", fraction);
        Require.positive("totalSteps", totalSteps);
        return (long) (fraction * totalSteps);
    }

    /**
     * {@code epochs * stepsPerEpoch}: the warmup guide's {@code warmup_steps = warmup_epochs * steps_per_epoch}.
     * Fractional epochs are truncated to whole steps.
     *
     * @param epochs finite, >= 0
     */
    public static long epochs(double epochs, long stepsPerEpoch) {
        Require.nonNegative("epochs", epochs);
        Require.positive("stepsPerEpoch", stepsPerEpoch);
        double steps = epochs * stepsPerEpoch;
        if (steps >= Long.MAX_VALUE) {
            throw new IllegalArgumentException("epochs * stepsPerEpoch overflows a long: " + epochs + " * "
                    + stepsPerEpoch);
        }
        return (long) steps;
    }
}
