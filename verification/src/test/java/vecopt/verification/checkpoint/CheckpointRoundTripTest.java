package vecopt.verification.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.Extras;
import vecopt.checkpoint.Restored;
import vecopt.optim.Optimizer;
import vecopt.optim.StepReport;

/**
 * Bitwise resume: N steps uninterrupted against k steps, a checkpoint, everything thrown away, a new model whose
 * parameters start elsewhere, a new optimizer, the load, and N - k more steps. Parameters, every state variable, the
 * step counters and the skipped-step count must be bitwise the same, for every optimizer (the per-group scalars
 * NAdam and ASGD keep included: the resumed steps use them), with clipping on and a
 * skipped (NaN) step both before and after the checkpoint. The resumed run uses the other memory kind and the other
 * thread count than the run that saved, so a checkpoint is shown to carry nothing of either.
 */
class CheckpointRoundTripTest {
    static final int N = 12;
    static final int K = 6;
    static final long[] NAN_STEPS = {3, 9};

    @TempDir
    Path dir;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Setup s : Setup.ALL) {
            for (boolean offHeap : new boolean[] {false, true}) {
                for (int threads = 1; threads <= 2; threads++) {
                    out.add(Arguments.of(s, offHeap, threads));
                }
            }
        }
        // The others share the layouts' code path with the above: each case resumes on the other memory kind and
        // thread count, so two cases cover both directions of both.
        for (Setup s : Setup.OTHERS) {
            out.add(Arguments.of(s, false, 1));
            out.add(Arguments.of(s, true, 2));
        }
        return out.stream();
    }

    static double lr(Setup s, long step) {
        return (s.name().startsWith("Sgd") ? 0.05 : 1e-2) * (step + 1) / N;
    }

    /** Runs steps [from, to) and returns the last report. */
    static StepReport run(Setup s, Model m, Optimizer<?> opt, long from, long to) {
        StepReport last = null;
        for (long step = from; step < to; step++) {
            m.gradients(step);
            last = opt.step(lr(s, step));
        }
        return last;
    }

    @ParameterizedTest(name = "{0}, offHeap={1}, threads={2}")
    @MethodSource("cases")
    void resumeIsBitwiseTheUninterruptedRun(Setup s, boolean offHeap, int threads) throws IOException {
        Model.Image expected;
        long expectedSkipped;
        try (Model m = new Model(offHeap, 7, NAN_STEPS); Optimizer<?> opt = s.build().apply(m.set, threads)) {
            StepReport r = run(s, m, opt, 0, N);
            expected = Model.image(opt);
            expectedSkipped = r.skippedSteps();
            assertEquals(NAN_STEPS.length, expectedSkipped, "the NaN steps were skipped");
        }
        Path file = dir.resolve("ckpt.safetensors");
        Model.Image atK;
        try (Model m = new Model(offHeap, 7, NAN_STEPS); Optimizer<?> opt = s.build().apply(m.set, threads)) {
            run(s, m, opt, 0, K);
            atK = Model.image(opt);
            Checkpoint.save(file, opt, K, Extras.none().withString("data.position", "k=" + K)
                    .withTensor("rng", new float[] {1.5f, -2f}));
        }
        try (Model m = new Model(!offHeap, 99, NAN_STEPS); Optimizer<?> opt = s.build().apply(m.set, 3 - threads)) {
            Restored r = Checkpoint.load(file, opt);
            Model.image(opt).assertSameAs(atK, "just after the load");
            assertEquals(K, r.globalStep());
            assertEquals(Map.of("data.position", "k=" + K), r.strings());
            assertEquals(List.of("rng"), List.copyOf(r.tensors().keySet()));
            assertEquals(-2f, r.tensors().get("rng")[1]);
            assertTrue(r.differences().isEmpty(), r.differences().toString());
            StepReport last = run(s, m, opt, r.globalStep(), N);
            Model.image(opt).assertSameAs(expected, "after resuming");
            assertEquals(expectedSkipped, last.skippedSteps(), "skipped steps carried over");
            assertEquals(N - NAN_STEPS.length, last.step(), "updates applied, skipped steps not counted");
        }
        assertTrue(Files.size(file) > 8);
    }
}
