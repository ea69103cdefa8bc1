package vecopt.zero;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static vecopt.verification.Traced.Precision.DOUBLE;
import static vecopt.verification.Traced.Precision.FLOAT;
import static vecopt.verification.Traced.add;
import static vecopt.verification.Traced.div;
import static vecopt.verification.Traced.exact;
import static vecopt.verification.Traced.floatConstant;
import static vecopt.verification.Traced.fma;
import static vecopt.verification.Traced.mul;
import static vecopt.verification.Traced.sqrt;

import java.util.ArrayList;
import org.junit.jupiter.api.Test;
import vecopt.optim.AdamOptions;
import vecopt.verification.Traced;

/**
 * The sharded run against one process trained on the mean of the same per-rank gradients, with gradients whose sums
 * round, within a bound derived from the reduction's summation order.
 *
 * <p><b>The bound.</b> Both runs compute the same AdamW formula on the same exact inputs except the gradient, and both
 * run the engine's kernel; so each is traced against the exact real-number run (Traced: Higham's running error
 * analysis, each float operation within 1 ± u, u = 2^-24) along the kernel's operation sequence (AdamStep's
 * javadoc), step after step with the errors of p, m and v carried forward, and the tolerance of an element is the
 * sum of the two traced errors. What differs is the gradient that enters each trace:
 * <ul>
 * <li>sharded: the reduce-scatter adds the N ranks' floats in float, in some order fixed by the transport (rank
 *     order in process, the ring's order in Gloo): for any order of N - 1 additions, |fl(sum) - sum| <=
 *     gamma_(N-1) * sum |g_q| with gamma_k = k u / (1 - k u) (Higham, eq. 4.4); then one float division by N;</li>
 * <li>single process: the test's mean, the ranks' floats added in double in rank order, divided by N in double,
 *     rounded to float once.</li>
 * </ul>
 * The bound holds for every summation order, so it is the same for any transport. No term is tuned.
 */
class ZeroExactnessTest {
    static final int RANKS = 3; // not a power of two: the division by N rounds too

    @Test
    void shardedRunAgreesWithTheSingleProcessWithinTheDerivedBound() throws Exception {
        Ranks.Grads g = ZeroStepTest::rough;
        int steps = ZeroStepTest.STEPS;
        var zero = Ranks.zero(RANKS, steps, g, Ranks.adamw(0, 2));
        zero.assertRanksAgree();
        float[] single = Ranks.single(RANKS, steps, g, Ranks.adamw(0, 2), new ArrayList<>());

        int n = Ranks.total();
        float[] p0 = new Ranks.Model().flatParams();
        double[] wd = new double[n]; // the bias group has no decay
        for (int t = 0, i = 0; t < Ranks.NAMES.length; t++) {
            for (int k = 0; k < Ranks.LENGTHS[t]; k++) {
                wd[i++] = Ranks.NAMES[t].endsWith(".bias") ? 0 : AdamOptions.LLM_PRETRAINING.weightDecay();
            }
        }
        double u = FLOAT.u();
        double gamma = (RANKS - 1) * u / (1 - (RANKS - 1) * u);
        double worst = 0;
        int differing = 0;
        for (int i = 0; i < n; i++) {
            Traced[] z = {exact(p0[i]), exact(0), exact(0)}; // p, m, v of the sharded run
            Traced[] s = {exact(p0[i]), exact(0), exact(0)}; // and of the single process
            for (int step = 0; step < steps; step++) {
                double sum = 0, abs = 0;
                Traced dsum = exact(g.of(0, step, i));
                for (int q = 0; q < RANKS; q++) {
                    float gq = g.of(q, step, i);
                    sum += gq;
                    abs += Math.abs(gq);
                    if (q > 0) {
                        dsum = add(dsum, exact(gq), DOUBLE);
                    }
                }
                Traced zg = div(new Traced(sum, gamma * abs), exact(RANKS), FLOAT);
                Traced sg = div(dsum, exact(RANKS), DOUBLE).round(FLOAT);
                z = adamw(z, zg, Ranks.lr(step), step + 1, wd[i]);
                s = adamw(s, sg, Ranks.lr(step), step + 1, wd[i]);
            }
            double tol = z[0].err() + s[0].err();
            double diff = Math.abs((double) zero.params()[0][i] - single[i]);
            assertTrue(diff <= tol, "element " + i + ": sharded " + zero.params()[0][i] + ", single " + single[i]
                    + ", |diff| " + diff + " > bound " + tol);
            worst = Math.max(worst, diff / tol);
            if (diff > 0) {
                differing++;
            }
        }
        System.out.printf("%d ranks, %d steps: %,d of %,d parameters differ from the single process; largest"
                + " |diff| / bound = %.3f%n", RANKS, steps, differing, n, worst);
        // The gradients' sums round here, so the runs must actually differ somewhere: else this test shows nothing.
        assertTrue(differing > 0, "no parameter differs: the rounding this test bounds never happened");
    }

    /** One AdamW step of the engine's kernel, traced: {@code {p, m, v}} in, {@code {p, m, v}} out. */
    private static Traced[] adamw(Traced[] pmv, Traced grad, double lr, long t, double wd) {
        AdamOptions o = AdamOptions.LLM_PRETRAINING;
        double bc1 = 1 - Math.pow(o.beta1(), t);
        double bc2 = 1 - Math.pow(o.beta2(), t);
        Traced g = mul(grad, exact(1f), FLOAT); // gradScale 1 (no clipping)
        Traced m = fma(pmv[1], floatConstant(o.beta1()), mul(g, floatConstant(1 - o.beta1()), FLOAT), FLOAT);
        Traced v = fma(pmv[2], floatConstant(o.beta2()),
                mul(mul(g, floatConstant(1 - o.beta2()), FLOAT), g, FLOAT), FLOAT);
        Traced d = fma(sqrt(v, FLOAT), floatConstant(1 / Math.sqrt(bc2)), floatConstant(o.eps()), FLOAT);
        Traced p = fma(div(m, d, FLOAT), floatConstant(-lr / bc1), mul(pmv[0], floatConstant(1 - lr * wd), FLOAT),
                FLOAT);
        return new Traced[] {p, m, v};
    }
}
