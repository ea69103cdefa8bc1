package vecopt.verification.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.Restored;
import vecopt.optim.Adafactor;
import vecopt.optim.AdafactorOptions;
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.optim.Lars;
import vecopt.optim.LarsOptions;
import vecopt.memory.Storage;
import vecopt.optim.Optimizer;
import vecopt.optim.ParamGroup;
import vecopt.optim.ScheduleFreeAdamW;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * Empty tensors (PyTorch allows parameters with no elements; a step over one changes nothing): every optimizer
 * accepts a parameter set with one over buffers of length 0 and one at the end of another tensor's buffers, gives
 * them state of length 0, steps every other tensor bitwise as it would without them, and round-trips them through a
 * checkpoint (resumed on the other memory kind, then stepped on, still bitwise the run without them). Off-heap state
 * over buffers that are all empty once threw a NullPointerException while the optimizer was built.
 */
class EmptyTensorTest {
    static final int N = 8;
    static final int K = 4;
    static final long[] NAN_STEPS = {2};

    @TempDir
    Path dir;

    /** Every optimizer of the checkpoint tests, then the layer-wise ones, Adafactor and schedule-free AdamW. */
    static Stream<Arguments> cases() {
        List<Setup> all = new ArrayList<>(Setup.ALL);
        all.addAll(Setup.OTHERS);
        all.add(Setup.other("Lamb", LambOptions.DEFAULTS, (set, threads) -> Lamb.builder(set)
                .options(LambOptions.DEFAULTS.withWeightDecay(0.01)).clipGradNorm(1.0).threads(threads).build()));
        all.add(Setup.other("Lars", LarsOptions.DEFAULTS, (set, threads) -> Lars.builder(set)
                .options(LarsOptions.DEFAULTS.withWeightDecay(1e-4)).clipGradNorm(1.0).threads(threads).build()));
        all.add(Setup.other("Adafactor", AdafactorOptions.DEFAULTS, (set, threads) -> Adafactor.builder(set)
                .options(AdafactorOptions.DEFAULTS.withBeta1(0.9)).clipGradNorm(1.0).threads(threads).build()));
        all.add(Setup.other("ScheduleFreeAdamW", ScheduleFreeAdamWCheckpointTest.OPTIONS,
                (set, threads) -> ScheduleFreeAdamW.builder(set).options(ScheduleFreeAdamWCheckpointTest.OPTIONS)
                        .clipGradNorm(1.0).threads(threads).build()));
        List<Arguments> out = new ArrayList<>();
        for (Setup s : all) {
            out.add(Arguments.of(s, false));
            out.add(Arguments.of(s, true));
        }
        return out.stream();
    }

    /** Steps {@code [from, to)}; schedule-free AdamW in train mode, back in eval mode after (as it is saved). */
    static void run(Optimizer<?> opt, Model m, long from, long to) {
        if (opt instanceof ScheduleFreeAdamW sf) {
            sf.train();
        }
        for (long step = from; step < to; step++) {
            m.gradients(step);
            opt.step(1e-2 * (step + 1) / N);
        }
        if (opt instanceof ScheduleFreeAdamW sf) {
            sf.eval();
        }
    }

    static Model.Image image(Optimizer<?> opt) {
        return opt instanceof Adafactor a ? AdafactorCheckpointTest.image(a) : Model.image(opt);
    }

    /** The image without the entries of the empty tensors (each of which must be empty). */
    static Model.Image withoutEmpties(Model.Image image) {
        List<String> what = new ArrayList<>();
        List<int[]> bits = new ArrayList<>();
        for (int i = 0; i < image.what().size(); i++) {
            if (image.what().get(i).contains("empty.")) {
                if (!image.what().get(i).startsWith("RMS of")) { // Adafactor's per-tensor scalar
                    assertEquals(0, image.bits().get(i).length, image.what().get(i) + " has elements");
                }
            } else {
                what.add(image.what().get(i));
                bits.add(image.bits().get(i));
            }
        }
        return new Model.Image(what, bits, image.counters());
    }

    @ParameterizedTest(name = "{0}, offHeap={1}")
    @MethodSource("cases")
    void emptyTensorsStepAsNothingAndRoundTrip(Setup s, boolean offHeap) throws IOException {
        BiFunction<ParamSet, Integer, Optimizer<?>> build = s.build();
        Path file = dir.resolve("ckpt.safetensors");
        try (Model plain = new Model(offHeap, 7, NAN_STEPS); Optimizer<?> without = build.apply(plain.set, 2);
             Model m = Model.withEmptyTensors(offHeap, 7, NAN_STEPS); Optimizer<?> with = build.apply(m.set, 2)) {
            for (Tensor t : m.set.tensors()) {
                if (t.length() == 0) {
                    for (String name : with.stateNames()) {
                        if (hasState(with, t, name)) {
                            assertEquals(0, with.state(t.name(), name).byteSize(), name + " of " + t.name());
                        }
                    }
                }
            }
            run(without, plain, 0, K);
            run(with, m, 0, K);
            Model.Image atK = image(with);
            withoutEmpties(atK).assertSameAs(image(without), "after " + K + " steps");
            Checkpoint.save(file, with, K);
            try (Model m2 = Model.withEmptyTensors(!offHeap, 99, NAN_STEPS);
                 Optimizer<?> resumed = build.apply(m2.set, 1)) {
                Restored r = Checkpoint.load(file, resumed);
                assertTrue(r.differences().isEmpty(), r.differences().toString());
                image(resumed).assertSameAs(atK, "just after the load");
                run(without, plain, K, N);
                run(resumed, m2, K, N);
                withoutEmpties(image(resumed)).assertSameAs(image(without), "resumed, after " + N + " steps");
            }
        }
    }

    /**
     * A parameter set of empty tensors only, over buffers of length 0 (one tensor per group: "empty.weight" decays,
     * "empty.bias" does not): the optimizer builds, its steps change nothing but count, and a checkpoint of it loads
     * into a new one on the other memory kind with nothing reported different.
     */
    @ParameterizedTest(name = "{0}, offHeap={1}")
    @MethodSource("cases")
    void onlyEmptyTensors(Setup s, boolean offHeap) throws IOException {
        Path file = dir.resolve("empty.safetensors");
        Model.Image saved;
        try (Arena arena = Arena.ofShared(); Optimizer<?> opt = s.build().apply(empty(offHeap ? arena : null), 2)) {
            for (Tensor t : opt.params().tensors()) {
                for (String name : opt.stateNames()) {
                    if (hasState(opt, t, name)) {
                        assertEquals(0, opt.state(t.name(), name).byteSize(), name + " of " + t.name());
                    }
                }
            }
            if (opt instanceof ScheduleFreeAdamW sf) {
                sf.train();
            }
            for (int step = 0; step < K; step++) {
                StepReport r = opt.step(1e-2);
                assertFalse(r.skipped(), "step " + step);
                assertEquals(0.0, r.gradNorm(), "no gradients: norm 0");
            }
            if (opt instanceof ScheduleFreeAdamW sf) {
                sf.eval();
            }
            assertEquals(K, opt.steps());
            for (ParamGroup<?> g : opt.groups()) {
                assertEquals(K, g.steps(), "steps of group " + g.name());
            }
            saved = image(opt);
            Checkpoint.save(file, opt, K);
        }
        try (Arena arena = Arena.ofShared(); Optimizer<?> opt = s.build().apply(empty(offHeap ? null : arena), 1)) {
            Restored r = Checkpoint.load(file, opt);
            assertEquals(K, r.globalStep());
            assertTrue(r.differences().isEmpty(), r.differences().toString());
            image(opt).assertSameAs(saved, "after the load");
        }
    }

    /** Two empty tensors over buffers of length 0, off-heap from {@code arena} or on the heap when it is null. */
    private static ParamSet empty(Arena arena) {
        Storage p = arena != null ? Storage.allocate(arena, 0) : Storage.of(new float[0]);
        Storage g = arena != null ? Storage.allocate(arena, 0) : Storage.of(new float[0]);
        Storage pb = arena != null ? Storage.allocate(arena, 0) : Storage.of(new float[0]);
        Storage gb = arena != null ? Storage.allocate(arena, 0) : Storage.of(new float[0]);
        return ParamSet.builder().add("empty.weight", p, g, 0, 0).add("empty.bias", pb, gb, 0, 0).build();
    }

    /** Whether {@code opt} keeps state variable {@code name} for tensor {@code t} (Adafactor's depend on the rank). */
    private static boolean hasState(Optimizer<?> opt, Tensor t, String name) {
        return !(opt instanceof Adafactor a) || AdafactorCheckpointTest.variables(a, t).contains(name);
    }
}
