package vecopt.djl.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command line of the comparisons ({@code ./vecopt large-batch}, {@code ./vecopt mixed-precision}): the flags
 * every one shares (as {@code ./vecopt train} names them) and a few of each command's own. Flags take their value as
 * the next argument or after {@code =}; a bad flag or value throws, naming it.
 */
record ComparisonFlags(Map<String, String> values, boolean help) {
    /** Flags every comparison takes, with their defaults. */
    static final Map<String, String> SHARED = Map.of("--steps", "200", "--seed", "42", "--threads", "1",
            "--torch-threads", "1", "--progress", "lines", "--width", String.valueOf(TrainFlags.DEFAULT_WIDTH),
            "--layers", String.valueOf(TrainFlags.DEFAULT_LAYERS), "--heads", String.valueOf(TrainFlags.DEFAULT_HEADS),
            "--context", String.valueOf(TrainFlags.DEFAULT_CONTEXT));

    static ComparisonFlags parse(Set<String> own, String... args) {
        Map<String, String> values = new LinkedHashMap<>();
        boolean help = false;
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
            } else if (own.contains(flag + "!")) { // a switch: no value
                values.put(flag, "true");
                continue;
            } else {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(flag + " needs a value");
                }
                value = args[++i];
            }
            if (!SHARED.containsKey(flag) && !own.contains(flag) && !flag.equals("--out")) {
                throw new IllegalArgumentException("unknown flag '" + flag + "'");
            }
            values.put(flag, value);
        }
        return new ComparisonFlags(values, help);
    }

    String get(String flag, String fallback) {
        return values.getOrDefault(flag, SHARED.getOrDefault(flag, fallback));
    }

    boolean has(String flag) {
        return values.containsKey(flag);
    }

    int intValue(String flag) {
        String v = get(flag, null);
        try {
            int n = Integer.parseInt(v);
            if (n <= 0) {
                throw new IllegalArgumentException(flag + " must be > 0, got " + v);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be an integer, got '" + v + "'");
        }
    }

    Path out(String fallback) {
        return Path.of(get("--out", fallback));
    }

    List<String> list(String flag, String fallback) {
        return List.of(get(flag, fallback).split(","));
    }

    Progress.Mode progress() {
        return switch (get("--progress", "lines")) {
            case "bar" -> Progress.Mode.BAR;
            case "lines" -> Progress.Mode.LINES;
            case "none" -> Progress.Mode.NONE;
            default -> throw new IllegalArgumentException("--progress must be bar, lines or none, got '"
                    + get("--progress", "") + "'");
        };
    }

    /** The demo's settings (TrainFlags' defaults, or the model flags) with these steps, batch and lr. */
    TrainConfig config(int steps, int batch, double lr) {
        return new TrainConfig(TrainFlags.DEFAULT_VOCAB, intValue("--context"), intValue("--width"),
                intValue("--heads"), intValue("--layers"), steps, batch, lr,
                Long.parseLong(get("--seed", "42")), intValue("--threads"), Math.max(1, steps / 20),
                TrainFlags.TRAIN_SEQUENCES, TrainFlags.HELD_OUT_SEQUENCES);
    }

    /** Sets PyTorch's thread counts and DJL's offline mode; call before DJL's engine starts. */
    void configureEngine() {
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(intValue("--torch-threads")));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }
}
