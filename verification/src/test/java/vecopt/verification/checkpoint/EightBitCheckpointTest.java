package vecopt.verification.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import vecopt.checkpoint.BackgroundSave;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.CheckpointException;
import vecopt.checkpoint.CheckpointFiles;
import vecopt.checkpoint.Restored;
import vecopt.checkpoint.SafetensorsFile;
import vecopt.checkpoint.TensorEntry;
import vecopt.kernel.BlockCodes;
import vecopt.kernel.DynamicMap;
import vecopt.memory.Dtype;
import vecopt.optim.Adam;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.EightBitCode;
import vecopt.optim.Optimizer;
import vecopt.optim.ParamGroup;
import vecopt.param.Tensor;

/**
 * Checkpoints and {@code continueFrom} of 8-bit block-quantized Adam state (format version 3; SGD's, Lion's, RMSprop's
 * and Adagrad's in {@link Other}'s cases): a resume is bitwise
 * the uninterrupted run (the same codes and block scales, on heap and off-heap memory, 1 and 2 threads, resuming on
 * the other kind and count); the file holds each quantized tensor's codes and one scale per block of 256 of its
 * elements, which decode to what the optimizer decodes; an 8-bit file decodes exactly into float32 state (reported);
 * what would quantize, a different threshold or block size, or a damaged scale tensor is refused naming both sides,
 * and changes nothing.
 *
 * <p>The {@link Model}: "emb.weight" (70,001 elements: two chunks, a short last block) is quantized; "fc.weight"
 * (3,000, at element 5 of its buffer: its blocks are counted from its own start) is quantized with threshold 2000
 * and float32 with the default 4096; "fc.bias" and "norm.scale" are float32.
 */
class EightBitCheckpointTest {
    static final int N = 12;
    static final int K = 6;
    static final long[] NAN_STEPS = {3, 9};
    static final AdamOptions ADAM = AdamOptions.LLM_PRETRAINING;

    @TempDir
    Path dir;

    /** An 8-bit configuration: parameter type, threshold, and the builder. */
    record Case(String name, Dtype dtype, int minSize, boolean adamW, EightBitCode code) {
        Case(String name, Dtype dtype, int minSize, boolean adamW) {
            this(name, dtype, minSize, adamW, EightBitCode.FLOAT_CODES);
        }

        @Override
        public String toString() {
            return name;
        }

        Optimizer<?> build(Model m, int threads) {
            return build(m, threads, b -> b);
        }

        Optimizer<?> build(Model m, int threads, UnaryOperator<AdamOptions> options) {
            AdamOptions o = options.apply(adamW ? ADAM : AdamOptions.ADAM_DEFAULTS.withWeightDecay(1e-3));
            return adamW
                    ? AdamW.builder(m.set).options(o).group("no_decay", o.withWeightDecay(0).withLrScale(0.5),
                            Setup::noDecay).clipGradNorm(1.0).threads(threads).eightBitState(code, minSize).build()
                    : Adam.builder(m.set).options(o).group("no_decay", o.withWeightDecay(0).withLrScale(0.5),
                            Setup::noDecay).clipGradNorm(1.0).threads(threads).eightBitState(code, minSize).build();
        }

        /** The same optimizer with float32 state. */
        Optimizer<?> float32(Model m, int threads) {
            AdamOptions o = adamW ? ADAM : AdamOptions.ADAM_DEFAULTS.withWeightDecay(1e-3);
            return adamW
                    ? AdamW.builder(m.set).options(o).group("no_decay", o.withWeightDecay(0).withLrScale(0.5),
                            Setup::noDecay).clipGradNorm(1.0).threads(threads).build()
                    : Adam.builder(m.set).options(o).group("no_decay", o.withWeightDecay(0).withLrScale(0.5),
                            Setup::noDecay).clipGradNorm(1.0).threads(threads).build();
        }
    }

    static final Case DEFAULT = new Case("AdamW, threshold 4096", Dtype.FLOAT32, 4096, true);
    static final Case LOW = new Case("AdamW, threshold 2000 (fc.weight quantized)", Dtype.FLOAT32, 2000, true);
    static final Case MASTER = new Case("Adam, bf16 params + fp32 master, threshold 2000", Dtype.BFLOAT16, 2000,
            false);
    static final Case DYNAMIC = new Case("AdamW, bitsandbytes' dynamic maps, threshold 2000", Dtype.FLOAT32, 2000,
            true, EightBitCode.BITSANDBYTES_DYNAMIC);

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Case c : List.of(DEFAULT, LOW, MASTER, DYNAMIC)) {
            for (boolean offHeap : new boolean[] {false, true}) {
                for (int threads = 1; threads <= 2; threads++) {
                    out.add(Arguments.of(c, offHeap, threads));
                }
            }
        }
        return out.stream();
    }

    static Model model(Case c, boolean offHeap, long seed) {
        return new Model(offHeap, seed, c.dtype(), NAN_STEPS);
    }

    static double lr(long step) {
        return 1e-2 * (step + 1) / N;
    }

    static void run(Model m, Optimizer<?> opt, long from, long to) {
        for (long step = from; step < to; step++) {
            m.gradients(step);
            opt.step(lr(step));
        }
    }

    /**
     * Parameters (bits), every state variable as the optimizer decodes it ({@code stateValues}: bits of the floats
     * the step works with) and the counters.
     */
    static Model.Image image(Optimizer<?> opt) {
        List<String> what = new ArrayList<>();
        List<int[]> bits = new ArrayList<>();
        for (Tensor t : opt.params().tensors()) {
            what.add("param " + t.name());
            bits.add(ints(t.params().toArray(t.offset(), (int) t.length())));
            for (String s : opt.stateNames()) {
                what.add(s + " of " + t.name());
                bits.add(ints(opt.stateValues(t.name(), s)));
            }
        }
        List<Long> counters = new ArrayList<>();
        counters.add(opt.steps());
        for (ParamGroup<?> g : opt.groups()) {
            counters.add(g.steps());
        }
        return new Model.Image(what, bits, counters);
    }

    static int[] ints(float[] f) {
        int[] out = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = Float.floatToRawIntBits(f[i]);
        }
        return out;
    }

    /** Every tensor of checkpoint {@code file}, as its bytes: the codes and scales themselves. */
    static Map<String, byte[]> tensors(Path file) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (TensorEntry e : f.tensors()) {
                out.put(e.name(), f.bytes(e).toArray(ValueLayout.JAVA_BYTE));
            }
        }
        return out;
    }

    /** The raw state of {@code opt} (codes, scales, floats), through a checkpoint of it. */
    Map<String, byte[]> raw(Optimizer<?> opt, String name) throws IOException {
        Path file = dir.resolve("raw-" + name + ".safetensors");
        Checkpoint.save(file, opt, 0);
        return tensors(file);
    }

    static void assertSameTensors(Map<String, byte[]> expected, Map<String, byte[]> actual, String context) {
        assertEquals(expected.keySet(), actual.keySet(), context + ": tensor names");
        for (String k : expected.keySet()) {
            assertArrayEquals(expected.get(k), actual.get(k), context + ": bytes of " + k);
        }
    }

    @ParameterizedTest(name = "{0}, offHeap={1}, threads={2}")
    @MethodSource("cases")
    void resumeIsBitwiseTheUninterruptedRun(Case c, boolean offHeap, int threads) throws IOException {
        Model.Image expected;
        Map<String, byte[]> expectedRaw;
        try (Model m = model(c, offHeap, 7); Optimizer<?> opt = c.build(m, threads)) {
            run(m, opt, 0, N);
            expected = image(opt);
            expectedRaw = raw(opt, "uninterrupted");
        }
        Path file = dir.resolve("ckpt.safetensors");
        Model.Image atK;
        try (Model m = model(c, offHeap, 7); Optimizer<?> opt = c.build(m, threads)) {
            run(m, opt, 0, K);
            atK = image(opt);
            Checkpoint.save(file, opt, K);
            assertLayout(file, opt, c.minSize(), c.code());
        }
        assertTrue(Checkpoint.describe(file).contains("format 3"));
        assertTrue(Checkpoint.describe(file).contains("8-bit block-quantized moments "
                        + (c.code() == EightBitCode.BITSANDBYTES_DYNAMIC ? "in bitsandbytes' dynamic maps " : "")
                        + "(tensors of >= " + c.minSize()), Checkpoint.describe(file));
        try (Model m = model(c, !offHeap, 99); Optimizer<?> opt = c.build(m, 3 - threads)) {
            Restored r = Checkpoint.load(file, opt);
            assertTrue(r.differences().isEmpty(), r.differences().toString());
            image(opt).assertSameAs(atK, "just after the load");
            run(m, opt, r.globalStep(), N);
            image(opt).assertSameAs(expected, "after resuming");
            assertSameTensors(expectedRaw, raw(opt, "resumed"), "codes and scales after resuming");
        }
    }

    /**
     * The file's state tensors, against the rule written out here: a tensor of at least {@code minSize} elements has
     * I8 {@code exp_avg} and U8 {@code sqrt_exp_avg_sq} codes of its shape (in bitsandbytes' dynamic maps U8
     * {@code exp_avg} and U8 {@code exp_avg_sq}, indices into its maps) and F32 {@code .scale} tensors of
     * ceil(length / 256) blocks, and element i decodes with scale i / 256 (its block counted from the tensor's
     * start) to exactly the float the optimizer decodes ({@code stateValues}; vecopt's exp_avg_sq as the square of
     * the decoded root); a smaller tensor has F32 exp_avg and exp_avg_sq.
     */
    static void assertLayout(Path file, Optimizer<?> opt, int minSize, EightBitCode kind) throws IOException {
        boolean dynamic = kind == EightBitCode.BITSANDBYTES_DYNAMIC;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(Integer.toString(minSize), f.metadata().get("optimizer.min_8bit_size"));
            assertEquals("256", f.metadata().get("state.exp_avg.block"));
            assertEquals("256", f.metadata().get("state.exp_avg_sq.block"));
            assertEquals(dynamic ? "bitsandbytes-dynamic-signed" : "vecopt-e4m3-signed",
                    f.metadata().get("state.exp_avg.code"));
            assertEquals(dynamic ? "bitsandbytes-dynamic-unsigned" : "vecopt-e4m4-unsigned-sqrt",
                    f.metadata().get("state.exp_avg_sq.code"));
            for (Tensor t : opt.params().tensors()) {
                String s = "state/" + t.name() + "/";
                if (t.length() < minSize) {
                    assertEquals("F32", f.tensor(s + "exp_avg").dtype().name(), s + "exp_avg");
                    assertEquals("F32", f.tensor(s + "exp_avg_sq").dtype().name(), s + "exp_avg_sq");
                    assertEquals(null, f.tensor(s + "sqrt_exp_avg_sq"), "no codes for a small tensor");
                    continue;
                }
                assertEquals(null, f.tensor(s + (dynamic ? "sqrt_exp_avg_sq" : "exp_avg_sq")),
                        "a quantized tensor has codes of one kind only");
                long blocks = (t.length() + 255) / 256;
                String[] codes = dynamic ? new String[] {"exp_avg", "exp_avg_sq"}
                        : new String[] {"exp_avg", "sqrt_exp_avg_sq"};
                String[] dtypes = dynamic ? new String[] {"U8", "U8"} : new String[] {"I8", "U8"};
                String[] variables = {"exp_avg", "exp_avg_sq"};
                for (int v = 0; v < 2; v++) {
                    TensorEntry e = f.tensor(s + codes[v]), sc = f.tensor(s + codes[v] + ".scale");
                    assertEquals(dtypes[v], e.dtype().name(), s + codes[v]);
                    assertArrayEquals(new long[] {t.length()}, e.shape(), s + codes[v]);
                    assertEquals("F32", sc.dtype().name(), s + codes[v] + ".scale");
                    assertArrayEquals(new long[] {blocks}, sc.shape(), s + codes[v] + ".scale");
                    MemorySegment code = f.bytes(e), scale = f.bytes(sc);
                    float[] decoded = opt.stateValues(t.name(), variables[v]);
                    for (int i = 0; i < t.length(); i++) {
                        float sf = scale.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                                (long) (i / 256) * 4);
                        int k = code.get(ValueLayout.JAVA_BYTE, i);
                        float value;
                        if (dynamic) { // bitsandbytes' map entry times the block's absmax, exp_avg_sq itself
                            value = (v == 0 ? DynamicMap.decodeSigned(k) : DynamicMap.decodeUnsigned(k)) * sf;
                        } else {
                            float r = (v == 0 ? BlockCodes.decodeSigned(k) : BlockCodes.decodeUnsigned(k)) * sf;
                            value = v == 0 ? r : r * r;
                        }
                        if (Float.floatToRawIntBits(value) != Float.floatToRawIntBits(decoded[i])) {
                            throw new AssertionError(s + codes[v] + " element " + i + " (block " + i / 256
                                    + ") decodes to " + value + " but the optimizer holds " + decoded[i]);
                        }
                    }
                }
            }
        }
    }

    @Test
    void backgroundSaveSnapshotsCodesAndScales() throws IOException {
        for (boolean offHeap : new boolean[] {false, true}) {
            CheckpointFiles sync = new CheckpointFiles(dir.resolve("sync-" + offHeap), 2);
            CheckpointFiles async = new CheckpointFiles(dir.resolve("async-" + offHeap), 2);
            try (Model m = model(LOW, offHeap, 4); Optimizer<?> opt = LOW.build(m, 2);
                 BackgroundSave saves = new BackgroundSave(opt, async)) {
                run(m, opt, 0, K);
                Path expected = sync.save(opt, K);
                saves.start(K);
                run(m, opt, K, N); // steps while the file is written: the snapshot must hold step K's codes
                assertEquals(async.pathFor(K), saves.await());
                assertArrayEquals(Files.readAllBytes(expected), Files.readAllBytes(async.pathFor(K)),
                        "offHeap " + offHeap);
            }
        }
    }

    @Test
    void continueFromCarriesCodesAndScalesBitwise() throws IOException {
        for (Case c : List.of(DEFAULT, LOW, MASTER, DYNAMIC)) {
            Model.Image expected;
            Map<String, byte[]> expectedRaw;
            try (Model m = model(c, false, 7); Optimizer<?> opt = c.build(m, 2)) {
                run(m, opt, 0, N);
                expected = image(opt);
                expectedRaw = raw(opt, "uninterrupted");
            }
            try (Model before = model(c, false, 7); Optimizer<?> old = c.build(before, 2);
                 Model after = model(c, true, 99); Optimizer<?> moved = c.build(after, 1)) {
                run(before, old, 0, K);
                copyParams(before, after);
                moved.continueFrom(old);
                run(after, moved, K, N);
                image(moved).assertSameAs(expected, c + ": continued");
                assertSameTensors(expectedRaw, raw(moved, "continued"), c + ": codes and scales continued");
            }
        }
    }

    static void copyParams(Model from, Model to) {
        for (Tensor t : from.set.tensors()) {
            Tensor u = to.set.tensor(t.name());
            for (long i = 0; i < t.length(); i++) {
                u.params().set(u.offset() + i, t.params().get(t.offset() + i));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codes")
    void anEightBitFileDecodesExactlyIntoFloat32StateAndSaysSo(Case c) throws IOException {
        Path file = dir.resolve("eight.safetensors");
        Model.Image saved;
        try (Model m = model(c, true, 7); Optimizer<?> opt = c.build(m, 2)) {
            run(m, opt, 0, K);
            saved = image(opt);
            Checkpoint.save(file, opt, K);
            try (Model m2 = model(c, false, 5); Optimizer<?> plain = c.float32(m2, 1)) {
                plain.continueFrom(opt);
                copyParams(m, m2);
                image(plain).assertSameAs(saved, "continueFrom 8-bit into float32: the decoded values");
            }
        }
        try (Model m = model(c, false, 5); Optimizer<?> plain = c.float32(m, 1)) {
            Restored r = Checkpoint.load(file, plain);
            assertEquals(List.of("state 'exp_avg' 8-bit block-quantized -> float32 (decoded exactly: each element its"
                    + " code's value times its block's scale (" + c.code() + "), as the 8-bit step decodes it)",
                    "state 'exp_avg_sq' 8-bit block-quantized -> float32 (decoded exactly: each element its code's value"
                    + " times its block's scale" + (c == DYNAMIC ? "" : ", squared") + " (" + c.code() + "), as the"
                    + " 8-bit step decodes it)"), r.differences());
            // float32 state holds every decoded value (emb.weight, fc.weight) and the small tensors' floats
            image(plain).assertSameAs(saved, "8-bit file loaded into float32 state");
        }
    }

    static Stream<Case> codes() {
        return Stream.of(LOW, DYNAMIC);
    }

    @Test
    void aFileOfOneCodeIsRefusedByStateOfTheOtherNamingBoth() throws IOException {
        Path floatCodes = saved(LOW, true), dynamic = saved(DYNAMIC, true);
        try (Model m = model(DYNAMIC, true, 5); Optimizer<?> opt = DYNAMIC.build(m, 2)) {
            run(m, opt, 0, 2); // state that is not zero: a refused load must leave it
            refused(floatCodes, opt, "8-bit state is in FLOAT_CODES in the checkpoint ('state.exp_avg.code'"
                    + " 'vecopt-e4m3-signed') but in BITSANDBYTES_DYNAMIC here");
        }
        try (Model m = model(LOW, true, 5); Optimizer<?> opt = LOW.build(m, 2)) {
            run(m, opt, 0, 2);
            refused(dynamic, opt, "8-bit state is in BITSANDBYTES_DYNAMIC in the checkpoint ('state.exp_avg.code'"
                    + " 'bitsandbytes-dynamic-signed') but in FLOAT_CODES here");
            Path unknown = edited(dynamic, h -> h.replace("\"bitsandbytes-dynamic-unsigned\"", "\"bitsandbytes-fp4\""));
            refused(unknown, opt, "8-bit state 'exp_avg_sq' is coded 'bitsandbytes-fp4' in the checkpoint"
                    + " ('state.exp_avg_sq.code'), which this reader does not know");
        }
    }

    /** Asserts that loading {@code file} into {@code opt} throws naming {@code message}, and changes nothing. */
    static void refused(Path file, Optimizer<?> opt, String message) throws IOException {
        Model.Image before = image(opt);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file, opt));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        image(opt).assertSameAs(before, "after the refused load");
    }

    Path saved(Case c, boolean eightBit) throws IOException {
        Path file = dir.resolve(c.minSize() + "-" + eightBit + "-" + c.code() + ".safetensors");
        try (Model m = model(c, false, 7); Optimizer<?> opt = eightBit ? c.build(m, 1) : c.float32(m, 1)) {
            run(m, opt, 0, K);
            Checkpoint.save(file, opt, K);
        }
        return file;
    }

    @Test
    void whatWouldQuantizeOrDiffersInThresholdOrBlockIsRefusedNamingBothSides() throws IOException {
        Path float32 = saved(LOW, false), low = saved(LOW, true);
        try (Model m = model(LOW, true, 5); Optimizer<?> opt = LOW.build(m, 2)) {
            run(m, opt, 0, 2); // state that is not zero: a refused load must leave it
            refused(float32, opt, "tensor 'state/emb.weight/exp_avg' is F32 in the checkpoint but I8 (8-bit"
                    + " block-quantized codes) here: loading would quantize it");
        }
        try (Model m = model(DEFAULT, true, 5); Optimizer<?> opt = DEFAULT.build(m, 2)) {
            run(m, opt, 0, 2);
            refused(low, opt, "8-bit state keeps tensors of fewer than 2000 elements in float32 in the checkpoint"
                    + " (optimizer.min_8bit_size) but fewer than 4096 here");
            Path block = edited(low, h -> h.replace("\"state.exp_avg_sq.block\":\"256\"",
                    "\"state.exp_avg_sq.block\":\"128\""));
            refused(block, opt, "8-bit state 'exp_avg_sq' has blocks of 128 elements in the checkpoint"
                    + " ('state.exp_avg_sq.block') but 256 here");
        }
        try (Model m = model(LOW, false, 5); Optimizer<?> opt = AdamW.builder(m.set).options(ADAM)
                .group("no_decay", ADAM.withWeightDecay(0).withLrScale(0.5), Setup::noDecay).clipGradNorm(1.0)
                .bfloat16State(3).threads(1).build()) {
            run(m, opt, 0, 2);
            Model.Image before = Model.image(opt);
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(low, opt));
            assertTrue(e.getMessage().contains("tensor 'state/emb.weight/exp_avg' is I8 (8-bit block-quantized"
                    + " codes) in the checkpoint but state 'exp_avg' is bfloat16 here"), e.getMessage());
            Model.image(opt).assertSameAs(before, "after the refused load");
        }
    }

    @Test
    void continueFromRefusesToQuantizeOrToMixThresholds() {
        try (Model m = model(LOW, false, 7); Optimizer<?> plain = LOW.float32(m, 1);
             Model m2 = model(LOW, false, 7); Optimizer<?> eight = LOW.build(m2, 1);
             Model m3 = model(LOW, false, 7); Optimizer<?> fresh = LOW.build(m3, 1);
             Model m4 = model(DEFAULT, false, 7); Optimizer<?> other = DEFAULT.build(m4, 1)) {
            run(m, plain, 0, 2);
            run(m2, eight, 0, 2);
            Model.Image before = image(fresh);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fresh.continueFrom(plain));
            assertTrue(e.getMessage().contains("previous keeps float32 state, this optimizer 8-bit block-quantized"
                    + " state: carrying it over would quantize it"), e.getMessage());
            image(fresh).assertSameAs(before, "after the refused continueFrom");
            e = assertThrows(IllegalArgumentException.class, () -> other.continueFrom(eight));
            assertTrue(e.getMessage().contains("8-bit state thresholds differ: this optimizer keeps tensors of fewer"
                    + " than 4096 elements in float32, previous fewer than 2000"), e.getMessage());
            assertEquals(0, other.steps(), "the refused continueFrom changed nothing");
        }
    }

    @Test
    void aDamagedScaleTensorIsRefusedBeforeAnythingChanges() throws IOException {
        Path low = saved(LOW, true);
        byte[] bytes = Files.readAllBytes(low);
        long at;
        try (SafetensorsFile f = SafetensorsFile.open(low)) {
            TensorEntry e = f.tensor("state/fc.weight/sqrt_exp_avg_sq.scale");
            at = f.dataStart() + e.begin() + 4 * 5 + 2; // a byte of block 5's scale
        }
        bytes[(int) at] ^= 0x10;
        Path damaged = dir.resolve("damaged.safetensors");
        Files.write(damaged, bytes);
        try (Model m = model(LOW, true, 5); Optimizer<?> opt = LOW.build(m, 2)) {
            run(m, opt, 0, 2);
            refused(damaged, opt, "tensor 'state/fc.weight/sqrt_exp_avg_sq.scale' is corrupted");
        }
    }

    // ---- the other optimizers with 8-bit state: SGD with momentum, Lion, RMSprop without momentum, Adagrad, LAMB, LARS

    /**
     * An optimizer other than Adam with 8-bit state (each variable I8 as itself or U8 as its square root, named
     * {@code sqrt_<variable>}), on the {@link Model}'s parameters of {@code dtype}; {@code build(model, threads,
     * eightBit)} makes it with the "no_decay" group, with 8-bit state of threshold {@code minSize} or float32 state.
     */
    record Other(String name, Dtype dtype, int minSize, Map<String, Boolean> roots, OtherBuild build) {
        @Override
        public String toString() {
            return name;
        }
    }

    interface OtherBuild {
        Optimizer<?> build(Model m, int threads, boolean eightBit, int minSize);
    }

    static <O extends vecopt.optim.GroupOptions, B extends Optimizer.Builder<O, B>> B eightBit(B b, int threads,
                                                                                              boolean eightBit,
                                                                                              int minSize) {
        b = b.clipGradNorm(1.0).threads(threads);
        return eightBit ? b.eightBitState(minSize) : b;
    }

    static final vecopt.optim.SgdOptions SGD = vecopt.optim.SgdOptions.MOMENTUM.withNesterov(true).withWeightDecay(1e-3);
    static final vecopt.optim.RmspropOptions RMSPROP = vecopt.optim.RmspropOptions.DEFAULTS.withCentered(true)
            .withWeightDecay(1e-3);

    static final vecopt.optim.NAdamOptions NADAM = vecopt.optim.NAdamOptions.DEFAULTS.withWeightDecay(1e-3);
    static final vecopt.optim.RAdamOptions RADAM = vecopt.optim.RAdamOptions.DEFAULTS.withWeightDecay(1e-2)
            .withDecoupledWeightDecay(true);

    static final vecopt.optim.AdamaxOptions ADAMAX = vecopt.optim.AdamaxOptions.DEFAULTS.withWeightDecay(1e-3);

    static final vecopt.optim.LambOptions LAMB = vecopt.optim.LambOptions.DEFAULTS.withWeightDecay(1e-2);
    static final vecopt.optim.LarsOptions LARS = vecopt.optim.LarsOptions.DEFAULTS.withMomentum(0.9).withNesterov(true)
            .withWeightDecay(1e-4);
    static final vecopt.optim.RpropOptions RPROP = vecopt.optim.RpropOptions.DEFAULTS;

    static final List<Other> OTHERS = List.of(
            new Other("Sgd, momentum and Nesterov, threshold 2000", Dtype.FLOAT32, 2000, Map.of("momentum_buffer", false),
                    (m, threads, q, min) -> eightBit(vecopt.optim.Sgd.builder(m.set).options(SGD).group("no_decay",
                            SGD.withWeightDecay(0).withLrScale(0.5), Setup::noDecay), threads, q, min).build()),
            new Other("Lion, bf16 params + fp32 master, threshold 2000", Dtype.BFLOAT16, 2000, Map.of("exp_avg", false),
                    (m, threads, q, min) -> eightBit(vecopt.optim.Lion.builder(m.set).options(Setup.LION).group("no_decay",
                            Setup.LION.withWeightDecay(0).withLrScale(0.5), Setup::noDecay), threads, q, min).build()),
            new Other("Rmsprop, centered, threshold 2000", Dtype.FLOAT32, 2000,
                    Map.of("square_avg", true, "grad_avg", false),
                    (m, threads, q, min) -> eightBit(vecopt.optim.Rmsprop.builder(m.set).options(RMSPROP).group(
                            "no_decay", RMSPROP.withWeightDecay(0).withLrScale(0.5), Setup::noDecay), threads, q, min)
                            .build()),
            new Other("Adagrad, initial accumulator 0.1, bf16 params with stochastic rounding, threshold 4096",
                    Dtype.BFLOAT16, 4096, Map.of("sum", true),
                    (m, threads, q, min) -> eightBit(vecopt.optim.Adagrad.builder(m.set).options(Setup.ADAGRAD).group(
                            "no_decay", Setup.ADAGRAD.withWeightDecay(0).withLrScale(0.5), Setup::noDecay), threads, q,
                            min).stochasticRounding(5).build()),
            new Other("NAdam, L2 weight decay, threshold 2000", Dtype.FLOAT32, 2000,
                    Map.of("exp_avg", false, "exp_avg_sq", true),
                    (m, threads, q, min) -> eightBit(vecopt.optim.NAdam.builder(m.set).options(NADAM).group("no_decay",
                            NADAM.withWeightDecay(0).withLrScale(0.5), Setup::noDecay), threads, q, min).build()),
            // decoupled decay; the run's N steps cross from RAdam's momentum step to its rectified one (rho_t > 5 from step 6)
            new Other("RAdam, decoupled weight decay, bf16 params + fp32 master, threshold 2000", Dtype.BFLOAT16, 2000,
                    Map.of("exp_avg", false, "exp_avg_sq", true),
                    (m, threads, q, min) -> eightBit(vecopt.optim.RAdam.builder(m.set).options(RADAM).group("no_decay",
                            RADAM.withWeightDecay(0).withLrScale(0.5), Setup::noDecay), threads, q, min).build()),
            new Other("Adamax, weight decay, threshold 2000", Dtype.FLOAT32, 2000,
                    Map.of("exp_avg", false, "exp_inf", true),
                    (m, threads, q, min) -> eightBit(vecopt.optim.Adamax.builder(m.set).options(ADAMAX).group("no_decay",
                            ADAMAX.withWeightDecay(0).withLrScale(0.5), Setup::noDecay), threads, q, min).build()),
            new Other("Lamb, bf16 params + fp32 master, threshold 2000", Dtype.BFLOAT16, 2000,
                    Map.of("mu", false, "nu", true),
                    (m, threads, q, min) -> eightBit(vecopt.optim.Lamb.builder(m.set).options(LAMB).group("no_decay",
                            LAMB.withWeightDecay(0).withLrScale(0.5), Setup::noDecay), threads, q, min).build()),
            new Other("Lars, Nesterov, bf16 params with stochastic rounding, threshold 2000", Dtype.BFLOAT16, 2000,
                    Map.of("trace", false),
                    (m, threads, q, min) -> eightBit(vecopt.optim.Lars.builder(m.set).options(LARS).group("no_decay",
                            LARS.withWeightDecay(0).withTrustRatio(false), Setup::noDecay), threads, q, min)
                            .stochasticRounding(5).build()),
            new Other("Rprop, threshold 2000", Dtype.FLOAT32, 2000, Map.of("prev", false, "step_size", true),
                    (m, threads, q, min) -> eightBit(vecopt.optim.Rprop.builder(m.set).options(RPROP).group("no_decay",
                            RPROP.withLrScale(0.5), Setup::noDecay), threads, q, min).build()));

    static Stream<Arguments> others() {
        List<Arguments> out = new ArrayList<>();
        for (Other c : OTHERS) {
            for (boolean offHeap : new boolean[] {false, true}) {
                out.add(Arguments.of(c, offHeap, offHeap ? 2 : 1));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}, offHeap={1}, threads={2}")
    @MethodSource("others")
    void otherOptimizersResumeBitwiseTheUninterruptedRun(Other c, boolean offHeap, int threads) throws IOException {
        Model.Image expected;
        Map<String, byte[]> expectedRaw;
        try (Model m = new Model(offHeap, 7, c.dtype(), NAN_STEPS); Optimizer<?> opt = c.build().build(m, threads, true, c.minSize())) {
            run(m, opt, 0, N);
            expected = image(opt);
            expectedRaw = raw(opt, "uninterrupted");
        }
        Path file = dir.resolve("other.safetensors");
        Model.Image atK;
        try (Model m = new Model(offHeap, 7, c.dtype(), NAN_STEPS); Optimizer<?> opt = c.build().build(m, threads, true, c.minSize())) {
            run(m, opt, 0, K);
            atK = image(opt);
            Checkpoint.save(file, opt, K);
            assertLayoutOf(file, opt, c.minSize(), c.roots());
        }
        try (Model m = new Model(!offHeap, 99, c.dtype(), NAN_STEPS);
             Optimizer<?> opt = c.build().build(m, 3 - threads, true, c.minSize())) {
            Restored r = Checkpoint.load(file, opt);
            assertTrue(r.differences().isEmpty(), r.differences().toString());
            image(opt).assertSameAs(atK, "just after the load");
            run(m, opt, r.globalStep(), N);
            image(opt).assertSameAs(expected, "after resuming");
            assertSameTensors(expectedRaw, raw(opt, "resumed"), "codes and scales after resuming");
        }
    }

    /**
     * The file's state tensors against the rule: a tensor of at least {@code minSize} elements has, per variable, I8
     * {@code <variable>} codes (coded as itself) or U8 {@code sqrt_<variable>} (as its square root) of its shape and
     * an F32 {@code .scale} tensor of ceil(length / 256) blocks, element i decoding with scale i / 256 to exactly
     * the float the optimizer decodes (a root squared); a smaller tensor has F32 {@code <variable>}.
     */
    static void assertLayoutOf(Path file, Optimizer<?> opt, int minSize, Map<String, Boolean> roots) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(Integer.toString(minSize), f.metadata().get("optimizer.min_8bit_size"));
            for (Map.Entry<String, Boolean> v : roots.entrySet()) {
                assertEquals("256", f.metadata().get("state." + v.getKey() + ".block"));
                assertEquals(v.getValue() ? "vecopt-e4m4-unsigned-sqrt" : "vecopt-e4m3-signed",
                        f.metadata().get("state." + v.getKey() + ".code"));
            }
            for (Tensor t : opt.params().tensors()) {
                String s = "state/" + t.name() + "/";
                for (Map.Entry<String, Boolean> v : roots.entrySet()) {
                    String codes = (v.getValue() ? "sqrt_" : "") + v.getKey();
                    if (t.length() < minSize) {
                        assertEquals("F32", f.tensor(s + v.getKey()).dtype().name(), s + v.getKey());
                        assertEquals(null, f.tensor(s + v.getKey() + ".scale"), "no scales for a small tensor");
                        continue;
                    }
                    if (v.getValue()) {
                        assertEquals(null, f.tensor(s + v.getKey()), "a root is held as its codes only");
                    }
                    TensorEntry e = f.tensor(s + codes), sc = f.tensor(s + codes + ".scale");
                    assertEquals(v.getValue() ? "U8" : "I8", e.dtype().name(), s + codes);
                    assertArrayEquals(new long[] {t.length()}, e.shape(), s + codes);
                    assertArrayEquals(new long[] {(t.length() + 255) / 256}, sc.shape(), s + codes + ".scale");
                    MemorySegment code = f.bytes(e), scale = f.bytes(sc);
                    float[] decoded = opt.stateValues(t.name(), v.getKey());
                    for (int i = 0; i < t.length(); i++) {
                        float sf = scale.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                                (long) (i / 256) * 4);
                        int k = code.get(ValueLayout.JAVA_BYTE, i);
                        float r = (v.getValue() ? BlockCodes.decodeUnsigned(k) : BlockCodes.decodeSigned(k)) * sf;
                        float value = v.getValue() ? r * r : r;
                        if (Float.floatToRawIntBits(value) != Float.floatToRawIntBits(decoded[i])) {
                            throw new AssertionError(s + codes + " element " + i + " decodes to " + value
                                    + " but the optimizer holds " + decoded[i]);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("otherList")
    void otherOptimizersDecodeIntoFloat32StateAndRefuseToQuantize(Other c) throws IOException {
        Path eight = dir.resolve("eight-other.safetensors"), plain = dir.resolve("plain-other.safetensors");
        Model.Image saved;
        try (Model m = new Model(true, 7, c.dtype(), NAN_STEPS); Optimizer<?> opt = c.build().build(m, 2, true, c.minSize())) {
            run(m, opt, 0, K);
            saved = image(opt);
            Checkpoint.save(eight, opt, K);
        }
        try (Model m = new Model(false, 7, c.dtype(), NAN_STEPS); Optimizer<?> opt = c.build().build(m, 1, false, 0)) {
            run(m, opt, 0, K);
            Checkpoint.save(plain, opt, K);
        }
        try (Model m = new Model(false, 5, c.dtype(), NAN_STEPS); Optimizer<?> f32 = c.build().build(m, 1, false, 0)) {
            Restored r = Checkpoint.load(eight, f32);
            for (Map.Entry<String, Boolean> v : c.roots().entrySet()) {
                assertTrue(r.differences().contains("state '" + v.getKey() + "' 8-bit block-quantized -> float32"
                        + " (decoded exactly: each element its code's value times its block's scale"
                        + (v.getValue() ? ", squared" : "") + " (FLOAT_CODES), as the 8-bit step decodes it)"),
                        r.differences().toString());
            }
            image(f32).assertSameAs(saved, "8-bit file loaded into float32 state");
        }
        try (Model m = new Model(true, 5, c.dtype(), NAN_STEPS); Optimizer<?> opt = c.build().build(m, 2, true, c.minSize())) {
            run(m, opt, 0, 2); // state that is not zero: a refused load must leave it
            String first = opt.stateNames().get(0); // the first state tensor the load checks
            refused(plain, opt, "tensor 'state/emb.weight/" + (c.roots().get(first) ? "sqrt_" : "") + first + "' is "
                    + (c.roots().get(first) ? "missing" : "F32 in the checkpoint but I8 (8-bit block-quantized codes)"
                    + " here: loading would quantize it"));
        }
    }

    static Stream<Other> otherList() {
        return OTHERS.stream();
    }

    /** The file with {@code edit} applied to its header text (sized and padded anew), data unchanged. */
    Path edited(Path file, UnaryOperator<String> edit) throws IOException {
        Path out = dir.resolve("edited-" + file.getFileName());
        Files.write(out, CorruptCheckpointTest.editHeader(Files.readAllBytes(file), edit));
        return out;
    }
}
