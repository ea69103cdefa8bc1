package vecopt.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import vecopt.kernel.KernelProvider;

/**
 * {@code ./vecopt bench}: runs the JMH suite (or {@code --quick}, the headline benchmarks in under 3 minutes), saves
 * the results as JMH JSON, prints the table of figures and writes the chart.
 *
 * <pre>
 *   ./vecopt bench --quick                       headline run: table + out/bench/quick.json, .svg, .png
 *   ./vecopt bench [JMH options] [REGEX...]      the suite, e.g. ./vecopt bench AdamBench -p size=67108864 -prof gc
 *   ./vecopt bench --species 256,512 ...         one pass per vector width (forks get -Dvecopt.vector.bits=N)
 *   ./vecopt bench --native 512 ...              the native peer built with -mprefer-vector-width=512
 *   ./vecopt bench --out FILE.json ...           where to save (default out/bench/suite-TIMESTAMP.json)
 *   ./vecopt bench report FILE.json              the table of a saved result
 * </pre>
 */
public final class BenchMain {
    private static final List<String> FORK_ARGS = List.of("--add-modules=jdk.incubator.vector",
            "--enable-native-access=ALL-UNNAMED", "-Xmx8g");

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("report")) {
            if (args.length != 2) {
                System.err.println("usage: ./vecopt bench report FILE.json");
                System.exit(2);
            }
            System.out.print(Figures.table(Figures.of(Result.read(Path.of(args[1])))));
            return;
        }
        boolean quick = false;
        List<String> species = new ArrayList<>();
        String nativeLib = null;
        Path out = null;
        List<String> jmhArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--species" -> species.addAll(Arrays.asList(need(args, ++i, "--species").split(",")));
                case "--native" -> nativeLib = need(args, ++i, "--native");
                case "--out" -> out = Path.of(need(args, ++i, "--out"));
                default -> jmhArgs.add(args[i]);
            }
        }
        for (String s : species) {
            if (!List.of("128", "256", "512").contains(s)) {
                throw new IllegalArgumentException("--species takes 128, 256 or 512, comma-separated; got '" + s + "'");
            }
        }
        if (out == null) {
            out = Path.of("out", "bench", quick ? "quick.json"
                    : "suite-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".json");
        }
        Files.createDirectories(out.toAbsolutePath().getParent());

        System.out.println("kernels (this JVM): " + KernelProvider.kernels().describe()
                + "; cores: " + Runtime.getRuntime().availableProcessors());
        if (NativeKernels.available()) {
            System.out.println("native peer: " + NativeKernels.library() + " (GOMP_SPINCOUNT="
                    + System.getenv().getOrDefault("GOMP_SPINCOUNT", "libgomp default") + ")");
        } else {
            System.out.println("native peer skipped: " + NativeKernels.unavailableReason());
        }

        List<RunResult> results = new ArrayList<>();
        List<String> passes = species.isEmpty() ? java.util.Collections.singletonList(null) : species;
        for (String bits : passes) {
            List<String> fork = new ArrayList<>(FORK_ARGS);
            if (bits != null) {
                fork.add("-Dvecopt.vector.bits=" + bits);
            }
            if (nativeLib != null) {
                fork.add("-Dvecopt.bench.native=" + nativeLib);
            }
            if (quick) {
                for (QuickPlan.Run run : QuickPlan.runs()) {
                    System.out.println("running " + run.include() + (bits == null ? "" : " at " + bits + " bits"));
                    results.addAll(run(run.configure(base(jmhArgs, fork))));
                }
            } else {
                ChainedOptionsBuilder b = base(jmhArgs, fork);
                if (!NativeKernels.available()) {
                    b.exclude(".*\\.nativeC$").exclude(".*CeilingBench.*");
                }
                results.addAll(run(b));
            }
        }
        try (PrintStream ps = new PrintStream(Files.newOutputStream(out))) {
            ResultFormatFactory.getInstance(ResultFormatType.JSON, ps).writeOut(results);
        }
        List<Result> saved = Result.read(out);
        System.out.println();
        System.out.print(Figures.table(Figures.of(saved)));
        System.out.println("\nresults: " + out);
        String name = out.getFileName().toString().replaceFirst("\\.json$", "");
        Path svg = out.resolveSibling(name + ".svg");
        try {
            Chart.write(saved, svg);
            System.out.println("chart:   " + svg + " (and .png)");
        } catch (IllegalArgumentException e) {
            System.out.println("no chart: " + e.getMessage());
        }
    }

    private static ChainedOptionsBuilder base(List<String> jmhArgs, List<String> fork) throws Exception {
        CommandLineOptions cmd = new CommandLineOptions(jmhArgs.toArray(new String[0]));
        return new OptionsBuilder().parent(cmd).jvmArgsAppend(fork.toArray(new String[0]));
    }

    private static Collection<RunResult> run(ChainedOptionsBuilder b) throws Exception {
        return new Runner(b.build()).run();
    }

    private static String need(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i];
    }

    /** The headline benchmarks of {@code --quick}: short iterations, one fork, the sizes that cross the hierarchy. */
    static final class QuickPlan {
        /** One JMH invocation: which benchmarks, with which parameters. */
        record Run(String include, String[][] params) {
            ChainedOptionsBuilder configure(ChainedOptionsBuilder b) {
                b.include(include).forks(1).warmupIterations(2).warmupTime(TimeValue.milliseconds(800))
                        .measurementIterations(3).measurementTime(TimeValue.milliseconds(400))
                        .verbosity(VerboseMode.SILENT);
                for (String[] p : params) {
                    b.param(p[0], Arrays.copyOfRange(p, 1, p.length));
                }
                return b;
            }
        }

        static final String S32K = "32768", S1M = "1048576", S16M = "16777216";

        static List<Run> runs() {
            List<Run> runs = new ArrayList<>();
            boolean nat = NativeKernels.available();
            String peers = nat ? "engine|reference|javaLoop|nativeC" : "engine|reference|javaLoop";
            runs.add(new Run("AdamBench\\.(" + peers + ")$",
                    new String[][]{{"adam", "adamw"}, {"memory", "offheap"}, {"size", S32K, S1M, S16M}}));
            runs.add(new Run(nat ? "SgdBench\\.(engine|reference|nativeC)$" : "SgdBench\\.(engine|reference)$",
                    new String[][]{{"sgd", "momentum"}, {"memory", "offheap"}, {"size", S16M}}));
            runs.add(new Run(nat ? "StepBench\\.(step|nativeC)$" : "StepBench\\.step$",
                    new String[][]{{"optimizer", "adamw"}, {"memory", "offheap"}, {"size", S16M}, {"threads", "1", "2"}}));
            runs.add(new Run("ClipBench\\.(norm|fusedClipAdamW|clipThenAdamW)$",
                    new String[][]{{"size", S16M}, {"threads", "1", "2"}}));
            if (nat) {
                runs.add(new Run("CeilingBench\\.adamwTraffic$",
                        new String[][]{{"size", S32K, S1M, S16M}, {"threads", "1", "2"}}));
                runs.add(new Run("CeilingBench\\.read$", new String[][]{{"size", S16M}, {"threads", "1", "2"}}));
            }
            return runs;
        }
    }
}
