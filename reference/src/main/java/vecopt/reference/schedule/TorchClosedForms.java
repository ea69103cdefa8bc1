package vecopt.reference.schedule;

import java.util.function.LongToDoubleFunction;

/** {@code torch.optim.lr_scheduler}'s {@code _get_closed_form_lr} of each scheduler, for one group. */
public final class TorchClosedForms {
    private TorchClosedForms() {
    }

    public static double lambdaLR(long lastEpoch, double baseLr, LongToDoubleFunction lmbda) {
        return baseLr * lmbda.applyAsDouble(lastEpoch);
    }

    /** Also the step decay the optimizer guide names for a CNN, which gives no formula of its own. */
    public static double stepLR(long lastEpoch, double baseLr, long stepSize, double gamma) {
        return baseLr * Math.pow(gamma, lastEpoch / stepSize);
    }

    public static double multiStepLR(long lastEpoch, double baseLr, long[] milestones, double gamma) {
        int bisectRight = 0;
        for (long m : milestones) { // sorted(self.milestones.elements()); a linear count is bisect_right
            if (m <= lastEpoch) {
                bisectRight++;
            }
        }
        return baseLr * Math.pow(gamma, bisectRight);
    }

    public static double constantLR(long lastEpoch, double baseLr, double factor, long totalIters) {
        return baseLr * (factor + (lastEpoch >= totalIters ? 1 : 0) * (1 - factor));
    }

    public static double linearLR(long lastEpoch, double baseLr, double startFactor, double endFactor,
            long totalIters) {
        return baseLr * (startFactor + (endFactor - startFactor) * Math.min(totalIters, lastEpoch) / totalIters);
    }

    public static double exponentialLR(long lastEpoch, double baseLr, double gamma) {
        return baseLr * Math.pow(gamma, lastEpoch);
    }

    public static double polynomialLR(long lastEpoch, double baseLr, long totalIters, double power) {
        return baseLr * Math.pow(1.0 - (double) Math.min(totalIters, lastEpoch) / totalIters, power);
    }

    public static double cosineAnnealingLR(long lastEpoch, double baseLr, long tMax, double etaMin) {
        return etaMin + (baseLr - etaMin) * (1 + Math.cos(Math.PI * lastEpoch / tMax)) / 2;
    }

    /**
     * {@code SequentialLR.step()}: {@code idx = bisect_right(milestones, last_epoch)}; at a milestone the scheduler is
     * reset to epoch 0 ({@code _update_lr(0)}), then stepped, so scheduler {@code idx} sees
     * {@code last_epoch - milestones[idx - 1]}.
     */
    public static double sequentialLR(long lastEpoch, LongToDoubleFunction[] schedulers, long[] milestones) {
        int idx = 0;
        while (idx < milestones.length && milestones[idx] <= lastEpoch) {
            idx++;
        }
        long local = idx == 0 ? lastEpoch : lastEpoch - milestones[idx - 1];
        return schedulers[idx].applyAsDouble(local);
    }
}
