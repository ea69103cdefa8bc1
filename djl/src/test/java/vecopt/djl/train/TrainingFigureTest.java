package vecopt.djl.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.charts.Marker;
import vecopt.charts.Panel;
import vecopt.charts.Series;

/** The chart of a comparison, from made-up run logs (what a run records is tested in {@code TransformerRunTest}). */
class TrainingFigureTest {
    private static final TrainConfig CFG = new TrainConfig(32, 32, 64, 4, 2, 40, 8, 0.01, 3, 1, 10, 512, 64);
    private static final double FLOOR = 0.9;

    @TempDir
    Path dir;

    /** A log of 40 steps whose losses fall from 3.4 towards 1, evaluated every 10 steps. */
    private static RunLog log(String recipe) {
        Recipe r = Recipe.named(recipe);
        RunLog l = new RunLog(r, CFG.steps(), r.warmupSteps(CFG.steps()), CFG.steps() / CFG.evalEvery() + 2);
        for (int s = 0; s < l.steps; s++) {
            l.trainLoss[s] = 1 + 2.4 * Math.exp(-s / 10.0);
            l.lr[s] = r.schedule(CFG.peakLr(), CFG.steps()).lr(s);
            if (s % CFG.evalEvery() == 0) {
                l.addEval(s, l.trainLoss[s] + 0.05);
            }
        }
        l.addEval(l.steps, 1.1);
        return l;
    }

    private static List<RunLog> logs() {
        List<RunLog> logs = new ArrayList<>();
        for (String name : List.of("no-warmup", "warmup", "post-ln+warmup")) {
            logs.add(log(name));
        }
        return logs;
    }

    @Test
    void writesTheChartAndNamesEveryRecipeAndWarmupEnd() throws Exception {
        List<RunLog> logs = logs();
        Path svg = dir.resolve("training.svg");
        TrainingFigure.of(logs, CFG, FLOOR).write(svg);
        assertEquals("svg", DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile())
                .getDocumentElement().getTagName());
        List<Panel> panels = TrainingFigure.panels(logs, CFG, FLOOR);
        List<String> legend = panels.get(0).series().stream().filter(Series::listed).map(Series::name).toList();
        assertEquals(logs.stream().map(TrainingFigure::legendEntry).toList(), legend, "a legend entry per recipe");
        assertTrue(legend.get(1).startsWith("warmup: 1.1000 / 1.1000 (peak 3.4"), legend::toString);
        List<String> labels = panels.get(1).markers().stream().map(Marker::label).toList();
        // int(0.10 * 40) = 4, shared by both warmup recipes: one marker naming both
        assertEquals(List.of("warmup ends @4 (warmup, post-ln+warmup)"), labels);
        assertTrue(dir.resolve("training.png").toFile().length() > 0, "PNG beside the SVG");
    }

    /** Per recipe: training loss (faint), held-out loss and lr, in the recipe's colour in both panels. */
    @Test
    void everyRecipeHasItsThreeLinesInOneColourAndTheLevelsAreTheUniformGuessAndTheFloor() {
        List<RunLog> logs = logs();
        List<Panel> panels = TrainingFigure.panels(logs, CFG, FLOOR);
        List<Series> loss = panels.get(0).series();
        List<Series> lr = panels.get(1).series();
        assertEquals(2 * logs.size(), loss.size());
        assertEquals(logs.size(), lr.size());
        for (int i = 0; i < logs.size(); i++) {
            RunLog l = logs.get(i);
            Series train = loss.get(2 * i);
            Series held = loss.get(2 * i + 1);
            assertEquals(Series.Look.FAINT, train.look());
            assertEquals(l.steps, train.x().length);
            assertEquals(l.evals, held.x().length);
            assertEquals(l.finalHeldOutLoss(), held.y()[l.evals - 1], 1e-12);
            assertEquals(l.lr[7], lr.get(i).y()[7]);
            assertEquals(i, train.slot());
            assertEquals(i, held.slot());
            assertEquals(i, lr.get(i).slot());
        }
        assertEquals(List.of(4.0), panels.get(1).markers().stream().map(Marker::x).toList());
        assertEquals(Math.log(32), panels.get(0).levels().get(0).y(), 1e-15);
        assertEquals(FLOOR, panels.get(0).levels().get(1).y(), 1e-15);
    }
}
