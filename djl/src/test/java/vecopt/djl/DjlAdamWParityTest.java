package vecopt.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.Map;
import org.junit.jupiter.api.Test;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.schedule.Schedules;

/**
 * AdamW through the bridge against DJL's own AdamW ({@code ai.djl.training.optimizer.AdamW}, which runs PyTorch's
 * {@code adamUpdate} in the PyTorch engine) on the same model, initial weights, batches and hyperparameters: the
 * loss curves agree within a bound derived from how the two compute the update.
 *
 * <p><b>The tolerance.</b> Both apply AdamW with the same hyperparameters, with different float operations. DJL:
 * {@code p -= p*lr*wd}, {@code m = m*b1 + (1-b1)*g}, {@code v = v*b2 + (1-b2)*g*g}, {@code p -= m*lrc / (sqrt(v) +
 * eps)} with {@code lrc = lr*sqrt(1-b2^t)/(1-b1^t)} rounded to float: 13 roundings per element. vecopt: the fused
 * form of {@code vecopt.kernel.AdamStep}: 10. So the update {@code u} of element {@code i} differs between them by
 * at most {@code 23 * 2^-24 * |u_i|} plus one rounding of the new parameter ({@code ulp(p_i)}). The one difference
 * beyond rounding is where eps enters: DJL adds it to {@code sqrt(v)} before the bias correction, so it runs
 * PyTorch's formula with {@code eps / sqrt(1 - b2^t)}; that changes {@code u_i} by at most {@code lr * eps /
 * sqrt(v_i)}, and since {@code v_i >= (1 - b2) g_i^2}, the loss by at most {@code |g_i| * lr * eps / sqrt(v_i) <=
 * lr * eps / sqrt(1 - b2)} per element. To first order a change {@code du_i} of the update moves the next loss by
 * {@code |g_i * du_i|}, so one step adds at most
 * <pre>
 *   sum_i |g_i| * (23 * 2^-24 * |u_i| + ulp(p_i))  +  n * lr * eps / sqrt(1 - b2)
 * </pre>
 * to the difference of the losses, with {@code g} and {@code u} measured in the bridged run. The bound adds these
 * over the steps (the lr is stable, so earlier differences are not amplified: that the curves stay within it is
 * what is tested) and two roundings of the loss itself. Before the first update the losses are equal bit for bit.
 */
class DjlAdamWParityTest {
    private static final int STEPS = 40;
    private static final float LR = 1e-2f;
    private static final double BETA2 = 0.999;
    private static final double ROUNDINGS = 23 * Math.ulp(1f) / 2; // 23 roundings of relative 2^-24 each

    private static float[] djlCurve(double eps) {
        Optimizer adamW = Optimizer.adamW().optLearningRateTracker(Tracker.fixed(LR)).optWeightDecays(0.01f)
                .optBeta1(0.9f).optBeta2((float) BETA2).optEpsilon((float) eps).build();
        float[] losses = new float[STEPS];
        try (Tiny tiny = new Tiny(5, adamW)) {
            for (int s = 0; s < STEPS; s++) {
                losses[s] = tiny.backward();
                tiny.trainer.step();
            }
        }
        return losses;
    }

    /** The bridged run's losses, and in {@code perStep[s]} the bound's term for update {@code s}. */
    private static float[] vecoptCurve(double eps, double[] perStep, boolean roundingOnly) {
        float[] losses = new float[STEPS];
        try (Tiny tiny = new Tiny(5, null);
             VecoptStep step = VecoptStep.builder(tiny.trainer)
                     .optimizer(p -> AdamW.builder(p).threads(1)
                             .options(new AdamOptions(0.9, BETA2, eps, 0.01, false, 1.0)).build())
                     .schedule(Schedules.constant(LR))
                     .build()) {
            for (int s = 0; s < STEPS; s++) {
                losses[s] = tiny.backward();
                Map<String, float[]> before = tiny.values();
                Map<String, float[]> grads = tiny.gradients();
                step.step();
                Map<String, float[]> after = tiny.values();
                double term = 0;
                long n = 0;
                for (String name : before.keySet()) {
                    float[] p = before.get(name), g = grads.get(name), q = after.get(name);
                    for (int i = 0; i < p.length; i++) {
                        term += Math.abs(g[i]) * (ROUNDINGS * Math.abs(q[i] - p[i]) + Math.ulp(q[i]));
                    }
                    n += p.length;
                }
                perStep[s] = term + (roundingOnly ? 0 : n * LR * eps / Math.sqrt(1 - BETA2));
            }
        }
        return losses;
    }

    private static double tolerance(double[] perStep, int updates, float loss) {
        double sum = 2 * Math.ulp(loss);
        for (int k = 0; k < updates; k++) {
            sum += perStep[k];
        }
        return sum;
    }

    @Test
    void lossCurvesAgreeWithinTheDerivedBound() {
        float[] djl = djlCurve(1e-8);
        double[] perStep = new double[STEPS];
        float[] vecopt = vecoptCurve(1e-8, perStep, false);
        assertEquals(djl[0], vecopt[0], "before any update: same weights, same batch");
        for (int s = 1; s < STEPS; s++) {
            double tolerance = tolerance(perStep, s, djl[s]);
            assertTrue(Math.abs(djl[s] - vecopt[s]) <= tolerance, "loss after " + s + " updates: DJL " + djl[s]
                    + ", vecopt " + vecopt[s] + ", differ by " + Math.abs(djl[s] - vecopt[s]) + " > " + tolerance);
        }
        assertTrue(vecopt[STEPS - 1] < 0.5 * vecopt[0], "and it trains: " + vecopt[0] + " -> " + vecopt[STEPS - 1]);
    }

    @Test
    void withALargeEpsThePlacementOfEpsIsMoreThanRounding() {
        // The eps term of the bound is needed: with eps = 1e-3 the curves part by far more than rounding alone.
        float[] djl = djlCurve(1e-3);
        double[] perStep = new double[STEPS];
        float[] vecopt = vecoptCurve(1e-3, perStep, true);
        double worst = 0;
        for (int s = 1; s < STEPS; s++) {
            worst = Math.max(worst, Math.abs(djl[s] - vecopt[s]) / tolerance(perStep, s, djl[s]));
        }
        assertTrue(worst > 100, "the curves part by " + worst + " times the rounding bound");
    }
}
