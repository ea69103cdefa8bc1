package vecopt.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import vecopt.schedule.Schedule;

/** The warmup end a recipe reports (and the chart marks) is where its schedule first reaches the peak. */
class RecipeTest {
    @Test
    void warmupStepsMatchTheSchedule() {
        long total = 600;
        double peak = 1.0;
        for (Recipe r : Recipe.ALL) {
            Schedule s = r.schedule(peak, total);
            long w = r.warmupSteps(total);
            if (w == 0) {
                assertEquals(peak, s.lr(0), 1e-12, r.name() + " starts at the peak");
            } else {
                assertEquals(peak, s.lr(w), 1e-12, r.name() + " is at the peak when the warmup ends");
                assertTrue(s.lr(w - 1) < peak, r.name() + " is still warming up a step before");
            }
        }
        assertEquals(60, Recipe.named("warmup").warmupSteps(total));
        assertEquals(6, Recipe.named("llm-pretrain").warmupSteps(total));
        assertEquals(18, Recipe.named("llm-finetune").warmupSteps(total));
    }
}
