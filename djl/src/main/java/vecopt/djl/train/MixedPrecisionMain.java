package vecopt.djl.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;
import vecopt.clip.NonFinite;
import vecopt.djl.Precision;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;

/**
 * {@code ./vecopt mixed-precision}: the demo's {@code warmup} recipe (AdamW, 10% warmup, cosine) with the optimizer
 * side of a bf16 training stack emulated at the DJL bridge ({@link Precision}): float32 as today, bf16 gradients,
 * bf16 parameters with a float32 master copy, bf16 parameters rounded stochastically (no master), and all-bf16
 * (stochastic parameters and bf16 state). Prints a table and writes it ({@code summary.md}), every step
 * ({@code runs.csv}) and a chart ({@code mixed-precision.svg}, {@code .png}).
 *
 * <pre>
 *   ./vecopt mixed-precision --torch-threads 1 --out docs/mixed-precision
 * </pre>
 */
public final class MixedPrecisionMain {
    static final String USAGE = """
            usage: ./vecopt mixed-precision [flags]
              --mixes a,b         which (default all: %s)
              --steps N           (default 200)
              --seed N            (default 42)
              --width N, --layers N, --heads N, --context N   the model (default the main job's: 128, 4, 4, 32)
              --threads N         vecopt's threads (default 1)
              --torch-threads N   PyTorch's threads (default 1: repeatable numbers)
              --out DIR           (default out/mixed-precision)
              --progress bar|lines|none
            """;
    static final long ROUNDING_SEED = 42;
    static final long STATE_SEED = 7;

    /**
     * One mix: what the optimizer reads and stores, and what it adds to the demo's AdamW. A new state format is one
     * more line here, e.g. {@code new Mix("8-bit-state", Precision.BFLOAT16, b -> b.stochasticRounding(SEED)...)}.
     */
    record Mix(String name, Precision precision, UnaryOperator<AdamW.Builder> options) {
        OptimizerSetup setup() {
            return new OptimizerSetup.Simple(name, (params, clip, threads) -> adamW(params, clip, threads, this),
                    precision);
        }
    }

    /**
     * fp32: today's; bf16-grads: bf16 gradients, float32 parameters; bf16+master: bf16 gradients and parameters,
     * float32 master copy; bf16-sr: bf16 gradients and parameters rounded stochastically, no master; all-bf16:
     * bf16-sr with bf16 state (stochastically rounded moments). Round-to-nearest bf16 parameters without a master
     * copy are not a mix: the engine keeps a master copy for 16-bit parameters unless they are rounded
     * stochastically.
     */
    static final List<Mix> MIXES = List.of(
            new Mix("fp32", Precision.FLOAT32, b -> b.trackNorms(true)),
            new Mix("bf16-grads", Precision.BFLOAT16_GRADIENTS, b -> b),
            new Mix("bf16+master", Precision.BFLOAT16, b -> b),
            new Mix("bf16-sr", Precision.BFLOAT16, b -> b.stochasticRounding(ROUNDING_SEED)),
            new Mix("all-bf16", Precision.BFLOAT16,
                    b -> b.stochasticRounding(ROUNDING_SEED).bfloat16State(STATE_SEED)),
            new Mix("fp32+8bit", Precision.FLOAT32, b -> b.eightBitState()),
            new Mix("bf16+master+8bit", Precision.BFLOAT16, b -> b.eightBitState()));

    private MixedPrecisionMain() {
    }

    /** The demo's AdamW (groups, non-finite policy, clipping as the recipe says) with the mix's additions. */
    static Optimizer<?> adamW(ParamSet params, double clipNorm, int threads, Mix mix) {
        AdamW.Builder b = AdamW.builder(params).options(TrainingRun.ADAMW)
                .group("no_decay", TrainingRun.ADAMW.withWeightDecay(0), TrainingRun::noDecay)
                .threads(threads).onNonFinite(NonFinite.SKIP);
        if (clipNorm > 0) {
            b.clipGradNorm(clipNorm);
        }
        return mix.options().apply(b).build();
    }

    static Mix named(String name) {
        for (Mix m : MIXES) {
            if (m.name().equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown mix '" + name + "'; known: "
                + MIXES.stream().map(Mix::name).toList());
    }

    public static void main(String[] args) throws IOException {
        String all = String.join(",", MIXES.stream().map(Mix::name).toList());
        ComparisonFlags flags;
        List<Mix> mixes = new ArrayList<>();
        try {
            flags = ComparisonFlags.parse(Set.of("--mixes"), args);
            for (String m : flags.list("--mixes", all)) {
                mixes.add(named(m.strip()));
            }
        } catch (IllegalArgumentException e) {
            System.err.println("vecopt mixed-precision: " + e.getMessage());
            System.err.println(USAGE.formatted(all));
            System.exit(2);
            return;
        }
        if (flags.help()) {
            System.out.println(USAGE.formatted(all));
            return;
        }
        flags.configureEngine();
        PrintStream out = System.out;
        TrainConfig cfg = flags.config(flags.intValue("--steps"), TrainFlags.DEFAULT_BATCH, TrainFlags.DEFAULT_LR);
        MarkovTask task = cfg.task();
        MarkovTask.Split data = task.generate(cfg.trainCount(), cfg.heldOutCount(), cfg.context(), cfg.seed());
        double floor = task.oracleLoss(data.heldOut());
        Progress progress = new Progress(flags.progress(), System.err);
        Path dir = flags.out("out/mixed-precision");
        Files.createDirectories(dir);
        long t0 = System.nanoTime();
        Recipe warmup = Recipe.named("warmup");
        List<RunLog> logs = new ArrayList<>();
        for (Mix m : mixes) {
            Recipe r = new Recipe(m.name(), warmup.description(), warmup.norm(), warmup.warmupFraction(),
                    warmup.decay(), warmup.clipNorm());
            logs.add(TrainingRun.run(cfg, r, m.setup(), data, progress));
        }
        String table = table(logs, mixes, floor, cfg);
        out.print(table);
        Files.writeString(dir.resolve("summary.md"), table);
        Files.writeString(dir.resolve("runs.csv"), Summary.csv(logs));
        Path svg = dir.resolve("mixed-precision.svg");
        try {
            out.println("wrote " + ComparisonFigure.mixed(logs, cfg, floor, String.format(Locale.ROOT,
                    "vecopt mixed-precision: AdamW (warmup recipe), GPT 4x128, batch %d, peak lr %s, seed %d;"
                            + " the model float32, the optimizer's side bf16", cfg.batch(),
                    Double.toString(cfg.peakLr()), cfg.seed())).write(svg));
        } catch (Error | RuntimeException e) { // a JDK without fontconfig throws from java.awt's font set-up
            out.println("(no chart: java.awt cannot render here: " + e + ")");
        }
        out.printf(Locale.ROOT, "wrote %s (%.1fs in all)%n", dir, (System.nanoTime() - t0) / 1e9);
    }

    static String table(List<RunLog> logs, List<Mix> mixes, double floor, TrainConfig cfg) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "mixed precision at the optimizer, recipe"
                + " warmup, %d steps of batch %d, seed %d; held-out loss in nats (floor %.3f)%n%n", cfg.steps(),
                cfg.batch(), cfg.seed(), floor));
        sb.append("| mix | gradients | parameters | state bytes/param | final loss | best loss (step) | skipped |"
                + " vecopt step ms | conversions ms | bridge ms/step |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < logs.size(); i++) {
            RunLog l = logs.get(i);
            Mix m = mixes.get(i);
            double[] alone = new double[l.steps];
            for (int s = 0; s < l.steps; s++) {
                alone[s] = l.optimizerMillis[s] - l.conversionMillis[s];
            }
            int best = l.bestEval();
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %.2f | %.4f | %.4f (%d) | %d | %.3f | %.3f | %.3f |%n",
                    m.name(), m.precision().gradients().torchName(), m.precision().parameters().torchName(),
                    l.stateBytesPerParameter, l.finalHeldOutLoss(), l.evalLoss[best], l.evalStep[best],
                    l.skippedSteps(), Summary.quantile(alone, 0.5), Summary.quantile(l.conversionMillis, 0.5),
                    Summary.quantile(l.optimizerMillis, 0.5)));
        }
        return sb.toString();
    }
}
