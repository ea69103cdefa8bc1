package vecopt.djl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MarkovTaskTest {
    private final MarkovTask task = new MarkovTask(32, 4, 42);

    @Test
    void everyContextsProbabilitiesSumToOneOverItsSuccessors() {
        for (int a = -1; a < task.vocab(); a++) {
            for (int b = 0; b < task.vocab(); b++) {
                double sum = 0;
                int nonZero = 0;
                for (int c = 0; c < task.vocab(); c++) {
                    double p = task.probability(a, b, c);
                    sum += p;
                    nonZero += p > 0 ? 1 : 0;
                }
                assertEquals(1, sum, 1e-12, "context (" + a + ", " + b + ")");
                assertTrue(nonZero <= task.successors(), "context (" + a + ", " + b + ") has " + nonZero);
            }
        }
    }

    /**
     * Every drawn transition is one the source allows, and the oracle loss on a large sample lies between the two
     * bounds the source's construction gives: above 0 (no context is certain) and below ln 4 (the uniform guess over a
     * context's 4 successors, which the true probabilities beat by Gibbs' inequality). The held-out set of the demo is
     * small, so the floor printed with it is that of those sequences; here 20,000 tokens.
     */
    @Test
    void samplesFollowTheSourceAndTheOracleLossIsBelowTheSuccessorsEntropy() {
        MarkovTask.Split data = task.generate(100, 625, 32, 7);
        MarkovTask.Sequences s = data.heldOut();
        for (int i = 0; i < s.count(); i++) {
            int base = i * (s.length() + 1);
            for (int t = 1; t <= s.length(); t++) {
                int a = t >= 2 ? (int) s.tokens()[base + t - 2] : -1;
                assertTrue(task.probability(a, (int) s.tokens()[base + t - 1], (int) s.tokens()[base + t]) > 0);
            }
        }
        double oracle = task.oracleLoss(s);
        assertTrue(oracle > 0.3 && oracle < Math.log(4), "oracle loss " + oracle);
    }

    @Test
    void theSameSeedsGiveTheSameSequences() {
        MarkovTask.Split a = task.generate(10, 5, 16, 3);
        MarkovTask.Split b = new MarkovTask(32, 4, 42).generate(10, 5, 16, 3);
        assertArrayEquals(a.train().tokens(), b.train().tokens());
        assertArrayEquals(a.heldOut().tokens(), b.heldOut().tokens());
    }
}
