package vecopt.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ./vecopt compare}: compares benchmark results and exits 1 when a figure regressed by more than the threshold
 * beyond its error (see {@link Regression}), 0 otherwise, 2 on bad usage.
 *
 * <pre>
 *   ./vecopt compare OLD.json NEW.json [--threshold 10]        absolute throughputs, two runs on one machine
 *   ./vecopt compare NEW.json --baseline bench/baseline.tsv      ratios (x native, x ceiling) against a baseline
 *   ./vecopt compare NEW.json --save-baseline bench/baseline.tsv  write the ratios of NEW as the baseline
 * </pre>
 */
public final class Compare {
    private Compare() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args));
    }

    static int run(String[] args) throws Exception {
        List<String> files = new ArrayList<>();
        String baseline = null, save = null;
        double threshold = Regression.DEFAULT_THRESHOLD;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threshold" -> threshold = percent(value(args, ++i, "--threshold"));
                case "--baseline" -> baseline = value(args, ++i, "--baseline");
                case "--save-baseline" -> save = value(args, ++i, "--save-baseline");
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return 0;
                }
                default -> files.add(args[i]);
            }
        }
        if (save != null && files.size() == 1) {
            List<Comparison.Figure> ratios = Comparison.ratios(Result.read(Path.of(files.get(0))));
            Comparison.writeBaseline(Path.of(save), ratios, "from " + files.get(0));
            System.out.println("wrote " + ratios.size() + " ratios to " + save);
            return 0;
        }
        List<Comparison.Line> lines;
        String oldName, newName;
        if (baseline != null && files.size() == 1) {
            lines = Comparison.compare(Comparison.readBaseline(Path.of(baseline)),
                    Comparison.ratios(Result.read(Path.of(files.get(0)))), threshold);
            oldName = "baseline ratio";
            newName = "ratio now";
        } else if (baseline == null && files.size() == 2) {
            lines = Comparison.compare(Comparison.throughputs(Result.read(Path.of(files.get(0)))),
                    Comparison.throughputs(Result.read(Path.of(files.get(1)))), threshold);
            oldName = "old Mparams/s";
            newName = "new Mparams/s";
        } else {
            System.err.println(USAGE);
            return 2;
        }
        System.out.print(Comparison.table(lines, oldName, newName, threshold));
        return Comparison.anyRegressed(lines) ? 1 : 0;
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i];
    }

    /** "10" or "10%" is ten percent. */
    static double percent(String s) {
        String t = s.endsWith("%") ? s.substring(0, s.length() - 1) : s;
        double p;
        try {
            p = Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--threshold must be a percentage like 10 or 10%, got '" + s + "'");
        }
        if (!(p >= 0 && p < 100)) {
            throw new IllegalArgumentException("--threshold must be in [0, 100), got '" + s + "'");
        }
        return p / 100;
    }

    private static final String USAGE = """
            usage: ./vecopt compare OLD.json NEW.json [--threshold PCT]
                   ./vecopt compare NEW.json --baseline FILE.tsv [--threshold PCT]
                   ./vecopt compare NEW.json --save-baseline FILE.tsv
              Exits 1 when a figure fell by more than PCT (default 10) percent beyond its error bar.""";
}
