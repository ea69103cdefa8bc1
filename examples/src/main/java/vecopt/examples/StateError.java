package vecopt.examples;

import java.lang.foreign.Arena;
import java.util.Locale;
import java.util.SplittableRandom;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.EightBitCode;
import vecopt.param.ParamSet;
import vecopt.schedule.Schedule;
import vecopt.schedule.Schedules;

/**
 * How far compressed optimizer state moves a run from float32 state ({@code ./vecopt state-error}): AdamW with
 * float32, bfloat16 ({@code bfloat16State}) and 8-bit block-quantized state ({@code eightBitState}: vecopt's float
 * codes, and bitsandbytes' dynamic maps, {@code EightBitCode.BITSANDBYTES_DYNAMIC}) on the same noisy
 * problem, from the same start, fed the same noise. The problem is a quadratic whose curvatures span four decades,
 * {@code 0.5 * sum h_i (p_i - t_i)^2} with {@code h_i} log-uniform in [1e-4, 1], and a gradient with noise
 * {@code h_i (p_i - t_i) + 0.1 * sqrt(h_i) * xi} (xi standard normal, the same stream for every run): elements whose
 * gradients differ by orders of magnitude share a block of 256, the case block quantization has to get right. Printed
 * per state type: the noise-free loss at a few steps, the distance of the parameters from the float32 run's relative to
 * the float32 run's distance travelled, the relative difference of exp_avg and exp_avg_sq from the float32 run's, and
 * the state's bytes per parameter.
 */
public final class StateError {
    private StateError() {
    }

    public static void main(String[] args) {
        if (args.length > 2 || args.length > 0 && !args[0].matches("\\d+") || args.length > 1 && !args[1].matches("\\d+")) {
            System.err.println("usage: ./vecopt state-error [PARAMETERS [STEPS]]   (default 262144 parameters, 3000 steps)");
            System.exit(args.length > 0 && (args[0].equals("--help") || args[0].equals("-h")) ? 0 : 2);
        }
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1 << 18;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 3000;
        String[] kinds = {"float32", "bfloat16", "8-bit", "8-bit (bitsandbytes maps)"};
        float[][] finals = new float[kinds.length][];
        System.out.printf(Locale.ROOT, "AdamW (lr 1e-2, 5%% warmup + cosine to 0, betas 0.9/0.999, weight decay 0) on %d"
                + " parameters, %d steps; loss = 0.5 sum h (p - t)^2, h log-uniform in [1e-4, 1]%n%n", n, steps);
        System.out.printf(Locale.ROOT, "| state | bytes/param | loss at 0 | %d | %d | %d (end) | |p - p32| / |p32 - p0|"
                + " | exp_avg rel. diff | exp_avg_sq rel. diff |%n", steps / 10, steps / 2, steps);
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        float[][] m32 = new float[1][], v32 = new float[1][];
        float[] p0 = null;
        for (int kind = 0; kind < kinds.length; kind++) {
            try (Arena arena = Arena.ofShared()) {
                Storage p = Storage.allocate(arena, n), g = Storage.allocate(arena, n);
                float[] h = new float[n], t = new float[n];
                SplittableRandom setup = new SplittableRandom(7);
                for (int i = 0; i < n; i++) {
                    h[i] = (float) Math.pow(10, -4 * setup.nextDouble());
                    t[i] = (float) setup.nextGaussian();
                    p.set(i, (float) (0.1 * setup.nextGaussian()));
                }
                if (p0 == null) {
                    p0 = p.toArray(0, n);
                }
                ParamSet set = ParamSet.builder().add("w", p, g, 0, n).build();
                AdamW.Builder b = AdamW.builder(set).options(AdamOptions.ADAMW_DEFAULTS.withWeightDecay(0)).threads(1);
                b = kind == 1 ? b.bfloat16State(3) : kind == 2 ? b.eightBitState()
                        : kind == 3 ? b.eightBitState(EightBitCode.BITSANDBYTES_DYNAMIC, 4096) : b;
                Schedule lr = Schedules.warmupCosine(1e-2, 0, steps / 20, steps);
                StringBuilder losses = new StringBuilder();
                try (AdamW opt = b.build()) {
                    SplittableRandom noise = new SplittableRandom(11);
                    for (int s = 0; s <= steps; s++) {
                        if (s == 0 || s == steps / 10 || s == steps / 2 || s == steps) {
                            losses.append(String.format(Locale.ROOT, " %.4e |", loss(p, h, t, n)));
                        }
                        if (s == steps) {
                            break;
                        }
                        for (int i = 0; i < n; i++) {
                            double d = p.get(i) - t[i];
                            g.set(i, (float) (h[i] * d + 0.1 * Math.sqrt(h[i]) * noise.nextGaussian()));
                        }
                        opt.step(lr.lr(s));
                    }
                    finals[kind] = p.toArray(0, n);
                    float[] m = opt.stateValues("w", "exp_avg"), v = opt.stateValues("w", "exp_avg_sq");
                    if (kind == 0) {
                        m32[0] = m;
                        v32[0] = v;
                    }
                    System.out.printf(Locale.ROOT, "| %s | %.2f |%s %s | %s | %s |%n", kinds[kind],
                            (double) opt.stateBytes() / n, losses,
                            kind == 0 ? "0" : String.format(Locale.ROOT, "%.3e", distance(finals[kind], finals[0], p0)),
                            kind == 0 ? "0" : String.format(Locale.ROOT, "%.3e", relDiff(m, m32[0])),
                            kind == 0 ? "0" : String.format(Locale.ROOT, "%.3e", relDiff(v, v32[0])));
                }
            }
        }
    }

    private static double loss(Storage p, float[] h, float[] t, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double d = p.get(i) - t[i];
            sum += 0.5 * h[i] * d * d;
        }
        return sum;
    }

    /** |a - b| / |b - start|. */
    private static double distance(float[] a, float[] b, float[] start) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
            den += (b[i] - (double) start[i]) * (b[i] - (double) start[i]);
        }
        return Math.sqrt(num / den);
    }

    /** |a - b| / |b|. */
    private static double relDiff(float[] a, float[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }
}
