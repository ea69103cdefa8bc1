package vecopt.djl.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SummaryTest {
    @Test
    void aLastingBlowUpCountsEveryStepAboveTwiceTheBestLevel() {
        double[] loss = new double[60];
        Arrays.fill(loss, 1.0);
        Arrays.fill(loss, 30, 45, 50.0); // 15 steps far above the level of 1.0
        assertEquals(15, Summary.spikes(loss));
    }

    @Test
    void noiseInsideTheFactorIsNotASpike() {
        double[] loss = new double[100];
        for (int s = 0; s < loss.length; s++) {
            loss[s] = s % 2 == 0 ? 0.6 : 1.1; // level 0.6, every other batch 1.83x it
        }
        assertEquals(0, Summary.spikes(loss));
    }

    @Test
    void nonFiniteLossesCountAndDoNotSetTheLevel() {
        double[] loss = {2, 2, Double.NaN, 2, Double.POSITIVE_INFINITY, 2, 4.1};
        assertEquals(3, Summary.spikes(loss)); // NaN, +inf, and 4.1 > 2 * 2
    }

    @Test
    void quantileIsNearestRankOverFiniteValues() {
        assertEquals(3.0, Summary.quantile(new double[] {5, 1, Double.NaN, 3}, 0.5));
        assertEquals(5.0, Summary.quantile(new double[] {5, 1, 3}, 1));
        assertEquals(Double.NaN, Summary.quantile(new double[] {Double.NaN}, 0.5));
    }
}
