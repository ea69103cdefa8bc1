package vecopt.bench;

import java.nio.file.Path;

/**
 * {@code ./vecopt chart RESULT.json [--out OUT.svg]}: throughput against size per kernel, ceilings as lines; writes
 * SVG and a PNG beside it, by default {@code out/bench/RESULT.svg}: never next to the input, which may be a tracked
 * result.
 */
public final class ChartMain {
    private static final String USAGE = "usage: ./vecopt chart RESULT.json [--out OUT.svg]"
            + "   (default out/bench/RESULT.svg, and .png beside it)";

    private ChartMain() {
    }

    public static void main(String[] args) throws Exception {
        Path in = null;
        Path svg = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out") && i + 1 < args.length) {
                svg = Path.of(args[++i]);
            } else if (args[i].equals("-h") || args[i].equals("--help")) {
                System.out.println(USAGE);
                return;
            } else if (in == null && !args[i].startsWith("-")) {
                in = Path.of(args[i]);
            } else {
                System.err.println("vecopt chart: unexpected argument '" + args[i] + "'\n" + USAGE);
                System.exit(2);
            }
        }
        if (in == null) {
            System.err.println(USAGE);
            System.exit(2);
        }
        if (svg == null) {
            svg = Path.of("out", "bench", in.getFileName().toString().replaceFirst("\\.json$", "") + ".svg");
        }
        Path png = ThroughputChart.write(Result.read(in), svg);
        System.out.println("chart: " + svg + " and " + png);
    }
}
