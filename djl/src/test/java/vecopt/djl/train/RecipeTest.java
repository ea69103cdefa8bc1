package vecopt.djl.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import vecopt.schedule.Schedule;

/** The warmup end a recipe reports (and the chart marks) is where its schedule first reaches the peak. */
class RecipeTest {
    @Test
    void warmupStepsMatchTheScheduleAndEveryScheduleEndsAtZero() {
        long total = 200;
        double peak = 1.0;
        for (Recipe r : Recipe.ALL) {
            Schedule s = r.schedule(peak, total);
            long w = r.warmupSteps(total);
            if (w == 0) {
                assertEquals(peak, s.lr(0), 1e-12, r.name() + " starts at the peak");
            } else {
                assertEquals(0, s.lr(0), r.name() + " starts its warmup at 0, as Hugging Face's does");
                assertEquals(peak, s.lr(w), 1e-12, r.name() + " is at the peak when the warmup ends");
                assertTrue(s.lr(w - 1) < peak, r.name() + " is still warming up a step before");
            }
            assertEquals(0, s.lr(total), 1e-12, r.name() + " decays to 0 at the last step");
        }
        assertEquals(20, Recipe.named("warmup").warmupSteps(total));
        assertEquals(0, Recipe.named("post-ln").warmupSteps(total));
    }

    /**
     * Schedule-free AdamW's runs: no schedule, the peak at every step, also during the warmup, which is the
     * optimizer's own (warmup_steps) and only reported by the recipe.
     */
    @Test
    void aConstantRecipeHandsThePeakToEveryStep() {
        Recipe r = ScheduleFree.recipe("sf", true);
        assertEquals(Recipe.Decay.CONSTANT, r.decay());
        assertEquals(20, r.warmupSteps(200));
        Schedule s = r.schedule(0.5, 200);
        for (long step : new long[] {0, 1, 19, 20, 100, 199, 200}) {
            assertEquals(0.5, s.lr(step), "step " + step);
        }
        assertEquals(0, ScheduleFree.recipe("sf", false).warmupSteps(200));
    }

    @Test
    void theComparisonPairsDifferInOneThingEach() {
        Recipe cold = Recipe.named("no-warmup");
        Recipe warm = Recipe.named("warmup");
        assertEquals(cold.norm(), warm.norm());
        assertEquals(cold.decay(), warm.decay());
        assertEquals(cold.clipNorm(), warm.clipNorm());
        assertEquals(cold.norm(), Recipe.named("no-warmup+clip").norm());
        assertEquals(Recipe.CLIP, Recipe.named("no-warmup+clip").clipNorm());
        assertEquals(Recipe.Decay.LINEAR, Recipe.named("warmup-linear").decay());
        assertEquals(warm.warmupFraction(), Recipe.named("warmup-linear").warmupFraction());
        assertEquals(cold.warmupFraction(), Recipe.named("post-ln").warmupFraction());
        assertEquals(warm.warmupFraction(), Recipe.named("post-ln+warmup").warmupFraction());
    }
}
