package vecopt.bench;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ./vecopt compare}: compares benchmark results and exits {@value #REGRESSION} when a figure regressed by more
 * than the threshold beyond its error (see {@link Regression}), {@value #OK} otherwise, and {@value #BAD_INPUT} when
 * it could not compare: bad usage, or a file that is missing, unreadable or not what it should be (one line on stderr
 * naming it). A script can so tell "slower" from "could not tell".
 *
 * <pre>
 *   ./vecopt compare OLD.json NEW.json [--threshold 10]        absolute throughputs, two runs on one machine
 *   ./vecopt compare NEW.json --baseline bench/baseline.tsv      ratios (x native, x ceiling) against a baseline
 *   ./vecopt compare NEW.json --save-baseline bench/baseline.tsv  write the ratios of NEW as the baseline
 * </pre>
 */
public final class Compare {
    /** Exit code: no figure regressed (or the baseline was written). */
    static final int OK = 0;
    /** Exit code: at least one figure regressed. */
    static final int REGRESSION = 1;
    /** Exit code: nothing was compared (bad usage, or an input file missing, unreadable or malformed). */
    static final int BAD_INPUT = 2;

    private Compare() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        try {
            return compare(args);
        } catch (IllegalArgumentException e) { // BadInput, or figures that cannot be compared (a key twice)
            System.err.println("vecopt compare: " + e.getMessage());
            return BAD_INPUT;
        }
    }

    private static int compare(String[] args) {
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
                    return OK;
                }
                default -> {
                    if (args[i].startsWith("-")) {
                        throw new BadInput("unknown option '" + args[i] + "' (--help for usage)");
                    }
                    files.add(args[i]);
                }
            }
        }
        if (save != null && baseline == null && files.size() == 1) {
            List<Comparison.Figure> ratios = Comparison.ratios(results(files.get(0)));
            try {
                Comparison.writeBaseline(Path.of(save), ratios, "from " + files.get(0));
            } catch (IOException e) {
                throw new BadInput("cannot write " + save + ": " + e);
            }
            System.out.println("wrote " + ratios.size() + " ratios to " + save);
            return OK;
        }
        List<Comparison.Line> lines;
        String oldName, newName;
        if (save == null && baseline != null && files.size() == 1) {
            String file = baseline;
            List<Comparison.Figure> base = input(file, () -> Comparison.readBaseline(Path.of(file)));
            lines = Comparison.compare(base, Comparison.ratios(results(files.get(0))), threshold);
            oldName = "baseline ratio";
            newName = "ratio now";
        } else if (save == null && baseline == null && files.size() == 2) {
            lines = Comparison.compare(Comparison.throughputs(results(files.get(0))),
                    Comparison.throughputs(results(files.get(1))), threshold);
            oldName = "old Mparams/s";
            newName = "new Mparams/s";
        } else {
            System.err.println(USAGE);
            return BAD_INPUT;
        }
        System.out.print(Comparison.table(lines, oldName, newName, threshold));
        return Comparison.anyRegressed(lines) ? REGRESSION : OK;
    }

    /** Why nothing could be compared, in one line that names the option or file and the value. */
    static final class BadInput extends IllegalArgumentException {
        BadInput(String message) {
            super(message);
        }
    }

    private interface Read<T> {
        T read() throws IOException;
    }

    private static List<Result> results(String file) {
        return input(file, () -> Result.read(Path.of(file)));
    }

    /** Runs {@code read} on {@code file}, turning a missing, unreadable or malformed file into one line naming it. */
    private static <T> T input(String file, Read<T> read) {
        try {
            return read.read();
        } catch (NoSuchFileException e) {
            throw new BadInput(file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new BadInput(file + ": permission denied");
        } catch (IOException e) {
            throw new BadInput(file + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        } catch (IllegalArgumentException | ClassCastException e) {
            // Malformed content; Result and Comparison name the file in most of their messages, the parser does not.
            String m = String.valueOf(e.getMessage());
            throw new BadInput(m.startsWith(file) ? m : file + ": " + m);
        }
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new BadInput(flag + " needs a value");
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
            throw new BadInput("--threshold must be a percentage like 10 or 10%, got '" + s + "'");
        }
        if (!(p >= 0 && p < 100)) {
            throw new BadInput("--threshold must be in [0, 100), got '" + s + "'");
        }
        return p / 100;
    }

    private static final String USAGE = """
            usage: ./vecopt compare OLD.json NEW.json [--threshold PCT]
                   ./vecopt compare NEW.json --baseline FILE.tsv [--threshold PCT]
                   ./vecopt compare NEW.json --save-baseline FILE.tsv
            Exit codes: 0 no regression (or baseline written); 1 a figure fell by more than PCT (default 10) percent
            beyond its error bar; 2 nothing compared: bad usage, or a file missing, unreadable or malformed.""";
}
