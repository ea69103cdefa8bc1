package vecopt.bench;

import java.nio.file.Path;

/**
 * {@code ./vecopt chart RESULT.json [OUT.svg]}: throughput against size per kernel, ceilings as lines; writes SVG
 * and a PNG beside it (default: the result's name with .svg and .png).
 */
public final class ChartMain {
    private ChartMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: ./vecopt chart RESULT.json [OUT.svg]");
            System.exit(2);
        }
        Path in = Path.of(args[0]);
        Path svg = args.length == 2 ? Path.of(args[1])
                : in.resolveSibling(in.getFileName().toString().replaceFirst("\\.json$", "") + ".svg");
        Chart.write(Result.read(in), svg);
        System.out.println("chart: " + svg + " and " + svg.resolveSibling(
                svg.getFileName().toString().replaceFirst("\\.svg$", "") + ".png"));
    }
}
