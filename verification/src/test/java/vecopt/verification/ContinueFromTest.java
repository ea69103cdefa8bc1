package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import vecopt.memory.Storage;
import vecopt.optim.Adam;
import vecopt.optim.Asgd;
import vecopt.optim.AsgdOptions;
import vecopt.optim.NAdam;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.param.ParamSet;

/**
 * {@link Optimizer#continueFrom}: an optimizer rebuilt over copies of the buffers and continued from the first one
 * takes exactly the steps the first one takes (parameters and state bit for bit), and refuses what it cannot carry.
 */
class ContinueFromTest {
    private static final int A = 37, B = 5; // a weight and a bias, in separate buffers as an autograd stack has them

    /** Two tensors, "w" and "b", each in its own heap buffers. */
    private record Model(float[] w, float[] gw, float[] b, float[] gb, ParamSet set) {
        static Model random(SplittableRandom r) {
            float[] w = fill(new float[A], r), b = fill(new float[B], r);
            return of(w, b);
        }

        static Model of(float[] w, float[] b) {
            float[] gw = new float[w.length], gb = new float[b.length];
            ParamSet set = ParamSet.builder()
                    .add("w", Storage.of(w), Storage.of(gw), 0, w.length)
                    .add("b", Storage.of(b), Storage.of(gb), 0, b.length)
                    .build();
            return new Model(w, gw, b, gb, set);
        }

        Model copy() {
            return of(w.clone(), b.clone());
        }

        void gradients(SplittableRandom r) {
            fill(gw, r);
            fill(gb, r);
        }
    }

    private static float[] fill(float[] a, SplittableRandom r) {
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    private static void continuesBitwise(Function<ParamSet, Optimizer<?>> build, String what) {
        SplittableRandom r = new SplittableRandom(7);
        Model m = Model.random(r);
        try (Optimizer<?> first = build.apply(m.set)) {
            for (int s = 0; s < 3; s++) {
                m.gradients(r);
                first.step(1e-2);
            }
            Model moved = m.copy();
            try (Optimizer<?> second = build.apply(moved.set)) {
                second.continueFrom(first);
                assertEquals(first.steps(), second.steps(), what + ": step count carried over");
                for (int s = 0; s < 2; s++) {
                    m.gradients(r);
                    System.arraycopy(m.gw, 0, moved.gw, 0, A);
                    System.arraycopy(m.gb, 0, moved.gb, 0, B);
                    first.step(1e-2);
                    second.step(1e-2);
                }
                assertArrayEquals(m.w, moved.w, what + ": w after continuing");
                assertArrayEquals(m.b, moved.b, what + ": b after continuing");
                for (String tensor : new String[] {"w", "b"}) {
                    for (String state : first.stateNames()) {
                        assertArrayEquals(first.state(tensor, state).toArray(ValueLayout.JAVA_FLOAT),
                                second.state(tensor, state).toArray(ValueLayout.JAVA_FLOAT),
                                what + ": " + state + " of " + tensor);
                    }
                }
                for (int g = 0; g < first.groups().size(); g++) {
                    assertEquals(first.groups().get(g).steps(), second.groups().get(g).steps(), what + ": group steps");
                }
            }
        }
    }

    @Test
    void adamWWithTwoGroupsContinuesBitForBit() {
        continuesBitwise(set -> AdamW.builder(set).threads(1)
                .group("no_decay", AdamOptions.ADAMW_DEFAULTS.withWeightDecay(0), "b").build(), "AdamW");
    }

    @Test
    void amsgradAndSgdMomentumContinueBitForBit() {
        continuesBitwise(set -> Adam.builder(set).threads(1)
                .options(AdamOptions.ADAM_DEFAULTS.withAmsgrad(true)).build(), "Adam AMSGrad");
        continuesBitwise(set -> Sgd.builder(set).threads(1)
                .options(SgdOptions.MOMENTUM).build(), "SGD momentum");
    }

    /**
     * The per-group scalars PyTorch keeps per tensor carry over too: NAdam's mu_product, ASGD's eta and mu (t0 1:
     * averaging from the 4th step, so the continued steps average with the carried mu and the decayed eta).
     */
    @Test
    void perGroupScalarStateContinuesBitForBit() {
        continuesBitwise(set -> NAdam.builder(set).threads(1).build(), "NAdam");
        continuesBitwise(set -> Asgd.builder(set).threads(1)
                .options(AsgdOptions.DEFAULTS.withT0(1).withLambd(0.5)).build(), "ASGD");
    }

    @Test
    void aPlantedBugIsSeen() {
        // The property above would pass for a continueFrom that copied nothing only if state did not matter: check
        // that a fresh optimizer (no continueFrom) over the copies does diverge, so the bitwise assertions can fail.
        SplittableRandom r = new SplittableRandom(7);
        Model m = Model.random(r);
        try (AdamW first = AdamW.builder(m.set).threads(1).build()) {
            m.gradients(r);
            first.step(1e-2);
            Model moved = m.copy();
            try (AdamW fresh = AdamW.builder(moved.set).threads(1).build()) {
                m.gradients(r);
                System.arraycopy(m.gw, 0, moved.gw, 0, A);
                System.arraycopy(m.gb, 0, moved.gb, 0, B);
                first.step(1e-2);
                fresh.step(1e-2);
                assertTrue(!java.util.Arrays.equals(m.w, moved.w), "a fresh optimizer must differ");
            }
        }
    }

    @Test
    void refusesWhatItCannotCarryAndChangesNothing() {
        SplittableRandom r = new SplittableRandom(3);
        Model m = Model.random(r);
        try (AdamW first = AdamW.builder(m.set).threads(1).build()) {
            m.gradients(r);
            first.step(1e-2);
            try (Adam other = Adam.builder(m.copy().set).threads(1).build()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> other.continueFrom(first));
                assertTrue(e.getMessage().contains("AdamW") && e.getMessage().contains("Adam"), e.getMessage());
            }
            try (AdamW grouped = AdamW.builder(m.copy().set).threads(1)
                    .group("no_decay", AdamOptions.ADAMW_DEFAULTS.withWeightDecay(0), "b").build()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> grouped.continueFrom(first));
                assertTrue(e.getMessage().contains("no_decay"), e.getMessage());
                assertEquals(0, grouped.steps(), "nothing carried over");
            }
            Model longer = Model.of(new float[A + 1], new float[B]);
            try (AdamW resized = AdamW.builder(longer.set).threads(1).build()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> resized.continueFrom(first));
                assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains(String.valueOf(A + 1)),
                        e.getMessage());
            }
            try (AdamW stepped = AdamW.builder(m.copy().set).threads(1).build()) {
                stepped.step(1e-2);
                assertThrows(IllegalStateException.class, () -> stepped.continueFrom(first));
            }
            AdamW closed = AdamW.builder(m.copy().set).threads(1).build();
            closed.close();
            try (AdamW late = AdamW.builder(m.copy().set).threads(1).build()) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> late.continueFrom(closed));
                assertTrue(e.getMessage().contains("closed"), e.getMessage());
            }
        }
    }
}
