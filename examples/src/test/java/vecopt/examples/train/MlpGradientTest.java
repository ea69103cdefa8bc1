package vecopt.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import vecopt.param.Tensor;

/**
 * The hand-written backward pass against central finite differences of an independent double-precision forward
 * pass ({@link ReferenceMlp}), on a tiny model whose every parameter is randomised (so gains != 1 and biases != 0
 * exercise every path).
 *
 * <p>Tolerances. Central differences in double with step {@code h} have truncation error {@code h^2/6 |f'''|} and
 * rounding error about {@code 1e-16 |f| / h}; with {@code h = 1e-4} and O(1) derivatives both are below 1e-8, so the
 * numerical gradient is exact for our purpose. The analytic gradient is computed in float: each element is at most a
 * few dozen dependent float operations deep (three layers, sums of <= 7 terms, LayerNorm's 1/std), each adding at most
 * one unit roundoff {@code u = 2^-24 ~ 6e-8} of the running magnitude, so its error is below
 * {@code 50 u * max|g| ~ 3e-6 max|g|}, which is the tolerance (measured: 2.3 u * max|g|). A wrong term (checked:
 * dropping the {@code xhat * mean(dxhat * xhat)} term of LayerNorm's backward, or the GELU tanh-derivative term)
 * gives errors of 0.33 and 0.22 of max|g|, five orders of magnitude above the tolerance.
 */
class MlpGradientTest {
    private static final Mlp.Shape TINY = new Mlp.Shape(3, 7, 4);
    private static final int ROWS = 5;
    /** Float unit roundoff. */
    private static final double U = 0x1p-24;

    @Test
    void backwardMatchesCentralDifferencesOfTheDoubleForward() {
        try (Arena arena = Arena.ofConfined()) {
            Mlp model = Mlp.create(arena, TINY, 1);
            SplittableRandom rnd = new SplittableRandom(7);
            randomise(model, rnd);
            float[] x = new float[ROWS * TINY.inputs()];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rnd.nextGaussian() * 1.5);
            }
            int[] labels = {0, 3, 1, 2, 3};

            Mlp.Workspace ws = model.workspace(ROWS);
            double floatLoss = model.forward(ws, x, labels, ROWS);
            model.backward(ws);

            ReferenceMlp ref = new ReferenceMlp(TINY, model.paramSet());
            double[] p = new double[(int) model.params().length()];
            for (int i = 0; i < p.length; i++) {
                p[i] = model.params().get(i);
            }
            // The float forward against the double one: same O(depth * u) argument, relative to the O(1) loss.
            assertEquals(ref.loss(p, x, labels, ROWS), floatLoss, 50 * U * Math.abs(floatLoss));

            double h = 1e-4;
            double maxAbs = 0;
            double[] numeric = new double[p.length];
            for (Tensor t : model.paramSet().tensors()) {
                for (long i = t.offset(); i < t.end(); i++) {
                    double keep = p[(int) i];
                    p[(int) i] = keep + h;
                    double up = ref.loss(p, x, labels, ROWS);
                    p[(int) i] = keep - h;
                    double down = ref.loss(p, x, labels, ROWS);
                    p[(int) i] = keep;
                    numeric[(int) i] = (up - down) / (2 * h);
                    maxAbs = Math.max(maxAbs, Math.abs(numeric[(int) i]));
                }
            }
            assertTrue(maxAbs > 1e-2, "gradient too small for a meaningful check: " + maxAbs);
            double tol = 50 * U * maxAbs;
            double scale = maxAbs;
            for (Tensor t : model.paramSet().tensors()) {
                for (long i = t.offset(); i < t.end(); i++) {
                    double analytic = model.grads().get(i);
                    int at = (int) i;
                    assertEquals(numeric[at], analytic, tol,
                            () -> t.name() + "[" + (at - t.offset()) + "]: analytic " + analytic + " vs numeric "
                                    + numeric[at] + " (max |g| " + scale + ")");
                }
            }
        }
    }

    private static void randomise(Mlp model, SplittableRandom rnd) {
        for (Tensor t : model.paramSet().tensors()) {
            boolean gain = t.name().startsWith("ln") && t.name().endsWith(".weight");
            for (long i = t.offset(); i < t.end(); i++) {
                double v = gain ? 1 + 0.5 * rnd.nextGaussian() : 0.7 * rnd.nextGaussian();
                model.params().set(i, (float) v);
            }
        }
    }
}
