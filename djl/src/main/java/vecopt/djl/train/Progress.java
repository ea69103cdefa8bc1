package vecopt.djl.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress display per run on stderr: a bar redrawn in place with {@code \r} when stderr is a terminal, else one
 * plain line per 10% (logs and CI stay readable), or nothing.
 */
final class Progress implements TrainingRun.Listener {
    /** How progress is shown. */
    enum Mode { BAR, LINES, NONE }

    private static final int WIDTH = 30;
    private final Mode mode;
    private final PrintStream out;
    private String name;
    private int total;
    private int lastShown;
    private long startNanos;
    private long lastDraw;

    Progress(Mode mode, PrintStream out) {
        this.mode = mode;
        this.out = out;
    }

    @Override
    public void started(Recipe recipe, int steps) {
        name = recipe.name();
        total = steps;
        lastShown = -1;
        startNanos = System.nanoTime();
        lastDraw = 0;
    }

    @Override
    public void stepped(int step, double trainLoss) {
        switch (mode) {
            case BAR -> {
                long now = System.nanoTime();
                if (step == total || now - lastDraw > 100_000_000L) { // redraw at most 10 times a second
                    lastDraw = now;
                    int filled = (int) ((long) WIDTH * step / total);
                    out.printf(Locale.ROOT, "\r  %-15s [%s%s] %3d%%  step %d/%d  loss %8.4f  %5.1fs", name,
                            "#".repeat(filled), ".".repeat(WIDTH - filled), 100L * step / total, step, total,
                            trainLoss, (now - startNanos) / 1e9);
                    out.flush();
                }
            }
            case LINES -> {
                int tenth = (int) (10L * step / total);
                if (tenth > lastShown) {
                    lastShown = tenth;
                    if (tenth > 0) {
                        out.printf(Locale.ROOT, "  %-15s %3d%%  step %d/%d  loss %.4f  %.1fs%n", name, tenth * 10,
                                step, total, trainLoss, (System.nanoTime() - startNanos) / 1e9);
                    }
                }
            }
            case NONE -> { }
        }
    }

    @Override
    public void finished(RunLog log) {
        if (mode == Mode.BAR) {
            out.println();
        }
    }
}
