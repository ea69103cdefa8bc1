package vecopt.reference.schedule;

/**
 * The schedules of the warmup guide "Learning Rate Warmup" and of the optimizer guide "Optimizers and Schedules", as
 * their Python and formulas read. Where they say nothing past the end: the last value.
 */
public final class GuideSchedules {
    private GuideSchedules() {
    }

    /** The warmup guide's {@code linear_warmup(step, warmup_steps, target_lr)}. */
    public static double linearWarmup(long step, long warmupSteps, double targetLr) {
        if (step < warmupSteps) {
            return targetLr * ((double) step / warmupSteps);
        }
        return targetLr;
    }

    /** The warmup guide's {@code exponential_warmup(step, warmup_steps, target_lr)}. */
    public static double exponentialWarmup(long step, long warmupSteps, double targetLr) {
        if (step < warmupSteps) {
            return targetLr * (1 - Math.exp((double) (-5 * step) / warmupSteps));
        }
        return targetLr;
    }

    /**
     * The warmup guide's {@code get_lr(step, warmup_steps, max_lr, total_steps)} (linear warmup then cosine decay),
     * with the floor of the optimizer guide's cosine decay formula
     * {@code lr_min + 0.5 (lr_max - lr_min)(1 + cos(pi progress))}; after total_steps: lr_min.
     */
    public static double warmupCosine(long step, long warmupSteps, double maxLr, double minLr, long totalSteps) {
        if (step < warmupSteps) {
            return maxLr * step / warmupSteps;
        }
        if (step > totalSteps) {
            return minLr;
        }
        double progress = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
        return minLr + 0.5 * (maxLr - minLr) * (1 + Math.cos(Math.PI * progress));
    }

    /** The optimizer guide's {@code lr = initial_lr x (1 - step/total_steps)}; after total_steps: 0. */
    public static double linearDecay(long step, double initialLr, long totalSteps) {
        if (step > totalSteps) {
            return 0.0;
        }
        return initialLr * (1 - (double) step / totalSteps);
    }

    /**
     * The optimizer guide's {@code lr = lr_min + 0.5 x (lr_max - lr_min) x (1 + cos(pi x step/total_steps))}; after
     * total_steps: lr_min.
     */
    public static double cosineDecay(long step, double maxLr, double minLr, long totalSteps) {
        if (step > totalSteps) {
            return minLr;
        }
        return minLr + 0.5 * (maxLr - minLr) * (1 + Math.cos(Math.PI * ((double) step / totalSteps)));
    }

    /**
     * Warmup, constant, decay: the warmup guide's "Warmup + Decay" figure, with the decay shapes of Hugging Face's
     * {@code get_wsd_schedule}; {@code shape} is "linear", "cosine" or "1-sqrt".
     */
    public static double warmupStableDecay(long step, double peakLr, double minLr, long warmupSteps, long stableSteps,
            long decaySteps, String shape) {
        if (step < warmupSteps) {
            return peakLr * step / warmupSteps;
        }
        if (step < warmupSteps + stableSteps) {
            return peakLr;
        }
        if (step < warmupSteps + stableSteps + decaySteps) {
            double p = (double) (step - warmupSteps - stableSteps) / decaySteps;
            double remaining = switch (shape) {
                case "linear" -> 1.0 - p;
                case "cosine" -> 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * p));
                case "1-sqrt" -> 1.0 - Math.sqrt(p);
                default -> throw new IllegalArgumentException(shape);
            };
            return minLr + (peakLr - minLr) * remaining;
        }
        return minLr;
    }
}
