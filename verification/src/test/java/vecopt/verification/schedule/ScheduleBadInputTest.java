package vecopt.verification.schedule;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import vecopt.schedule.DecayShape;
import vecopt.schedule.HuggingFace;
import vecopt.schedule.LinearScaling;
import vecopt.schedule.PyTorch;
import vecopt.schedule.Schedule;
import vecopt.schedule.Schedules;
import vecopt.schedule.WarmupSteps;

/** Every bad argument fails when the schedule is built, with a message naming the parameter and the value. */
class ScheduleBadInputTest {
    private static void rejects(String parameter, String value, Executable build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        assertTrue(e.getMessage().contains(parameter) && e.getMessage().contains(value),
                () -> "message should name " + parameter + " and " + value + ": " + e.getMessage());
    }

    @Test
    void totalStepsNotAfterWarmup() {
        rejects("numTrainingSteps", "100", () -> HuggingFace.linearScheduleWithWarmup(1e-3, 100, 100));
        rejects("numTrainingSteps", "50", () -> HuggingFace.cosineScheduleWithWarmup(1e-3, 100, 50));
        rejects("numTrainingSteps", "10", () -> HuggingFace.cosineWithHardRestartsScheduleWithWarmup(1, 10, 10));
        rejects("numTrainingSteps", "10", () -> HuggingFace.polynomialDecayScheduleWithWarmup(1, 10, 10));
        rejects("totalSteps", "1000", () -> Schedules.warmupCosine(1e-3, 0, 1000, 1000));
    }

    @Test
    void negativeSteps() {
        rejects("step", "-1", () -> Schedules.constant(1).lr(-1));
        rejects("step", "-5", () -> HuggingFace.linearScheduleWithWarmup(1, 10, 100).lr(-5));
        rejects("step", "-1", () -> PyTorch.exponentialLR(1, 0.9).lr(-1));
        rejects("step", "-1", () -> PyTorch.lambdaLR(1, t -> 1).lr(-1));
        rejects("numWarmupSteps", "-3", () -> HuggingFace.constantScheduleWithWarmup(1, -3));
        rejects("warmupSteps", "-1", () -> Schedules.linearWarmup(1, -1));
        rejects("stepSize", "0", () -> PyTorch.stepLR(1, 0, 0.1));
        rejects("tMax", "0", () -> PyTorch.cosineAnnealingLR(1, 0, 0));
        rejects("totalIters", "0", () -> PyTorch.linearLR(1, 0.5, 1, 0));
    }

    @Test
    void cycles() {
        rejects("numCycles", "0.0", () -> HuggingFace.cosineScheduleWithWarmup(1, 0, 10, 0.0));
        rejects("numCycles", "-1.0", () -> HuggingFace.cosineScheduleWithWarmup(1, 0, 10, -1.0));
        rejects("numCycles", "NaN", () -> HuggingFace.cosineScheduleWithWarmup(1, 0, 10, Double.NaN));
        rejects("numCycles", "0", () -> HuggingFace.cosineWithHardRestartsScheduleWithWarmup(1, 0, 10, 0));
    }

    @Test
    void factorsOutsideTheirRanges() {
        rejects("startFactor", "0.0", () -> PyTorch.linearLR(1, 0.0, 1, 10));
        rejects("startFactor", "1.5", () -> PyTorch.linearLR(1, 1.5, 1, 10));
        rejects("endFactor", "-0.1", () -> PyTorch.linearLR(1, 0.5, -0.1, 10));
        rejects("factor", "2.0", () -> PyTorch.constantLR(1, 2.0, 10));
        rejects("gamma", "0.0", () -> PyTorch.exponentialLR(1, 0.0));
        rejects("gamma", "1.5", () -> Schedules.stepDecay(1, 1.5, 10));
        rejects("gamma", "1.5", () -> PyTorch.stepLR(1, 10, 1.5)); // the same step decay
        rejects("minLrRatio", "1.1", () -> HuggingFace.wsdSchedule(1, 1, 1, 1, DecayShape.LINEAR,
                DecayShape.LINEAR, 1.1, 0.5));
        rejects("etaMin", "2.0", () -> PyTorch.cosineAnnealingLR(1, 10, 2.0));
        rejects("minLr", "0.5", () -> Schedules.cosineDecay(0.1, 0.5, 10));
        rejects("lrEnd", "1.0", () -> HuggingFace.polynomialDecayScheduleWithWarmup(1e-3, 0, 10, 1.0, 1.0));
        rejects("power", "-1.0", () -> PyTorch.polynomialLR(1, 10, -1.0));
        rejects("fraction", "1.0", () -> WarmupSteps.fraction(1.0, 100));
    }

    @Test
    void notANumber() {
        rejects("baseLr", "NaN", () -> HuggingFace.linearScheduleWithWarmup(Double.NaN, 1, 10));
        rejects("baseLr", "Infinity", () -> PyTorch.stepLR(Double.POSITIVE_INFINITY, 1, 0.1));
        rejects("lr", "NaN", () -> Schedules.constant(Double.NaN));
        rejects("baseLr", "NaN", () -> HuggingFace.constantSchedule(Double.NaN));
        rejects("gamma", "NaN", () -> PyTorch.exponentialLR(1, Double.NaN));
        rejects("startFactor", "NaN", () -> PyTorch.linearLR(1, Double.NaN, 1, 10));
        rejects("minLr", "NaN", () -> Schedules.warmupCosine(1, Double.NaN, 1, 10));
        rejects("factor", "NaN", () -> Schedules.constant(1).scaled(Double.NaN));
        rejects("baseLr", "NaN", () -> LinearScaling.of(Double.NaN, 10, 256, 512));
        rejects("epochs", "NaN", () -> WarmupSteps.epochs(Double.NaN, 100));
    }

    @Test
    void milestones() {
        Schedule a = Schedules.constant(1);
        rejects("milestones", "[10, 10]", () -> PyTorch.multiStepLR(1, new long[] {10, 10}, 0.1));
        rejects("milestones", "[20, 10]", () -> PyTorch.sequentialLR(List.of(a, a, a), 20, 10));
        rejects("milestones", "[0]", () -> PyTorch.sequentialLR(List.of(a, a), 0));
        rejects("milestones", "[5, 6]", () -> PyTorch.sequentialLR(List.of(a, a), 5, 6));
        rejects("schedulers", "none", () -> PyTorch.sequentialLR(List.of()));
        rejects("batch", "0", () -> LinearScaling.of(1e-4, 10, 256, 0));
    }
}
