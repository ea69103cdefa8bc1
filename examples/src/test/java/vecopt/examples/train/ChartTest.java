package vecopt.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

class ChartTest {
    @Test
    void svgIsWellFormedAndNamesEveryRecipeAndWarmupEnd() throws Exception {
        TeacherTask.Split data = TeacherTask.DEFAULT.generate(3, 512, 128);
        TrainConfig cfg = new TrainConfig(16, 40, 32, 0.01, 3, 1, OptimizerKind.ADAMW, 10, 512, 128);
        List<RunLog> logs = new ArrayList<>();
        for (String name : List.of("no-warmup", "warmup", "llm-finetune")) {
            logs.add(TrainingRun.run(cfg, Recipe.named(name), TeacherTask.DEFAULT, data, TrainingRun.Listener.SILENT));
        }
        String svg = new Chart(logs, cfg).svg();
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertEquals("svg", doc.getDocumentElement().getTagName());
        StringBuilder text = new StringBuilder();
        NodeList texts = doc.getElementsByTagName("text");
        for (int i = 0; i < texts.getLength(); i++) {
            text.append(texts.item(i).getTextContent()).append('\n');
        }
        for (RunLog l : logs) {
            assertTrue(text.indexOf(l.recipe().name()) >= 0, "legend lacks " + l.recipe().name());
        }
        assertTrue(text.indexOf("warmup ends @4 (warmup)") >= 0, text::toString); // int(0.10 * 40)
        assertTrue(text.indexOf("warmup ends @1 (llm-finetune)") >= 0, text::toString); // int(0.03 * 40)
        // per recipe: training loss, held-out loss and lr lines
        assertTrue(doc.getElementsByTagName("polyline").getLength() >= 3 * logs.size());
    }
}
