package vecopt.djl.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of {@code ./vecopt train}. Flags take their value as the next argument or after {@code =}; a bad
 * flag or value throws, naming it.
 */
record TrainFlags(TrainConfig config, List<Recipe> recipes, Path out, Progress.Mode progress, boolean help,
                  int torchThreads, RunCheckpoints checkpoints, boolean recipesGiven) {
    static final int DEFAULT_VOCAB = 32;
    static final int DEFAULT_CONTEXT = 32;
    static final int DEFAULT_WIDTH = 128;
    static final int DEFAULT_HEADS = 4;
    static final int DEFAULT_LAYERS = 4;
    static final int DEFAULT_STEPS = 200;
    static final int DEFAULT_BATCH = 8;
    static final double DEFAULT_LR = 6e-3;
    static final int TRAIN_SEQUENCES = 8192;
    static final int HELD_OUT_SEQUENCES = 128;

    static final String USAGE = """
            usage: ./vecopt train [flags]
              --steps N           optimizer steps per recipe (default %d)
              --lr X              peak learning rate shared by all recipes (default %s)
              --recipes a,b|all   which recipes to run (default all: %s)
              --batch N           sequences per step (default %d)
              --width N           model width (default %d)
              --layers N          transformer layers (default %d)
              --heads N           attention heads (default %d)
              --context N         tokens per sequence (default %d)
              --vocab N           tokens of the task's vocabulary (default %d)
              --seed N            seeds the task, the data, the initial weights and the batch order (default 42)
              --threads N         vecopt's optimizer threads (default 1)
              --torch-threads N   PyTorch's threads for forward and backward (default: available processors)
              --out DIR           where the chart, table and CSV go (default out/)
              --progress bar|lines|none   progress display on stderr (default: bar on a terminal, else lines)
              --checkpoint-every N    save a checkpoint every N steps, in the background (default 0: none)
              --checkpoint-dir DIR    where checkpoints go, one directory per recipe (default OUT/checkpoints)
              --resume FILE       continue the run a checkpoint was saved from (its recipe; the same settings)
            """.formatted(DEFAULT_STEPS, DEFAULT_LR, String.join(",", Recipe.ALL.stream().map(Recipe::name).toList()),
            DEFAULT_BATCH, DEFAULT_WIDTH, DEFAULT_LAYERS, DEFAULT_HEADS, DEFAULT_CONTEXT, DEFAULT_VOCAB);

    static TrainFlags parse(String... args) {
        int vocab = DEFAULT_VOCAB, context = DEFAULT_CONTEXT, width = DEFAULT_WIDTH, heads = DEFAULT_HEADS;
        int layers = DEFAULT_LAYERS, steps = DEFAULT_STEPS, batch = DEFAULT_BATCH, threads = 1;
        int torchThreads = Runtime.getRuntime().availableProcessors();
        long seed = 42;
        double lr = DEFAULT_LR;
        List<Recipe> recipes = Recipe.ALL;
        Path out = Path.of("out");
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
                case "--steps" -> steps = intValue(flag, value);
                case "--batch" -> batch = intValue(flag, value);
                case "--width" -> width = intValue(flag, value);
                case "--layers" -> layers = intValue(flag, value);
                case "--heads" -> heads = intValue(flag, value);
                case "--context" -> context = intValue(flag, value);
                case "--vocab" -> vocab = intValue(flag, value);
                case "--threads" -> threads = intValue(flag, value);
                case "--torch-threads" -> {
                    torchThreads = intValue(flag, value);
                    if (torchThreads <= 0) {
                        throw new IllegalArgumentException("--torch-threads must be > 0, got " + value);
                    }
                }
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
        TrainConfig cfg;
        try {
            cfg = new TrainConfig(vocab, context, width, heads, layers, steps, batch, lr, seed, threads,
                    Math.max(1, steps / 20), TRAIN_SEQUENCES, HELD_OUT_SEQUENCES);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad flag value: " + e.getMessage(), e);
        }
        RunCheckpoints checkpoints = new RunCheckpoints(checkpointEvery,
                checkpointDir != null ? checkpointDir : out.resolve("checkpoints"), resume);
        return new TrainFlags(cfg, recipes, out, progress, help, torchThreads, checkpoints, recipesGiven);
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
