package vecopt.charts;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Panels placed on one page, written as SVG and PNG. A grid gives every panel the same size and its own axes; a
 * column stacks panels over one shared x axis, with the first panel's title and one legend for all.
 *
 * <pre>{@code
 * Figure.grid(List.of(a, b, c), 2, 560, 360).write(Path.of("out/schedules.svg"));   // and out/schedules.png
 * Figure.column(List.of(loss, lr), 1100, 780, 2, 1).write(Path.of("out/train/training.svg"));
 * }</pre>
 */
public final class Figure {
    /**
     * One chart on the page, in pixels from the top left: a single panel, or panels stacked on a shared x axis with
     * relative heights {@code weights}.
     */
    record Cell(List<Panel> panels, int[] weights, int x, int y, int width, int height) {
    }

    private final int width;
    private final int height;
    private final List<Cell> cells;

    private Figure(int width, int height, List<Cell> cells) {
        this.width = width;
        this.height = height;
        this.cells = List.copyOf(cells);
    }

    /** {@code panels} in rows of {@code columns}, each {@code panelWidth} x {@code panelHeight} pixels. */
    public static Figure grid(List<Panel> panels, int columns, int panelWidth, int panelHeight) {
        check(panels);
        positive("columns", columns);
        positive("panelWidth", panelWidth);
        positive("panelHeight", panelHeight);
        int cols = Math.min(columns, panels.size());
        int rows = (panels.size() + cols - 1) / cols;
        List<Cell> cells = new ArrayList<>();
        for (int i = 0; i < panels.size(); i++) {
            cells.add(new Cell(List.of(panels.get(i)), new int[] {1}, (i % cols) * panelWidth,
                    (i / cols) * panelHeight, panelWidth, panelHeight));
        }
        return new Figure(cols * panelWidth, rows * panelHeight, cells);
    }

    /**
     * {@code panels} stacked top to bottom on one x axis, in a page {@code width} x {@code height}; panel i takes
     * a share {@code weights[i]} of the height the plots get.
     */
    public static Figure column(List<Panel> panels, int width, int height, int... weights) {
        check(panels);
        positive("width", width);
        positive("height", height);
        if (weights.length != panels.size()) {
            throw new IllegalArgumentException("weights must hold one weight per panel (" + panels.size() + "), got "
                    + weights.length);
        }
        for (int i = 0; i < weights.length; i++) {
            positive("weights[" + i + "]", weights[i]);
        }
        return new Figure(width, height, List.of(new Cell(List.copyOf(panels), weights.clone(), 0, 0, width,
                height)));
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The charts with their places. */
    List<Cell> cells() {
        return cells;
    }

    /** Writes the SVG to {@code svg} and the PNG beside it (same name, .png); returns the PNG's path. */
    public Path write(Path svg) throws IOException {
        Path png = pngBeside(svg);
        writeSvg(svg);
        writePng(png);
        return png;
    }

    public void writeSvg(Path file) throws IOException {
        createParent(file);
        try (var out = Files.newOutputStream(file)) {
            FigurePainter.svg(this, out);
        }
    }

    /** The PNG at twice the figure's size, so that it stays sharp on high-density screens. */
    public void writePng(Path file) throws IOException {
        createParent(file);
        try (var out = Files.newOutputStream(file)) {
            FigurePainter.png(this, 2, out);
        }
    }

    /** {@code dir/name.svg} → {@code dir/name.png} (a name without .svg gets .png appended). */
    public static Path pngBeside(Path svg) {
        String name = svg.getFileName().toString();
        return svg.resolveSibling((name.endsWith(".svg") ? name.substring(0, name.length() - 4) : name) + ".png");
    }

    private static void createParent(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
    }

    private static void check(List<Panel> panels) {
        Objects.requireNonNull(panels, "panels");
        if (panels.isEmpty()) {
            throw new IllegalArgumentException("a figure needs at least one panel, got none");
        }
        panels.forEach(p -> Objects.requireNonNull(p, "panel"));
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
        }
    }
}
