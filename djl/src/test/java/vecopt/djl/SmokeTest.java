package vecopt.djl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import vecopt.optim.AdamW;
import vecopt.schedule.Schedules;

class SmokeTest {
    @Test
    void trains() {
        try (Tiny tiny = new Tiny(1, null);
             VecoptStep step = VecoptStep.builder(tiny.trainer)
                     .optimizer(p -> AdamW.builder(p).threads(1).build())
                     .schedule(Schedules.constant(1e-2)).build()) {
            System.out.println(tiny.values().keySet());
            float first = 0, last = 0;
            for (int i = 0; i < 30; i++) {
                float l = tiny.backward();
                if (i == 0) first = l;
                last = l;
                step.step();
            }
            System.out.println(first + " -> " + last + " " + step.boundParameters() + " " + step.optimizer().params().size());
            assertTrue(last < first);
        }
    }
}
