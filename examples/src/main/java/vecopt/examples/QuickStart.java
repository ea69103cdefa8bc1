package vecopt.examples;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import vecopt.memory.Storage;
import vecopt.monitor.Monitor;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.schedule.Schedule;
import vecopt.schedule.Schedules;

/**
 * The smallest real vecopt program ({@code ./vecopt quickstart}): one layer's weights and biases off-heap, AdamW with
 * the biases in a group without weight decay, the learning rate from a warmup + cosine schedule, gradients clipped to
 * a global norm of 1, and a few steps on the quadratic loss {@code 0.5 |p - target|^2}, whose gradient is
 * {@code p - target}. It uses the engine's exported packages only.
 */
public final class QuickStart {
    public static void main(String[] args) {
        int hidden = 256;
        long weights = 784L * hidden;
        long n = weights + hidden;
        int steps = 20;
        // 5 steps of linear warmup to 1e-2, then cosine decay to 1e-3 at the last step. Step 0's lr is 0: the warmup
        // starts from zero, as Hugging Face's does.
        Schedule schedule = Schedules.warmupCosine(1e-2, 1e-3, 5, steps - 1);
        System.out.println("vecopt quick start: AdamW, warmup + cosine lr, clipping to norm 1, over " + n
                + " off-heap parameters; kernels: " + vecopt.optim.Optimizer.defaultKernels());
        try (Arena arena = Arena.ofShared()) {
            Storage params = Storage.allocate(arena, n);
            Storage grads = Storage.allocate(arena, n);
            Storage target = Storage.allocate(arena, n);
            SplittableRandom rnd = new SplittableRandom(42);
            for (long i = 0; i < n; i++) {
                params.set(i, (float) (rnd.nextGaussian() * 0.05));
                target.set(i, (float) (rnd.nextGaussian() * 0.05));
            }
            ParamSet set = ParamSet.builder()
                    .add("fc1.weight", params, grads, 0, weights)
                    .add("fc1.bias", params, grads, weights, hidden)
                    .build();
            try (AdamW opt = AdamW.builder(set)
                    .options(AdamOptions.ADAMW_DEFAULTS)
                    .group("no_decay", AdamOptions.ADAMW_DEFAULTS.withWeightDecay(0), t -> t.name().endsWith(".bias"))
                    .clipGradNorm(1.0)
                    .build()) {
                // The training-health monitor: it reads each report, logs what it finds (System.Logger "vecopt.monitor")
                // and keeps it as data.
                Monitor monitor = Monitor.builder(opt).totalSteps(steps).build();
                System.out.printf("%5s %10s %12s %12s %10s%n", "step", "lr", "loss", "grad norm", "clip coef");
                for (int step = 0; step < steps; step++) {
                    double loss = 0;
                    for (long i = 0; i < n; i++) { // the backward pass of 0.5 |p - target|^2
                        float d = params.get(i) - target.get(i);
                        grads.set(i, d);
                        loss += 0.5 * d * d;
                    }
                    StepReport r = opt.step(schedule.lr(step));
                    System.out.printf("%5d %10.2e %12.4f %12.4f %10.4f%n", r.step(), r.lr(0), loss, r.gradNorm(),
                            r.clipCoef());
                    monitor.observe(r, loss);
                }
                System.out.println("health monitor: " + (monitor.findingCount() == 0 ? "nothing found"
                        : monitor.findingCount() + " finding(s): " + monitor.findings()));
            }
        }
    }
}
