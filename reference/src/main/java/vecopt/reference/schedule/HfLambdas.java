package vecopt.reference.schedule;

/**
 * Hugging Face {@code transformers.optimization}'s {@code lr_lambda}s (multipliers of the base lr), and the lr
 * {@code LambdaLR} makes of them: {@code base_lr * lr_lambda(current_step)}.
 */
public final class HfLambdas {
    private HfLambdas() {
    }

    public static double lr(double baseLr, double lambda) {
        return baseLr * lambda;
    }

    public static double constantWithWarmup(long currentStep, long numWarmupSteps) {
        if (currentStep < numWarmupSteps) {
            return (double) currentStep / Math.max(1.0, numWarmupSteps);
        }
        return 1.0;
    }

    public static double linearWithWarmup(long currentStep, long numWarmupSteps, long numTrainingSteps) {
        if (currentStep < numWarmupSteps) {
            return (double) currentStep / Math.max(1, numWarmupSteps);
        }
        return Math.max(0.0, (double) (numTrainingSteps - currentStep)
                / Math.max(1, numTrainingSteps - numWarmupSteps));
    }

    public static double cosineWithWarmup(long currentStep, long numWarmupSteps, long numTrainingSteps,
            double numCycles) {
        if (currentStep < numWarmupSteps) {
            return (double) currentStep / Math.max(1, numWarmupSteps);
        }
        double progress = (double) (currentStep - numWarmupSteps) / Math.max(1, numTrainingSteps - numWarmupSteps);
        return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress)));
    }

    public static double cosineWithHardRestartsWithWarmup(long currentStep, long numWarmupSteps,
            long numTrainingSteps, long numCycles) {
        if (currentStep < numWarmupSteps) {
            return (double) currentStep / Math.max(1, numWarmupSteps);
        }
        double progress = (double) (currentStep - numWarmupSteps) / Math.max(1, numTrainingSteps - numWarmupSteps);
        if (progress >= 1.0) {
            return 0.0;
        }
        return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * (((double) numCycles * progress) % 1.0))));
    }

    public static double polynomialDecayWithWarmup(long currentStep, long numWarmupSteps, long numTrainingSteps,
            double lrEnd, double power, double lrInit) {
        if (currentStep < numWarmupSteps) {
            return (double) currentStep / Math.max(1, numWarmupSteps);
        } else if (currentStep > numTrainingSteps) {
            return lrEnd / lrInit;
        } else {
            double lrRange = lrInit - lrEnd;
            long decaySteps = numTrainingSteps - numWarmupSteps;
            double pctRemaining = 1 - (double) (currentStep - numWarmupSteps) / decaySteps;
            double decay = lrRange * Math.pow(pctRemaining, power) + lrEnd;
            return decay / lrInit;
        }
    }

    /** {@code _get_wsd_scheduler_lambda}; types are "linear", "cosine", "1-sqrt". */
    public static double wsd(long currentStep, long numWarmupSteps, long numStableSteps, long numDecaySteps,
            String warmupType, String decayType, double minLrRatio, double numCycles) {
        if (currentStep < numWarmupSteps) {
            double progress = (double) currentStep / Math.max(1, numWarmupSteps);
            double factor = switch (warmupType) {
                case "linear" -> progress;
                case "cosine" -> 0.5 * (1.0 - Math.cos(Math.PI * progress));
                case "1-sqrt" -> 1.0 - Math.sqrt(1.0 - progress);
                default -> throw new IllegalArgumentException(warmupType);
            };
            factor = factor * (1.0 - minLrRatio) + minLrRatio;
            return Math.max(0.0, factor);
        }
        if (currentStep < numWarmupSteps + numStableSteps) {
            return 1.0;
        }
        if (currentStep < numWarmupSteps + numStableSteps + numDecaySteps) {
            double progress = (double) (currentStep - numWarmupSteps - numStableSteps) / Math.max(1, numDecaySteps);
            double factor = switch (decayType) {
                case "linear" -> 1.0 - progress;
                case "cosine" -> 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress));
                case "1-sqrt" -> 1.0 - Math.sqrt(progress);
                default -> throw new IllegalArgumentException(decayType);
            };
            factor = factor * (1.0 - minLrRatio) + minLrRatio;
            return Math.max(0.0, factor);
        }
        return minLrRatio;
    }
}
