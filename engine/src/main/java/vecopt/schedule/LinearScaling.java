package vecopt.schedule;

import vecopt.check.Require;

/**
 * The linear scaling rule for large-batch training, as the warmup guide "Learning Rate Warmup" states it (its section
 * "Warmup in Large Batch Training"): the learning rate and the warmup both grow with the batch size,
 * {@code target_lr = base_lr * (batch / base_batch)} and {@code warmup_steps = base_warmup * (batch / base_batch)}.
 *
 * <pre>{@code
 * LinearScaling s = LinearScaling.of(1e-4, 1000, 256, 8192);  // the guide's example: 32x
 * s.lr();           // 3.2e-3
 * s.warmupSteps();  // 32000
 * }</pre>
 *
 * @param lr          the scaled learning rate
 * @param warmupSteps the scaled warmup, rounded to the nearest step (the guide leaves it a float)
 * @param ratio       {@code batch / baseBatch}
 */
public record LinearScaling(double lr, long warmupSteps, double ratio) {
    /**
     * Scales {@code baseLr} and {@code baseWarmupSteps}, tuned at {@code baseBatch}, to {@code batch}.
     */
    public static LinearScaling of(double baseLr, long baseWarmupSteps, long baseBatch, long batch) {
        Require.nonNegative("baseLr", baseLr);
        Require.nonNegative("baseWarmupSteps", baseWarmupSteps);
        Require.positive("baseBatch", baseBatch);
        Require.positive("batch", batch);
        double ratio = (double) batch / baseBatch;
        double warmup = baseWarmupSteps * ratio;
        if (warmup >= Long.MAX_VALUE) {
            throw new IllegalArgumentException("scaled warmup overflows a long: " + baseWarmupSteps + " * " + ratio);
        }
        return new LinearScaling(baseLr * ratio, Math.round(warmup), ratio);
    }
}
