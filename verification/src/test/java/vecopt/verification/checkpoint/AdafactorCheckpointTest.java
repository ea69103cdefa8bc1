package vecopt.verification.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.CheckpointException;
import vecopt.checkpoint.Restored;
import vecopt.checkpoint.SafetensorsFile;
import vecopt.checkpoint.TensorEntry;
import vecopt.memory.BFloat16;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.Adafactor;
import vecopt.optim.AdafactorOptions;
import vecopt.optim.Optimizer;
import vecopt.optim.ParamGroup;
import vecopt.param.ParamSet;
import vecopt.param.Shape;
import vecopt.param.Tensor;

/**
 * Checkpoints of Adafactor (format version 3): its state under Hugging Face's names and shapes
 * ({@code exp_avg_sq_row} {@code [..., R]}, {@code exp_avg_sq_col} {@code [..., C]}, {@code exp_avg_sq} of a
 * vector, {@code exp_avg} with beta1, {@code RMS} a 0-d tensor, {@code step} the group's), its options under HF's
 * names; a resume is bitwise the uninterrupted run on heap and off-heap parameters with 1 and 2 threads (resuming on
 * the other kind and count); factored state whose shape does not match the tensor's declared shape, and beta1 on in
 * a group on one side only, are refused naming both sides, and change nothing.
 */
class AdafactorCheckpointTest {
    static final int N = 12;
    static final int K = 6;

    @TempDir
    Path dir;

    /**
     * A model with Adafactor's cases: "attn.weight" [300, 240] (72,000 elements: two chunks, a row crossing them) in
     * a buffer of its own, "conv.weight" [3, 40, 25] (a batch of three factored matrices) at element 5 of a buffer
     * shared with "fc.bias" [37], and "norm.scale" [16]. {@code attn} replaces attn.weight's shape (same length).
     */
    static final class Net implements AutoCloseable {
        final Arena arena;
        final ParamSet set;

        Net(boolean offHeap, long seed, long[] attn) {
            this(offHeap, seed, attn, Dtype.FLOAT32);
        }

        /** As {@link #Net(boolean, long, long[])}, with gradients stored as {@code gradType}. */
        Net(boolean offHeap, long seed, long[] attn, Dtype gradType) {
            this(offHeap, seed, attn, gradType, Dtype.FLOAT32);
        }

        /** As {@link #Net(boolean, long, long[])}, with gradients and parameters stored as the types given. */
        Net(boolean offHeap, long seed, long[] attn, Dtype gradType, Dtype paramType) {
            arena = offHeap ? Arena.ofShared() : null;
            Storage pa = alloc(72_000, paramType), ga = alloc(72_000, gradType), pb = alloc(5 + 3000 + 37, paramType);
            Storage gb = alloc(5 + 3000 + 37, gradType), pc = alloc(16, paramType), gc = alloc(16, gradType);
            set = ParamSet.builder()
                    .add("attn.weight", pa, ga, 0, 72_000, Shape.of(attn))
                    .add("conv.weight", pb, gb, 5, 3000, Shape.of(3, 40, 25))
                    .add("fc.bias", pb, gb, 3005, 37)
                    .add("norm.scale", pc, gc, 0, 16)
                    .build();
            SplittableRandom r = new SplittableRandom(seed);
            for (Tensor t : set.tensors()) {
                for (long i = 0; i < t.length(); i++) {
                    t.params().set(t.offset() + i, (float) (r.nextGaussian() * 0.5));
                }
            }
        }

        Net(boolean offHeap, long seed) {
            this(offHeap, seed, new long[] {300, 240});
        }

        private Storage alloc(long n, Dtype type) {
            if (arena != null) {
                return Storage.allocate(arena, n, type);
            }
            return type == Dtype.FLOAT32 ? Storage.of(new float[(int) n]) : Storage.of(new short[(int) n], type);
        }

        /** The gradients of step {@code step}, a function of the step alone. */
        void gradients(long step) {
            SplittableRandom r = new SplittableRandom(1_000_003L * step + 17);
            for (Tensor t : set.tensors()) {
                for (long i = 0; i < t.length(); i++) {
                    t.grads().set(t.offset() + i, (float) (r.nextGaussian() * 0.3 * (1 + step % 3)));
                }
            }
        }

        @Override
        public void close() {
            if (arena != null) {
                arena.close();
            }
        }
    }

    /** A configuration: the default group's options and the "no_decay" group's (biases and norm scales). */
    record Case(String name, AdafactorOptions defaults, AdafactorOptions noDecay) {
        @Override
        public String toString() {
            return name;
        }

        Adafactor build(Net n, int threads) {
            return Adafactor.builder(n.set).options(defaults).group("no_decay", noDecay, Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build();
        }
    }

    // HF's defaults (relative step, scale_parameter, no beta1) in one group, a manual lr without scaling in the other
    static final Case HF = new Case("HF defaults + manual group", AdafactorOptions.DEFAULTS,
            AdafactorOptions.DEFAULTS.manual(1e-3).withScaleParameter(false));
    // beta1 (exp_avg) and weight decay in the default group, warmup_init in the other
    static final Case BETA1 = new Case("beta1 0.9 + weight decay, warmup_init group",
            AdafactorOptions.DEFAULTS.withBeta1(0.9).withWeightDecay(0.01),
            AdafactorOptions.DEFAULTS.withWarmupInit(true).withClipThreshold(0.5));

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Case c : List.of(HF, BETA1)) {
            for (boolean offHeap : new boolean[] {false, true}) {
                for (int threads = 1; threads <= 2; threads++) {
                    out.add(Arguments.of(c, offHeap, threads));
                }
            }
        }
        return out.stream();
    }

    static void run(Net n, Adafactor opt, long from, long to) {
        for (long step = from; step < to; step++) {
            n.gradients(step);
            opt.step(1.0); // HF's learning rate, unscaled
        }
    }

    /** The variables tensor {@code t} has: exp_avg with beta1, then its factored state or exp_avg_sq. */
    static List<String> variables(Adafactor opt, Tensor t) {
        List<String> out = new ArrayList<>();
        if (opt.stateNames().contains("exp_avg")) {
            out.add("exp_avg");
        }
        out.addAll(t.shape().rank() >= 2 ? List.of("exp_avg_sq_row", "exp_avg_sq_col") : List.of("exp_avg_sq"));
        return out;
    }

    /** Parameters, every state variable (a master copy too) and RMS (bits), and the counters. */
    static Model.Image image(Adafactor opt) {
        List<String> what = new ArrayList<>();
        List<int[]> bits = new ArrayList<>();
        for (Tensor t : opt.params().tensors()) {
            what.add("param " + t.name());
            bits.add(EightBitCheckpointTest.ints(t.params().toArray(t.offset(), (int) t.length())));
            List<String> vars = variables(opt, t);
            if (opt.stateNames().contains(Optimizer.MASTER)) {
                vars.add(Optimizer.MASTER);
            }
            for (String v : vars) {
                what.add(v + " of " + t.name());
                bits.add(opt.stateType(v) == Dtype.BFLOAT16 // each element's bits, widened to an int
                        ? shorts(opt.state(t.name(), v).toArray(ValueLayout.JAVA_SHORT))
                        : opt.state(t.name(), v).toArray(ValueLayout.JAVA_INT));
            }
            what.add("RMS of " + t.name());
            bits.add(new int[] {Float.floatToRawIntBits(opt.rms(t.name()))});
        }
        List<Long> counters = new ArrayList<>();
        counters.add(opt.steps());
        for (ParamGroup<?> g : opt.groups()) {
            counters.add(g.steps());
        }
        return new Model.Image(what, bits, counters);
    }

    private static int[] shorts(short[] s) {
        int[] out = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = s[i];
        }
        return out;
    }

    @ParameterizedTest(name = "{0}, offHeap={1}, threads={2}")
    @MethodSource("cases")
    void resumeIsBitwiseTheUninterruptedRun(Case c, boolean offHeap, int threads) throws IOException {
        Model.Image expected;
        try (Net n = new Net(offHeap, 7); Adafactor opt = c.build(n, threads)) {
            run(n, opt, 0, N);
            expected = image(opt);
        }
        Path file = dir.resolve("ckpt.safetensors");
        Model.Image atK;
        try (Net n = new Net(offHeap, 7); Adafactor opt = c.build(n, threads)) {
            run(n, opt, 0, K);
            atK = image(opt);
            Checkpoint.save(file, opt, K);
            assertLayout(file, opt);
        }
        try (Net n = new Net(!offHeap, 99); Adafactor opt = c.build(n, 3 - threads)) {
            Restored r = Checkpoint.load(file, opt);
            assertTrue(r.differences().isEmpty(), r.differences().toString());
            image(opt).assertSameAs(atK, "just after the load");
            run(n, opt, r.globalStep(), N);
            image(opt).assertSameAs(expected, "after resuming");
        }
    }

    /**
     * A resume on bfloat16 or float16 gradients (float32 parameters) is bitwise the uninterrupted run on the same
     * gradients: gradients are not saved, so nothing in the file depends on their type, and the load refuses nothing
     * (the saving run on heap memory with 2 threads, the resuming one off-heap with 1).
     */
    @ParameterizedTest(name = "{0}, gradients {1}")
    @MethodSource("sixteenBitCases")
    void resumeOnSixteenBitGradientsIsBitwise(Case c, Dtype gradType) throws IOException {
        long[] attn = {300, 240};
        Model.Image expected;
        try (Net n = new Net(false, 7, attn, gradType); Adafactor opt = c.build(n, 2)) {
            run(n, opt, 0, N);
            expected = image(opt);
        }
        Path file = dir.resolve("ckpt16.safetensors");
        try (Net n = new Net(false, 7, attn, gradType); Adafactor opt = c.build(n, 2)) {
            run(n, opt, 0, K);
            Checkpoint.save(file, opt, K);
        }
        try (Net n = new Net(true, 99, attn, gradType); Adafactor opt = c.build(n, 1)) {
            Restored r = Checkpoint.load(file, opt);
            assertTrue(r.differences().isEmpty(), r.differences().toString());
            run(n, opt, r.globalStep(), N);
            image(opt).assertSameAs(expected, "after resuming on " + gradType + " gradients");
        }
    }

    /**
     * How a mixed-storage run stores its parameters and state: 16-bit parameters with a float32 master copy,
     * bfloat16 parameters rounded stochastically, bfloat16 state (on float32 or 16-bit parameters).
     */
    enum Storing {
        BF16_MASTER(Dtype.BFLOAT16, false, false), FP16_MASTER(Dtype.FLOAT16, false, false),
        BF16_STOCHASTIC(Dtype.BFLOAT16, true, false), BF16_STATE(Dtype.FLOAT32, false, true),
        FP16_MASTER_BF16_STATE(Dtype.FLOAT16, false, true), BF16_STOCHASTIC_BF16_STATE(Dtype.BFLOAT16, true, true);

        final Dtype params;
        final boolean stochastic;
        final boolean bf16State;

        Storing(Dtype params, boolean stochastic, boolean bf16State) {
            this.params = params;
            this.stochastic = stochastic;
            this.bf16State = bf16State;
        }

        Adafactor build(Case c, Net n, int threads) {
            var b = Adafactor.builder(n.set).options(c.defaults).group("no_decay", c.noDecay, Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads);
            if (stochastic) {
                b = b.stochasticRounding(42);
            }
            if (bf16State) {
                b = b.bfloat16State(7);
            }
            return b.build();
        }
    }

    /**
     * A resume with 16-bit parameters (a master copy, or stochastic rounding) or bfloat16 state is bitwise the
     * uninterrupted run: the file holds the parameters in their type, {@code master_param} (float32) where there is
     * one, {@code exp_avg} and the vectors' {@code exp_avg_sq} as bfloat16 under bfloat16 state, the factored state
     * and RMS as float32 (the saving run on heap memory with 2 threads, the resuming one off-heap with 1).
     */
    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("mixedStorageCases")
    void resumeOnMixedStorageIsBitwise(Case c, Storing s) throws IOException {
        long[] attn = {300, 240};
        Model.Image expected;
        try (Net n = new Net(false, 7, attn, Dtype.BFLOAT16, s.params); Adafactor opt = s.build(c, n, 2)) {
            run(n, opt, 0, N);
            expected = image(opt);
        }
        Path file = dir.resolve("ckpt-mixed.safetensors");
        Model.Image atK;
        try (Net n = new Net(false, 7, attn, Dtype.BFLOAT16, s.params); Adafactor opt = s.build(c, n, 2)) {
            run(n, opt, 0, K);
            atK = image(opt);
            Checkpoint.save(file, opt, K);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            boolean master = s.params != Dtype.FLOAT32 && !s.stochastic;
            int masters = 0;
            for (TensorEntry e : f.tensors()) {
                String n = e.name();
                String want = n.startsWith("state/") ? (n.endsWith("/" + Optimizer.MASTER) ? "F32"
                        : s.bf16State && (n.endsWith("/exp_avg") || n.endsWith("/exp_avg_sq")) ? "BF16" : "F32")
                        : s.params == Dtype.FLOAT32 ? "F32" : s.params == Dtype.BFLOAT16 ? "BF16" : "F16";
                assertEquals(want, e.dtype().name(), n);
                masters += n.endsWith("/" + Optimizer.MASTER) ? 1 : 0;
            }
            assertEquals(master ? 4 : 0, masters, "master_param tensors, " + s);
        }
        try (Net n = new Net(true, 99, attn, Dtype.BFLOAT16, s.params); Adafactor opt = s.build(c, n, 1)) {
            Restored r = Checkpoint.load(file, opt);
            assertTrue(r.differences().isEmpty(), r.differences().toString());
            image(opt).assertSameAs(atK, "just after the load, " + s);
            run(n, opt, r.globalStep(), N);
            image(opt).assertSameAs(expected, "after resuming, " + s);
        }
    }

    /**
     * A file with bfloat16 state loads into float32 state widened exactly (the difference reported per variable, the
     * 1-D tensors' {@code exp_avg_sq} included), and a float32 file into bfloat16 state is refused naming the tensor
     * (loading would round it), changing nothing.
     */
    @Test
    void bfloat16StateWidensIntoFloat32StateAndTheReverseIsRefused() throws IOException {
        long[] attn = {300, 240};
        Path bf16 = dir.resolve("bf16-state.safetensors");
        Map<String, short[]> saved = new LinkedHashMap<>();
        try (Net n = new Net(false, 7, attn); Adafactor opt = Storing.BF16_STATE.build(BETA1, n, 1)) {
            run(n, opt, 0, K);
            for (String v : List.of("exp_avg", "exp_avg_sq")) {
                saved.put(v, opt.state("fc.bias", v).toArray(ValueLayout.JAVA_SHORT));
            }
            Checkpoint.save(bf16, opt, K);
        }
        try (Net n = new Net(true, 99, attn); Adafactor opt = BETA1.build(n, 2)) {
            Restored r = Checkpoint.load(bf16, opt);
            assertTrue(r.differences().contains("state 'exp_avg_sq' BF16 -> float32 (widened exactly)")
                    && r.differences().contains("state 'exp_avg' BF16 -> float32 (widened exactly)"),
                    r.differences().toString());
            for (Map.Entry<String, short[]> e : saved.entrySet()) {
                float[] loaded = opt.state("fc.bias", e.getKey()).toArray(ValueLayout.JAVA_FLOAT);
                assertEquals(e.getValue().length, loaded.length, e.getKey());
                for (int i = 0; i < loaded.length; i++) {
                    assertEquals(Float.floatToRawIntBits(BFloat16.widen(e.getValue()[i])),
                            Float.floatToRawIntBits(loaded[i]), e.getKey() + " of fc.bias element " + i);
                }
            }
        }
        Path fp32 = dir.resolve("fp32-state.safetensors");
        try (Net n = new Net(false, 7, attn); Adafactor opt = BETA1.build(n, 1)) {
            run(n, opt, 0, K);
            Checkpoint.save(fp32, opt, K);
        }
        try (Net n = new Net(false, 5, attn); Adafactor opt = Storing.BF16_STATE.build(BETA1, n, 1)) {
            refused(fp32, opt, "is F32 in the checkpoint but its buffer here is bfloat16 (BF16)");
        }
    }

    static Stream<Arguments> mixedStorageCases() {
        List<Arguments> out = new ArrayList<>();
        for (Case c : List.of(HF, BETA1)) {
            for (Storing s : Storing.values()) {
                out.add(Arguments.of(c, s));
            }
        }
        return out.stream();
    }

    static Stream<Arguments> sixteenBitCases() {
        List<Arguments> out = new ArrayList<>();
        for (Case c : List.of(HF, BETA1)) {
            for (Dtype g : new Dtype[] {Dtype.BFLOAT16, Dtype.FLOAT16}) {
                out.add(Arguments.of(c, g));
            }
        }
        return out.stream();
    }

    /**
     * The file's state tensors and shapes, against HF's spelled out here: for a parameter of shape [..., R, C],
     * exp_avg_sq_row [..., R] and exp_avg_sq_col [..., C]; for a vector, exp_avg_sq of its shape; RMS a 0-d tensor
     * holding {@code rms}; exp_avg (with beta1) of the parameter's shape; each group's step in its scalar state.
     */
    static void assertLayout(Path file, Adafactor opt) throws IOException {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        boolean beta1 = opt.stateNames().contains("exp_avg");
        shapes.put("attn.weight/exp_avg_sq_row", new long[] {300});
        shapes.put("attn.weight/exp_avg_sq_col", new long[] {240});
        shapes.put("conv.weight/exp_avg_sq_row", new long[] {3, 40});
        shapes.put("conv.weight/exp_avg_sq_col", new long[] {3, 25});
        shapes.put("fc.bias/exp_avg_sq", new long[] {37});
        shapes.put("norm.scale/exp_avg_sq", new long[] {16});
        for (Tensor t : opt.params().tensors()) {
            shapes.put(t.name() + "/RMS", new long[0]);
            if (beta1) {
                shapes.put(t.name() + "/exp_avg", t.shape().dims());
            }
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, long[]> written = new LinkedHashMap<>();
            for (TensorEntry e : f.tensors()) {
                if (e.name().startsWith("state/")) {
                    assertEquals("F32", e.dtype().name(), e.name());
                    written.put(e.name().substring("state/".length()), e.shape());
                }
            }
            assertEquals(shapes.keySet(), written.keySet(), "HF's state names");
            for (String k : shapes.keySet()) {
                assertArrayEquals(shapes.get(k), written.get(k), "shape of state/" + k);
            }
            for (Tensor t : opt.params().tensors()) {
                float rms = f.bytes(f.tensor("state/" + t.name() + "/RMS"))
                        .get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
                assertEquals(Float.floatToRawIntBits(opt.rms(t.name())), Float.floatToRawIntBits(rms), "RMS of " + t);
            }
            String groups = f.metadata().get("groups");
            assertTrue(groups.contains("\"state\":{\"step\":" + K + ".0}"), groups);
            for (String option : List.of("\"lr\":", "\"eps1\":1.0E-30", "\"eps2\":0.001", "\"clip_threshold\":",
                    "\"decay_rate\":-0.8", "\"beta1\":", "\"weight_decay\":", "\"scale_parameter\":",
                    "\"relative_step\":", "\"warmup_init\":")) {
                assertTrue(groups.contains(option), option + " in " + groups);
            }
        }
    }

    /** Asserts that loading {@code file} into {@code opt} throws naming {@code message}, and changes nothing. */
    static void refused(Path file, Adafactor opt, String message) throws IOException {
        Model.Image before = image(opt);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file, opt));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        image(opt).assertSameAs(before, "after the refused load");
    }

    Path saved(Case c, long[] attn) throws IOException {
        Path file = dir.resolve("saved-" + attn.length + "-" + attn[0] + ".safetensors");
        try (Net n = new Net(false, 7, attn); Adafactor opt = c.build(n, 1)) {
            run(n, opt, 0, K);
            Checkpoint.save(file, opt, K);
        }
        return file;
    }

    /** The file with {@code edit} applied to its header text (sized and padded anew), data unchanged. */
    Path edited(Path file, UnaryOperator<String> edit) throws IOException {
        Path out = dir.resolve("edited-" + file.getFileName());
        Files.write(out, CorruptCheckpointTest.editHeader(Files.readAllBytes(file), edit));
        return out;
    }

    @Test
    void factoredStateOfAnotherShapeIsRefusedNamingBothShapes() throws IOException {
        // The parameter written flat (as a converter may), its row and column state as [300] and [240]: loaded into
        // attn.weight declared [240, 300] (rows and columns the other way round), the row state must be refused.
        Path file = edited(saved(HF, new long[] {300, 240}), h -> h.replace(
                "\"param/attn.weight\":{\"dtype\":\"F32\",\"shape\":[300,240]",
                "\"param/attn.weight\":{\"dtype\":\"F32\",\"shape\":[72000]"));
        try (Net n = new Net(true, 5, new long[] {240, 300}); Adafactor opt = HF.build(n, 2)) {
            run(n, opt, 0, 2);
            refused(file, opt, "tensor 'state/attn.weight/exp_avg_sq_row' has shape [300], expected [240]");
        }
        // saved as a vector (unfactored, exp_avg_sq [72000]), loaded where it is a matrix (factored)
        Path flat = saved(HF, new long[] {72_000});
        try (Net n = new Net(true, 5); Adafactor opt = HF.build(n, 2)) {
            run(n, opt, 0, 2);
            refused(flat, opt, "tensor 'state/attn.weight/exp_avg_sq_row' is missing (this optimizer has it, 300"
                    + " elements; the checkpoint holds 'state/attn.weight/exp_avg_sq' [72000] instead: the tensor is"
                    + " factored here");
        }
    }

    @Test
    void optionsUnderHfNamesMayDifferButBeta1OnOneSideOnlyIsRefused() throws IOException {
        Path file = saved(BETA1, new long[] {300, 240});
        Case lr = new Case("other clip_threshold", BETA1.defaults().withClipThreshold(2.0), BETA1.noDecay());
        try (Net n = new Net(false, 5); Adafactor opt = lr.build(n, 1)) {
            Restored r = Checkpoint.load(file, opt);
            assertEquals(List.of("group 'default': clip_threshold 1.0 -> 2.0"), r.differences());
        }
        Case moved = new Case("beta1 in no_decay too", BETA1.defaults(), BETA1.noDecay().withBeta1(0.8));
        try (Net n = new Net(false, 5); Adafactor opt = moved.build(n, 1)) {
            run(n, opt, 0, 2);
            refused(file, opt, "group 'no_decay': beta1 is None in the checkpoint but 0.8 here");
        }
        // the groups are a JSON string inside the header: their quotes are escaped there
        Path step = edited(file, h -> h.replace("\\\"step\\\":6.0", "\\\"step\\\":5.0"));
        try (Net n = new Net(false, 5); Adafactor opt = BETA1.build(n, 1)) {
            refused(step, opt, "scalar state 'step' is 5.0 but the group's steps are 6");
        }
    }
}
