package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.SgdOptions;
import vecopt.param.ParamSet;

/** Bad input gets an exception naming the parameter and the value, before anything is written. */
class BadInputTest {

    private static void assertMessage(Class<? extends Throwable> type, org.junit.jupiter.api.function.Executable call,
                                      String... fragments) {
        Throwable t = assertThrows(type, call);
        for (String f : fragments) {
            assertTrue(t.getMessage().contains(f), "message '" + t.getMessage() + "' should mention '" + f + "'");
        }
    }

    @Test
    void tensorsAndBuffers() {
        float[] gArray = new float[10];
        Storage p = Storage.of(new float[10]), g = Storage.of(gArray), g9 = Storage.of(new float[9]);
        assertMessage(IllegalArgumentException.class, () -> ParamSet.builder().add("w", p, g9, 0, 5).build(),
                "'w'", "grads length 9", "params length 10");
        assertMessage(IllegalArgumentException.class, () -> ParamSet.builder().add("w", p, g, 6, 5).build(),
                "'w'", "[6, 11)", "length 10");
        assertMessage(IllegalArgumentException.class, () -> ParamSet.builder().add("w", p, g, -1, 5).build(),
                "offset", "-1");
        assertMessage(IllegalArgumentException.class,
                () -> ParamSet.builder().add("a", p, g, 0, 5).add("b", p, g, 4, 5).build(), "'a'", "'b'", "overlap");
        assertMessage(IllegalArgumentException.class,
                () -> ParamSet.builder().add("a", p, g, 0, 5).add("a", p, g, 5, 5).build(), "'a'", "twice");
        // An empty tensor between two overlapping ones must not hide the overlap.
        assertMessage(IllegalArgumentException.class, () -> ParamSet.builder().add("a", p, g, 0, 6)
                .add("z", p, g, 5, 0).add("b", p, g, 5, 3).build(), "'a'", "'b'", "overlap");
        // One buffer in two roles, or one array wrapped twice: an update would write what is read as a gradient.
        float[] qArray = new float[10];
        Storage q = Storage.of(qArray), h = Storage.of(new float[10]);
        assertMessage(IllegalArgumentException.class, () -> ParamSet.builder().add("a", p, g, 0, 5)
                .add("b", g, q, 5, 5).build(), "share memory");
        assertMessage(IllegalArgumentException.class, () -> ParamSet.builder().add("a", p, g, 0, 5)
                .add("b", q, Storage.of(gArray), 0, 5).build(), "share memory");
        assertMessage(IllegalArgumentException.class, () -> ParamSet.builder().add("a", p, g, 0, 5)
                .add("b", q, h, 0, 5).add("c", Storage.of(qArray), Storage.of(new float[10]), 5, 5).build(),
                "share memory");
        try (Arena arena = Arena.ofConfined()) {
            Storage n = Storage.allocate(arena, 10);
            assertMessage(IllegalArgumentException.class, () -> ParamSet.builder().add("w", n, g, 0, 5).build(),
                    "same kind of memory");
            assertMessage(IllegalArgumentException.class,
                    () -> Storage.wrap(n.segment().asReadOnly()), "read-only");
        }
    }

    @Test
    void hyperparameters() {
        assertMessage(IllegalArgumentException.class, () -> AdamOptions.ADAMW_DEFAULTS.withBetas(1.0, 0.999),
                "beta1", "[0, 1)", "1.0");
        assertMessage(IllegalArgumentException.class, () -> AdamOptions.ADAMW_DEFAULTS.withBetas(0.9, -0.1),
                "beta2", "-0.1");
        assertMessage(IllegalArgumentException.class, () -> AdamOptions.ADAMW_DEFAULTS.withEps(0), "eps", "0.0");
        assertMessage(IllegalArgumentException.class, () -> AdamOptions.ADAMW_DEFAULTS.withWeightDecay(Double.NaN),
                "weightDecay", "NaN");
        assertMessage(IllegalArgumentException.class, () -> SgdOptions.PLAIN.withNesterov(true), "nesterov",
                "momentum 0.0");
        assertMessage(IllegalArgumentException.class, () -> SgdOptions.MOMENTUM.withDampening(1.5), "dampening",
                "1.5");
    }

    @Test
    void stepArgumentsAndStateAreCheckedBeforeAnyWrite() {
        try (Rig rig = new Rig(0, 100, true); AdamW opt = AdamW.builder(rig.set).threads(2).build()) {
            float[] p = rig.params();
            rig.setGrads(Rig.values(new java.util.SplittableRandom(1), 100, 0, 2));
            assertMessage(IllegalArgumentException.class, () -> opt.step(Double.NaN), "lr", "NaN");
            assertMessage(IllegalArgumentException.class, () -> opt.step(-1e-3), "lr", "-0.001");
            assertMessage(IllegalArgumentException.class, () -> opt.step(1e-3, -1), "gradScale", "-1.0");
            assertMessage(IllegalArgumentException.class, () -> opt.step(1e300), "must fit a float", "1.0E300");
            Check.bitwiseEqual("params after rejected steps", p, rig.params());
            assertEquals(0, opt.steps());
        }
        Rig closed = new Rig(0, 100, true);
        AdamW opt = AdamW.builder(closed.set).build();
        closed.close();
        assertMessage(IllegalStateException.class, () -> opt.step(1e-3), "params of 'w'", "closed");
        opt.close();
        assertMessage(IllegalStateException.class, () -> opt.step(1e-3), "closed");
    }

    @Test
    void confinedMemoryCannotBeUsedByAPool() {
        try (Arena arena = Arena.ofConfined()) {
            Storage p = Storage.allocate(arena, 64), g = Storage.allocate(arena, 64);
            ParamSet set = ParamSet.builder().add("w", p, g, 0, 64).build();
            try (AdamW opt = AdamW.builder(set).threads(2).stateArena(arena).build()) {
                assertMessage(IllegalStateException.class, () -> opt.step(1e-3), "confined", "shared arena");
            }
        }
    }

    @Test
    void builderOptions() {
        Storage p = Storage.of(new float[10]), g = Storage.of(new float[10]);
        ParamSet set = ParamSet.builder().add("w", p, g, 0, 10).build();
        assertMessage(IllegalArgumentException.class, () -> AdamW.builder(set).threads(0), "threads", "0");
        assertMessage(IllegalArgumentException.class, () -> AdamW.builder(set).clipGradNorm(0), "maxNorm", "0.0");
        assertMessage(IllegalArgumentException.class,
                () -> AdamW.builder(set).group("x", AdamOptions.FINE_TUNING, "nope"), "'nope'");
        assertMessage(IllegalArgumentException.class,
                () -> AdamW.builder(set).group("a", AdamOptions.FINE_TUNING, t -> true)
                        .group("b", AdamOptions.FINE_TUNING, t -> true).build(), "'w'", "'a'", "'b'");
    }
}
