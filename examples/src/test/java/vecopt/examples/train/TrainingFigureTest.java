package vecopt.examples.train;

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

class TrainingFigureTest {
    @TempDir
    Path dir;

    private static List<RunLog> runs(TrainConfig cfg) {
        TeacherTask.Split data = TeacherTask.DEFAULT.generate(3, 512, 128);
        List<RunLog> logs = new ArrayList<>();
        for (String name : List.of("no-warmup", "warmup", "llm-finetune")) {
            logs.add(TrainingRun.run(cfg, Recipe.named(name), TeacherTask.DEFAULT, data, TrainingRun.Listener.SILENT));
        }
        return logs;
    }

    @Test
    void writesTheChartAndNamesEveryRecipeAndWarmupEnd() throws Exception {
        TrainConfig cfg = new TrainConfig(16, 40, 32, 0.01, 3, 1, OptimizerKind.ADAMW, 10, 512, 128);
        List<RunLog> logs = runs(cfg);
        Path svg = dir.resolve("training.svg");
        TrainingFigure.of(logs, cfg).write(svg);
        assertEquals("svg", DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile())
                .getDocumentElement().getTagName());
        List<Panel> panels = TrainingFigure.panels(logs, cfg);
        List<String> legend = panels.get(0).series().stream().filter(Series::listed).map(Series::name).toList();
        assertEquals(logs.stream().map(TrainingFigure::legendEntry).toList(), legend, "a legend entry per recipe");
        assertTrue(legend.get(1).startsWith("warmup: "), legend::toString);
        List<String> labels = panels.get(1).markers().stream().map(Marker::label).toList();
        assertTrue(labels.contains("warmup ends @4 (warmup)"), labels::toString); // int(0.10 * 40)
        assertTrue(labels.contains("warmup ends @1 (llm-finetune)"), labels::toString); // int(0.03 * 40)
        assertTrue(dir.resolve("training.png").toFile().length() > 0, "PNG beside the SVG");
    }

    /** Per recipe: training loss (faint), held-out loss and lr, in the recipe's colour in both panels. */
    @Test
    void everyRecipeHasItsThreeLinesInOneColourAndTheWarmupsAreMarkedInBothPanels() {
        TrainConfig cfg = new TrainConfig(16, 40, 32, 0.01, 3, 1, OptimizerKind.ADAMW, 10, 512, 128);
        List<RunLog> logs = runs(cfg);
        List<Panel> panels = TrainingFigure.panels(logs, cfg);
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
        List<Double> marked = panels.get(1).markers().stream().map(Marker::x).toList();
        assertEquals(List.of(4.0, 1.0), marked);
        assertEquals(marked, panels.get(0).markers().stream().map(Marker::x).toList());
        assertEquals(Math.log(TeacherTask.DEFAULT.classes()), panels.get(0).levels().get(0).y(), 1e-15);
    }
}
