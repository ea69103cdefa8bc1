package vecopt.examples.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of {@code ./vecopt train}. Flags take their value as the next argument or after {@code =}; a bad
 * flag or value throws, naming it.
 */
record TrainFlags(TrainConfig config, List<Recipe> recipes, Path out, Progress.Mode progress, boolean help,
                  RunCheckpoints checkpoints, boolean recipesGiven) {
    static final int DEFAULT_HIDDEN = 256;
    static final int DEFAULT_STEPS = 600;
    static final int DEFAULT_BATCH = 128;
    static final double DEFAULT_ADAMW_LR = 1.0;
    static final double DEFAULT_SGD_LR = 2.0;
    static final int TRAIN_EXAMPLES = 32768;
    static final int HELD_OUT_EXAMPLES = 2048;

    static final String USAGE = """
            usage: ./vecopt train [flags]
              --hidden N          hidden width of the MLP (default %d)
              --steps N           optimizer steps per recipe (default %d)
              --batch N           examples per step (default %d)
              --lr X              peak learning rate shared by all recipes (default %s for adamw, %s for sgd)
              --recipes a,b|all   which recipes to run (default all: %s)
              --optimizer adamw|sgd   AdamW with the recipe's hyperparameters, or SGD with momentum 0.9 (default adamw)
              --seed N            seeds data, initial parameters and batch order (default 42)
              --threads N         optimizer threads (default: available processors)
              --out DIR           where the chart, table and CSV go (default out/)
              --progress bar|lines|none   progress display on stderr (default: bar on a terminal, else lines)
              --checkpoint-every N    save a checkpoint every N steps, in the background (default 0: none)
              --checkpoint-dir DIR    where checkpoints go, one directory per recipe (default OUT/checkpoints)
              --resume FILE       continue the run a checkpoint was saved from (its recipe; the same settings)
            """.formatted(DEFAULT_HIDDEN, DEFAULT_STEPS, DEFAULT_BATCH, DEFAULT_ADAMW_LR, DEFAULT_SGD_LR,
            String.join(",", Recipe.ALL.stream().map(Recipe::name).toList()));

    static TrainFlags parse(String... args) {
        int hidden = DEFAULT_HIDDEN, steps = DEFAULT_STEPS, batch = DEFAULT_BATCH;
        int threads = Runtime.getRuntime().availableProcessors();
        long seed = 42;
        Double lr = null;
        List<Recipe> recipes = Recipe.ALL;
        Path out = Path.of("out");
        OptimizerKind kind = OptimizerKind.ADAMW;
        Progress.Mode progress = defaultProgress();
        boolean help = false;
        int checkpointEvery = 0;
        Path checkpointDir = null;
        Path resume = null;
        boolean recipesGiven = false;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("-h") || flag.equals("--help")) {
                help = true;
                continue;
            }
            String value;
            int eq = flag.indexOf('=');
            if (eq > 0) {
                value = flag.substring(eq + 1);
                flag = flag.substring(0, eq);
            } else {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(flag + " needs a value");
                }
                value = args[++i];
            }
            switch (flag) {
                case "--hidden" -> hidden = intValue(flag, value);
                case "--steps" -> steps = intValue(flag, value);
                case "--batch" -> batch = intValue(flag, value);
                case "--threads" -> threads = intValue(flag, value);
                case "--seed" -> seed = longValue(flag, value);
                case "--lr" -> lr = doubleValue(flag, value);
                case "--out" -> out = Path.of(value);
                case "--recipes" -> {
                    recipes = recipes(value);
                    recipesGiven = true;
                }
                case "--checkpoint-every" -> {
                    checkpointEvery = intValue(flag, value);
                    if (checkpointEvery < 0) {
                        throw new IllegalArgumentException("--checkpoint-every must be >= 0, got " + value);
                    }
                }
                case "--checkpoint-dir" -> checkpointDir = Path.of(value);
                case "--resume" -> resume = Path.of(value);
                case "--optimizer" -> kind = switch (value) {
                    case "adamw" -> OptimizerKind.ADAMW;
                    case "sgd" -> OptimizerKind.SGD;
                    default -> throw new IllegalArgumentException("--optimizer must be adamw or sgd, got '" + value + "'");
                };
                case "--progress" -> progress = switch (value) {
                    case "bar" -> Progress.Mode.BAR;
                    case "lines" -> Progress.Mode.LINES;
                    case "none" -> Progress.Mode.NONE;
                    default -> throw new IllegalArgumentException(
                            "--progress must be bar, lines or none, got '" + value + "'");
                };
                default -> throw new IllegalArgumentException("unknown flag '" + flag + "'");
            }
        }
        double peak = lr != null ? lr : kind == OptimizerKind.ADAMW ? DEFAULT_ADAMW_LR : DEFAULT_SGD_LR;
        TrainConfig cfg;
        try {
            cfg = new TrainConfig(hidden, steps, batch, peak, seed, threads, kind, Math.max(1, steps / 40),
                    TRAIN_EXAMPLES, HELD_OUT_EXAMPLES);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad flag value: " + e.getMessage(), e);
        }
        RunCheckpoints checkpoints = new RunCheckpoints(checkpointEvery,
                checkpointDir != null ? checkpointDir : out.resolve("checkpoints"), resume);
        return new TrainFlags(cfg, recipes, out, progress, help, checkpoints, recipesGiven);
    }

    /**
     * A bar when stderr is a terminal, else lines. Java cannot tell where stderr goes, so {@code ./vecopt} checks
     * and says so in {@code VECOPT_PROGRESS}; run directly, the console stands in for it.
     */
    private static Progress.Mode defaultProgress() {
        String env = System.getenv("VECOPT_PROGRESS");
        if ("bar".equals(env)) {
            return Progress.Mode.BAR;
        }
        if ("lines".equals(env)) {
            return Progress.Mode.LINES;
        }
        return System.console() != null && System.console().isTerminal() ? Progress.Mode.BAR : Progress.Mode.LINES;
    }

    private static List<Recipe> recipes(String value) {
        if (value.equals("all")) {
            return Recipe.ALL;
        }
        List<Recipe> out = new ArrayList<>();
        for (String name : value.split(",")) {
            Recipe r = Recipe.named(name.strip());
            if (out.contains(r)) {
                throw new IllegalArgumentException("--recipes names '" + r.name() + "' twice");
            }
            out.add(r);
        }
        return List.copyOf(out);
    }

    private static int intValue(String flag, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be an integer, got '" + value + "'");
        }
    }

    private static long longValue(String flag, String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be an integer, got '" + value + "'");
        }
    }

    private static double doubleValue(String flag, String value) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be a number, got '" + value + "'");
        }
    }
}
