package vecopt.verification.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static vecopt.verification.schedule.Near.assertNear;

import java.util.List;
import org.junit.jupiter.api.Test;
import vecopt.schedule.PyTorch;
import vecopt.schedule.Schedule;
import vecopt.schedule.Sequential;

/**
 * PyTorch schedulers at hand-computed points, most of them the examples of PyTorch's own docstrings (where a
 * docstring is wrong, the comment says so and the closed form is computed by hand).
 */
class TorchExamplesTest {
    @Test
    void stepLrDocstring() {
        Schedule s = PyTorch.stepLR(0.05, 30, 0.1); // lr = 0.05 if epoch < 30, 0.005 if < 60, 0.0005 if < 90
        assertEquals(0.05, s.lr(0));
        assertEquals(0.05, s.lr(29));
        assertNear(0.005, s.lr(30), "StepLR at 30");
        assertNear(0.005, s.lr(59), "StepLR at 59");
        assertNear(0.0005, s.lr(60), "StepLR at 60");
        assertNear(0.00005, s.lr(90), "StepLR at 90, past the docstring: keeps decaying");
    }

    @Test
    void multiStepLrDocstring() {
        Schedule s = PyTorch.multiStepLR(0.05, new long[] {30, 80}, 0.1);
        assertEquals(0.05, s.lr(29));
        assertNear(0.005, s.lr(30), "MultiStepLR at 30");
        assertNear(0.005, s.lr(79), "MultiStepLR at 79");
        assertNear(0.0005, s.lr(80), "MultiStepLR at 80");
        assertNear(0.0005, s.lr(10_000), "MultiStepLR long after the last milestone");
    }

    @Test
    void constantLrDocstring() {
        Schedule s = PyTorch.constantLR(0.05, 0.5, 40);
        assertEquals(0.025, s.lr(0));
        assertEquals(0.025, s.lr(39));
        assertEquals(0.05, s.lr(40));
    }

    /**
     * LinearLR(start_factor=0.05, total_iters=40) with lr 0.05. PyTorch's docstring lists 0.003687 at epoch 0, which
     * is the value of epoch 1 (0.05 * (0.05 + 0.95 / 40) = 0.0036875); epoch 0 is 0.05 * 0.05 = 0.0025.
     */
    @Test
    void linearLrClosedForm() {
        Schedule s = PyTorch.linearLR(0.05, 0.05, 1.0, 40);
        assertNear(0.0025, s.lr(0), "LinearLR at 0");
        assertNear(0.0036875, s.lr(1), "LinearLR at 1");
        assertNear(0.004875, s.lr(2), "LinearLR at 2");
        assertNear(0.05, s.lr(40), "LinearLR at total_iters");
        assertNear(0.05, s.lr(100), "LinearLR past total_iters holds end_factor");
    }

    @Test
    void exponentialAndPolynomialAndLambda() {
        assertEquals(0.125, PyTorch.exponentialLR(1.0, 0.5).lr(3));
        assertNear(0.0125, PyTorch.polynomialLR(0.05, 50, 2.0).lr(25), "PolynomialLR: 0.05 * 0.5^2");
        assertEquals(0.0, PyTorch.polynomialLR(0.05, 50, 2.0).lr(60), "PolynomialLR past total_iters: 0");
        assertNear(0.045125, PyTorch.lambdaLR(0.05, e -> Math.pow(0.95, e)).lr(2), "LambdaLR: 0.05 * 0.95^2");
    }

    /** eta_min + (base - eta_min)(1 + cos(pi t / T)) / 2 with base 0.1, eta_min 0.001, T_max 100. */
    @Test
    void cosineAnnealingClosedFormAndPastTMax() {
        Schedule s = PyTorch.cosineAnnealingLR(0.1, 100, 0.001);
        assertEquals(0.1, s.lr(0));
        assertNear(0.0505, s.lr(50), "half way: 0.001 + 0.099 / 2");
        assertNear(0.001, s.lr(100), "T_max: eta_min");
        // past T_max PyTorch's cosine goes on and climbs back (both its forms); so does this one
        assertNear(0.0505, s.lr(150), "1.5 T_max");
        assertNear(0.1, s.lr(200), "2 T_max: back at base");
    }

    /** SequentialLR's docstring: ConstantLR(factor=0.1, total_iters=20) then ExponentialLR(gamma=0.9) at 20. */
    @Test
    void sequentialLrDocstring() {
        Sequential s = PyTorch.sequentialLR(List.of(PyTorch.constantLR(0.05, 0.1, 20), PyTorch.exponentialLR(0.05,
                0.9)), 20);
        assertNear(0.005, s.lr(0), "epoch 0");
        assertNear(0.005, s.lr(19), "epoch 19");
        assertEquals(0.05, s.lr(20), "epoch 20: ExponentialLR restarts at its own epoch 0");
        assertNear(0.045, s.lr(21), "epoch 21");
        assertNear(0.0405, s.lr(22), "epoch 22");
        assertEquals(1, s.phaseOf(20));
        assertEquals(0, s.phaseOf(19));
    }

    /**
     * The warmup guide's "Option 3": LinearLR warmup from 10%, then CosineAnnealingLR over the rest, joined at warmup
     * end.
     */
    @Test
    void warmupThenCosineAsInTheWarmupGuide() {
        Sequential s = PyTorch.sequentialLR(List.of(PyTorch.linearLR(1e-4, 0.1, 1.0, 100),
                PyTorch.cosineAnnealingLR(1e-4, 900, 0.0)), 100);
        assertNear(1e-5, s.lr(0), "warmup starts at 10%");
        assertNear(5.5e-5, s.lr(50), "half way through warmup: 1e-4 * (0.1 + 0.9 * 0.5)");
        assertEquals(1e-4, s.lr(100), "cosine's epoch 0");
        assertNear(5e-5, s.lr(550), "cosine half way");
        assertEquals(100, s.milestones()[0], "the warmup is the first phase, up to its milestone");
        assertEquals(0, s.phaseOf(99));
        assertEquals(1, s.phaseOf(100));
    }
}
