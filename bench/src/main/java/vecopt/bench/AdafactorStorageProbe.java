package vecopt.bench;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.SplittableRandom;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.Adafactor;
import vecopt.optim.AdafactorOptions;
import vecopt.param.ParamSet;
import vecopt.param.Shape;

/**
 * Thread CPU time per element of Adafactor's step (one thread, off-heap, one {@code rows x cols} matrix, HF's
 * defaults, beta1 optional) under each storage of parameters, gradients and state, the configurations taking turns
 * sample by sample in one JVM so that a loaded machine's disturbances fall on all of them alike (as
 * {@link EightBitProbe}). Prints per configuration the median and smallest sample in ns per element, its traffic in
 * bytes per parameter (README "Mixed precision", Adafactor's table) and the median against float32's.
 *
 * <pre>{@code
 * java --add-modules jdk.incubator.vector -cp bench/target/classes:engine/target/classes \
 *     vecopt.bench.AdafactorStorageProbe 4096 4096 false 15
 * }</pre>
 * Arguments: rows, columns, beta1 ({@code true} for 0.9), samples per configuration.
 */
public final class AdafactorStorageProbe {
    /** name, parameter type, gradient type, stochastic rounding, bfloat16 state, bytes per parameter (no beta1). */
    private record Config(String name, Dtype params, Dtype grads, boolean stochastic, boolean bf16State, int bytes) {
    }

    private static final Config[] CONFIGS = {
        new Config("fp32", Dtype.FLOAT32, Dtype.FLOAT32, false, false, 24),
        new Config("bf16-grads", Dtype.FLOAT32, Dtype.BFLOAT16, false, false, 18),
        new Config("bf16-master", Dtype.BFLOAT16, Dtype.BFLOAT16, false, false, 20),
        new Config("fp16-master", Dtype.FLOAT16, Dtype.FLOAT16, false, false, 20),
        new Config("bf16-sr", Dtype.BFLOAT16, Dtype.BFLOAT16, true, false, 12),
        new Config("bf16-all", Dtype.BFLOAT16, Dtype.BFLOAT16, true, true, 12),
    };

    private AdafactorStorageProbe() {
    }

    public static void main(String[] args) {
        if (args.length != 4) {
            throw new IllegalArgumentException("usage: AdafactorStorageProbe ROWS COLS BETA1 SAMPLES");
        }
        int rows = Integer.parseInt(args[0]), cols = Integer.parseInt(args[1]), samples = Integer.parseInt(args[3]);
        boolean beta1 = Boolean.parseBoolean(args[2]);
        long n = (long) rows * cols;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofShared()) {
            Adafactor[] opts = new Adafactor[CONFIGS.length];
            for (int i = 0; i < CONFIGS.length; i++) {
                Config c = CONFIGS[i];
                Storage p = Storage.allocate(arena, n, c.params()), g = Storage.allocate(arena, n, c.grads());
                SplittableRandom r = new SplittableRandom(i);
                for (long e = 0; e < n; e++) {
                    p.set(e, (float) r.nextGaussian());
                    g.set(e, (float) (r.nextGaussian() * 0.01));
                }
                ParamSet set = ParamSet.builder().add("w", p, g, 0, n, Shape.of(rows, cols)).build();
                var b = Adafactor.builder(set).options(AdafactorOptions.DEFAULTS.withBeta1(beta1 ? 0.9 : null))
                        .threads(1);
                b = c.stochastic() ? b.stochasticRounding(1) : b;
                opts[i] = (c.bf16State() ? b.bfloat16State(2) : b).build();
                for (int w = 0; w < 3; w++) { // warm-up: the JIT compiles each configuration's loops
                    opts[i].step(1.0);
                }
            }
            double[][] ns = new double[CONFIGS.length][samples];
            for (int s = 0; s < samples; s++) {
                for (int i = 0; i < CONFIGS.length; i++) {
                    long t0 = mx.getCurrentThreadCpuTime();
                    opts[i].step(1.0);
                    ns[i][s] = (mx.getCurrentThreadCpuTime() - t0) / (double) n;
                }
            }
            double base = 0;
            for (int i = 0; i < CONFIGS.length; i++) {
                double[] x = ns[i].clone();
                Arrays.sort(x);
                double median = x[x.length / 2];
                base = i == 0 ? median : base;
                System.out.printf("%-12s %2d B/param  median %.3f ns/elem  min %.3f  x fp32 %.2f%n", CONFIGS[i].name(),
                        CONFIGS[i].bytes() + (beta1 ? CONFIGS[i].bf16State() ? 4 : 8 : 0), median, x[0],
                        median / base);
                opts[i].close();
            }
        }
    }
}
