package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import vecopt.clip.Clip;
import vecopt.exec.WorkerPool;
import vecopt.reference.ClipReference;

/**
 * A worker's exception reaches the caller and the pool stays usable; clip-by-value as PyTorch's. (A failing kernel
 * inside an optimizer step: {@code vecopt.optim.KernelFailureTest}.)
 */
class PoolFailureAndClampTest {

    @Test
    void thePoolSurvivesAFailedJob() {
        // The failure surfaces with its cause, and the next job runs every task exactly once.
        try (WorkerPool pool = new WorkerPool(3)) {
            int[] hits = new int[100];
            assertThrows(WorkerPool.WorkerException.class, () -> pool.run(100, i -> {
                if (i == 50) {
                    throw new ArithmeticException("planted");
                }
            }));
            pool.run(100, i -> hits[i]++);
            for (int i = 0; i < 100; i++) {
                assertEquals(1, hits[i], "task " + i + " ran " + hits[i] + " times after a failed job");
            }
        }
    }

    @Property(tries = 40)
    void clipByValueIsPyTorchsClamp(@ForAll @IntRange(min = 0, max = 3000) int n, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        try (Rig rig = new Rig(r.nextInt(0, 9), n, seed % 2 == 0)) {
            float[] g = Rig.values(r, n, -2, 4);
            if (n > 0) {
                g[r.nextInt(n)] = Float.NaN; // NaN stays NaN, as torch.clamp leaves it
            }
            rig.setGrads(g);
            double limit = r.nextDouble(0.01, 2.0);
            Clip.byValue(rig.set, limit);
            float[] expected = g.clone();
            ClipReference.clipByValue((float) limit, expected);
            Check.bitwiseEqual("clamped gradients", expected, rig.grads());
            Check.guards(rig);
        }
    }
}
