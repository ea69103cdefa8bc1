package vecopt.bench;

import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
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
 *   ./vecopt bench --headline                    every target of the suite at 2 forks (about 20 minutes)
 *   ./vecopt bench --full                        the whole matrix, 3 forks (about 75 minutes, estimated): out/bench/full.*
 *   ./vecopt bench [JMH options] [REGEX...]      the suite, e.g. ./vecopt bench AdamBench -p size=67108864 -prof gc
 *   ./vecopt bench --species 256,512 ...         one pass per vector width (forks get -Dvecopt.vector.bits=N)
 *   ./vecopt bench --native 512 ...              the native peer built with -mprefer-vector-width=512
 *   ./vecopt bench --out FILE.json ...           where to save (default out/bench/suite-TIMESTAMP.json)
 *   ./vecopt bench report FILE.json              the table of a saved result
 * </pre>
 */
public final class BenchMain {
    /**
     * What the forks get beyond the flags of this JVM. JMH starts each fork with the flags of the JVM that runs it
     * (when no {@code jvmArgs} are set, as here), so the JVM flags stay defined in one place, the parent pom, which
     * {@code ./vecopt} reads to start this JVM. A constant, so that the benchmarks' {@code @Fork} annotations (read
     * when JMH is run some other way) say the same.
     */
    static final String FORK_HEAP = "-Xmx8g";

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.print("""
                    usage: ./vecopt bench [--quick | --headline | --full] [options] [JMH options] [REGEX...]
                      --quick            headline benchmarks in under 3 minutes (1 short fork: indicative)
                      --headline         every target of the suite at 2 forks (about 20 minutes)
                      --full             the whole matrix at 3 forks (about 75 minutes, estimated)
                      --species 256,512  one pass per vector width
                      --native 512       the native peer built with 512-bit vectors
                      --out FILE.json    where to save (default out/bench/<plan>.json)
                      report FILE.json   the table of a saved result
                    then: ./vecopt compare OLD.json NEW.json   and   ./vecopt chart FILE.json
                    """);
            return;
        }
        if (args.length > 0 && args[0].equals("report")) {
            if (args.length != 2) {
                System.err.println("usage: ./vecopt bench report FILE.json");
                System.exit(2);
            }
            System.out.print(Figures.table(Figures.of(Result.read(Path.of(args[1])))));
            return;
        }
        Plan plan = null;
        List<String> species = new ArrayList<>();
        String nativeLib = null;
        Path out = null;
        List<String> jmhArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> plan = Plan.quick();
                case "--full" -> plan = Plan.full();
                case "--headline" -> plan = Plan.headline();
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
        if (nativeLib != null) {
            System.setProperty("vecopt.bench.native", nativeLib); // this JVM too: the banner and the plans agree
        }
        if (out == null) {
            out = Path.of("out", "bench", plan != null ? plan.name() + ".json"
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
            List<String> fork = new ArrayList<>(List.of(FORK_HEAP));
            if (bits != null) {
                fork.add("-Dvecopt.vector.bits=" + bits);
            }
            if (nativeLib != null) {
                fork.add("-Dvecopt.bench.native=" + nativeLib);
            }
            if (plan != null) {
                for (Plan.Run run : plan.runs()) {
                    System.out.println("running " + run.include() + (bits == null ? "" : " at " + bits + " bits"));
                    results.addAll(run(plan.configure(run, base(jmhArgs, fork))));
                }
            } else {
                if (!NativeKernels.available()) {
                    System.out.println("excluding the native benchmarks and ceilings: " + NativeKernels.unavailableReason());
                }
                ChainedOptionsBuilder b = base(jmhArgs, fork);
                if (!NativeKernels.available()) {
                    b.exclude(".*\\.native[A-Za-z]*$").exclude(".*CeilingBench.*");
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
            Path png = ThroughputChart.write(saved, svg);
            System.out.println("chart:   " + svg + " and " + png);
        } catch (IllegalArgumentException e) {
            System.out.println("no chart: " + e.getMessage());
        }
    }

    private static ChainedOptionsBuilder base(List<String> jmhArgs, List<String> fork) throws Exception {
        CommandLineOptions cmd = new CommandLineOptions(jmhArgs.toArray(new String[0]));
        return new OptionsBuilder().parent(cmd).jvmArgsAppend(fork.toArray(new String[0]));
    }

    private static Collection<RunResult> run(ChainedOptionsBuilder b) throws Exception {
        Options options = b.build();
        // What JMH's own Runner(Options) would print to, but through the notice filter: JMH copies each fork's stderr
        // into its output, even when silent, and every fork's JVM begins with the incubator notice.
        OutputStream sink = options.getOutput().hasValue()
                ? new FileOutputStream(options.getOutput().get())
                : new FilterOutputStream(System.out) {
                    @Override
                    public void close() throws IOException {
                        flush(); // System.out stays open
                    }
                };
        PrintStream out = new PrintStream(new NoticeFilter(sink), true, Charset.defaultCharset());
        try {
            return new Runner(options, OutputFormatFactory.createFormatInstance(out,
                    options.verbosity().orElse(VerboseMode.NORMAL))).run();
        } finally {
            out.close();
        }
    }

    /**
     * Drops the lines that begin with the JVM's "WARNING: Using incubator modules" and passes everything else on as
     * it comes: a line is held back only while it could still be the notice, so JMH's "Iteration 1: ..." lines,
     * written in two parts, still appear as each part is written.
     */
    static final class NoticeFilter extends FilterOutputStream {
        static final byte[] NOTICE = "WARNING: Using incubator modules".getBytes(StandardCharsets.US_ASCII);
        private final byte[] held = new byte[NOTICE.length];
        private int matched; // bytes of NOTICE matched at the start of the current line, and held back
        private boolean lineStart = true, dropping;

        NoticeFilter(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            if (dropping) {
                if (b == '\n') {
                    dropping = false;
                    lineStart = true;
                }
                return;
            }
            if (lineStart && matched < NOTICE.length && b == NOTICE[matched]) {
                held[matched++] = (byte) b;
                if (matched == NOTICE.length) { // the notice: drop it to the end of its line
                    matched = 0;
                    dropping = true;
                }
                return;
            }
            if (matched > 0) { // not the notice after all
                out.write(held, 0, matched);
                matched = 0;
            }
            lineStart = b == '\n';
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            for (int i = 0; i < len; i++) {
                write(b[off + i]);
            }
        }

        @Override
        public void flush() throws IOException {
            out.flush(); // a held prefix stays held: it is either the notice or is written with the next byte
        }
    }

    private static String need(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i];
    }

    /**
     * A curated run of the suite: the benchmarks and parameters of each JMH invocation, and how long to measure.
     * {@code quick} is the headline set in under 3 minutes (one short fork each: indicative, wide error bars);
     * {@code full} is the whole matrix (every kernel, size, memory and thread count), pruned where a dimension adds
     * nothing (heap and the java loop only for AdamW; threads only where a pool or OpenMP runs), at 3 forks: about 75
     * minutes on 2 cores (estimated).
     */
    record Plan(String name, int forks, int warmups, TimeValue warmup, int iterations, TimeValue iteration,
                List<Run> runs) {
        /** One JMH invocation: which benchmarks, with which parameters. */
        record Run(String include, String[][] params) {
        }

        ChainedOptionsBuilder configure(Run run, ChainedOptionsBuilder b) {
            b.include(run.include()).forks(forks).warmupIterations(warmups).warmupTime(warmup)
                    .measurementIterations(iterations).measurementTime(iteration)
                    .verbosity(VerboseMode.SILENT).addProfiler(GCProfiler.class);
            for (String[] p : run.params()) {
                b.param(p[0], Arrays.copyOfRange(p, 1, p.length));
            }
            return b;
        }

        static final String S32K = "32768", S1M = "1048576", S16M = "16777216", S64M = "67108864";

        static Plan quick() {
            List<Run> runs = new ArrayList<>();
            boolean nat = NativeKernels.available();
            runs.add(new Run(nat ? "AdamBench\\.(engine|reference|nativeC)$" : "AdamBench\\.(engine|reference)$",
                    new String[][]{{"adam", "adamw"}, {"memory", "offheap"}, {"size", S32K, S1M, S16M}}));
            runs.add(new Run("AdamBench\\.javaLoop$",
                    new String[][]{{"adam", "adamw"}, {"memory", "offheap"}, {"size", S1M}}));
            runs.add(new Run(nat ? "SgdBench\\.(engine|reference|nativeC)$" : "SgdBench\\.(engine|reference)$",
                    new String[][]{{"sgd", "momentum"}, {"memory", "offheap"}, {"size", S16M}}));
            runs.add(new Run(nat ? "StepBench\\.(step|nativeC|traffic)$" : "StepBench\\.step$",
                    new String[][]{{"optimizer", "adamw"}, {"memory", "offheap"}, {"size", S16M}, {"threads", "1", "2"}}));
            runs.add(new Run(nat ? "StepBench\\.(step|nativeC|traffic)$" : "StepBench\\.step$",
                    new String[][]{{"optimizer", "adagrad", "rmsprop", "rmsprop_centered_momentum", "lion", "adamax",
                            "nadam", "radam", "adadelta", "rprop", "asgd"}, {"memory", "offheap"}, {"size", S16M}, {"threads", "1"}}));
            // the multi-pass ones, read against their own passes' ceilings (Adafactor also against its native peer)
            runs.add(new Run(nat ? "StepBench\\.(step|traffic)$" : "StepBench\\.step$",
                    new String[][]{{"optimizer", "lamb", "lars", "sfadamw"},
                    {"memory", "offheap"}, {"size", S16M}, {"threads", "1"}}));
            runs.add(new Run(nat ? "StepBench\\.(step|nativeC|traffic)$" : "StepBench\\.step$",
                    new String[][]{{"optimizer", "adafactor"}, {"memory", "offheap"}, {"size", S16M}, {"threads", "1"}}));
            runs.add(new Run(nat ? "ClipBench\\.(norm|nativeNorm|fusedClipAdamW|clipThenAdamW|nativeC)$"
                    : "ClipBench\\.(norm|fusedClipAdamW|clipThenAdamW)$",
                    new String[][]{{"size", S16M}, {"threads", "1", "2"}}));
            if (nat) {
                runs.add(new Run("CeilingBench\\.adamwTraffic$", new String[][]{{"size", S32K, S1M, S16M}, {"threads", "1"}}));
                runs.add(new Run("CeilingBench\\.(adamwTraffic|read)$", new String[][]{{"size", S16M}, {"threads", "2"}}));
                runs.add(new Run("CeilingBench\\.read$",
                        new String[][]{{"size", S16M}, {"threads", "1"}}));
            }
            runs.add(new Run(nat ? "MixedBench\\.(step|traffic)$" : "MixedBench\\.step$",
                    new String[][]{{"storage", "fp32", "bf16-grads", "bf16-master", "bf16-sr", "bf16-all", "fp32-q8", "bf16-master-q8",
                            "bf16-sr-q8"}, {"size", S16M},
                            {"threads", "1", "2"}}));
            return new Plan("quick", 1, 2, TimeValue.milliseconds(800), 3, TimeValue.milliseconds(400), runs);
        }

        /** What each target of the suite needs, at 2 forks: the figures of the README's table. */
        static Plan headline() {
            List<Run> runs = new ArrayList<>();
            boolean nat = NativeKernels.available();
            String peers = nat ? "(engine|reference|nativeC)" : "(engine|reference)";
            runs.add(new Run("AdamBench\\." + peers + "$",
                    new String[][]{{"adam", "adamw"}, {"memory", "offheap"}, {"size", S32K, S1M, S16M, S64M}}));
            runs.add(new Run("AdamBench\\.(engine|javaLoop)$",
                    new String[][]{{"adam", "adamw"}, {"memory", "heap"}, {"size", S32K, S64M}}));
            runs.add(new Run("AdamBench\\." + peers + "$",
                    new String[][]{{"adam", "adam_l2", "amsgrad"}, {"memory", "offheap"}, {"size", S64M}}));
            runs.add(new Run("SgdBench\\." + peers + "$",
                    new String[][]{{"sgd", "momentum", "nesterov"}, {"memory", "offheap"}, {"size", S64M}}));
            runs.add(new Run(nat ? "StepBench\\.(step|nativeC|traffic)$" : "StepBench\\.step$",
                    new String[][]{{"optimizer", "adamw", "amsgrad", "momentum"}, {"memory", "offheap"},
                            {"size", S32K, S64M}, {"threads", "1", "2"}}));
            runs.add(new Run(nat ? "StepBench\\.(step|nativeC|traffic)$" : "StepBench\\.step$", // each with its native peer
                    new String[][]{{"optimizer", "adagrad", "rmsprop", "rmsprop_centered_momentum", "lion", "adamax",
                            "nadam", "radam", "adadelta", "rprop", "asgd"}, {"memory", "offheap"}, {"size", S32K, S64M}, {"threads", "1", "2"}}));
            runs.add(new Run(nat ? "StepBench\\.(step|traffic)$" : "StepBench\\.step$", // against their passes' traffic
                    new String[][]{{"optimizer", "lamb", "lars", "sfadamw"}, {"memory", "offheap"},
                            {"size", S64M}, {"threads", "1", "2"}}));
            runs.add(new Run(nat ? "StepBench\\.(step|nativeC|traffic)$" : "StepBench\\.step$", // and its native peer
                    new String[][]{{"optimizer", "adafactor"}, {"memory", "offheap"}, {"size", S64M},
                            {"threads", "1", "2"}}));
            runs.add(new Run("ClipBench\\.", new String[][]{{"size", S32K, S64M}, {"threads", "1", "2"}}));
            runs.add(new Run(nat ? "LayoutBench\\.(step|nativeC)$" : "LayoutBench\\.step$",
                    new String[][]{{"layout", "flat", "gpt2", "10k", "100k"}, {"placement", "separate"},
                            {"threads", "1", "2"}}));
            if (nat) {
                runs.add(new Run("CeilingBench\\.", new String[][]{{"size", S32K, S1M, S16M, S64M}, {"threads", "1", "2"}}));
            } else {
                runs.removeIf(r -> r.include().startsWith("ClipBench"));
                runs.add(new Run("ClipBench\\.(norm|fusedClipAdamW|clipThenAdamW)$",
                        new String[][]{{"size", S32K, S64M}, {"threads", "1", "2"}}));
            }
            runs.add(new Run(nat ? "MixedBench\\.(step|traffic)$" : "MixedBench\\.step$",
                    new String[][]{{"storage", "fp32", "bf16-grads", "bf16-master", "bf16-sr", "bf16-all", "fp32-q8", "bf16-master-q8",
                            "bf16-sr-q8"},
                            {"size", S32K, S1M, S64M}, {"threads", "1", "2"}}));
            return new Plan("headline", 2, 2, TimeValue.seconds(1), 3, TimeValue.seconds(1), runs);
        }

        static Plan full() {
            String[] sizes = {"size", S32K, S1M, S16M, S64M};
            List<Run> runs = new ArrayList<>();
            runs.add(new Run("AdamBench\\.(engine|scalar|javaLoop|nativeC|reference)$",
                    new String[][]{{"adam", "adamw"}, {"memory", "offheap", "heap"}, sizes}));
            runs.add(new Run("AdamBench\\.(engine|nativeC|reference)$",
                    new String[][]{{"adam", "adam_l2", "amsgrad"}, {"memory", "offheap"}, sizes}));
            runs.add(new Run("SgdBench\\.(engine|nativeC|reference)$",
                    new String[][]{{"sgd", "momentum", "nesterov"}, {"memory", "offheap"}, sizes}));
            runs.add(new Run("StepBench\\.(step|nativeC|traffic)$",
                    new String[][]{{"optimizer", "adamw", "amsgrad", "momentum"}, {"memory", "offheap"}, sizes, {"threads", "1", "2"}}));
            runs.add(new Run("ClipBench\\.", new String[][]{sizes, {"threads", "1", "2"}}));
            runs.add(new Run("CeilingBench\\.", new String[][]{sizes, {"threads", "1", "2"}}));
            if (!NativeKernels.available()) {
                runs.removeIf(r -> r.include().startsWith("CeilingBench"));
            }
            return new Plan("full", 3, 2, TimeValue.seconds(1), 4, TimeValue.seconds(1), runs);
        }
    }
}
