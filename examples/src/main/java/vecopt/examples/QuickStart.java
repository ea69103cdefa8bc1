package vecopt.examples;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import vecopt.kernel.KernelProvider;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;

/**
 * The smallest useful vecopt program: an off-heap shard of a two-layer model, AdamW with a no-decay group for the
 * biases, a few steps on a quadratic loss whose gradient is {@code p - target}, and what each step did.
 */
public final class QuickStart {
    public static void main(String[] args) {
        int hidden = 256;
        long weights = 784L * hidden;
        long n = weights + hidden;
        System.out.println("vecopt quick start: AdamW over an off-heap shard of " + n + " parameters");
        System.out.println("kernels: " + KernelProvider.kernels().describe());
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
                    .options(AdamOptions.FINE_TUNING)
                    .group("no_decay", AdamOptions.FINE_TUNING.withWeightDecay(0), t -> t.name().endsWith(".bias"))
                    .build()) {
                System.out.println("groups: " + opt.groups());
                System.out.printf("%5s %12s %14s %14s%n", "step", "lr", "loss before", "|p - target|max");
                double peak = 1e-3;
                int total = 20;
                for (int step = 0; step < total; step++) {
                    double loss = 0;
                    for (long i = 0; i < n; i++) { // gradient of 0.5 * |p - target|^2
                        float d = params.get(i) - target.get(i);
                        grads.set(i, d);
                        loss += 0.5 * d * d;
                    }
                    double lr = peak * Math.min(1.0, (step + 1) / 5.0); // 5 steps of linear warmup
                    StepReport r = opt.step(lr);
                    double maxErr = 0;
                    for (long i = 0; i < n; i++) {
                        maxErr = Math.max(maxErr, Math.abs(params.get(i) - target.get(i)));
                    }
                    System.out.printf("%5d %12.3e %14.6f %14.6f%n", r.step(), r.lr(0), loss, maxErr);
                }
                System.out.println("exp_avg[0] of fc1.weight after " + opt.steps() + " steps: "
                        + opt.state("fc1.weight", "exp_avg").getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0));
            }
        }
    }
}
