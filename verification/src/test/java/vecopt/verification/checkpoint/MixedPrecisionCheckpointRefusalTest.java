package vecopt.verification.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.amp.GradScaler;
import vecopt.checkpoint.BackgroundSave;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.CheckpointException;
import vecopt.checkpoint.CheckpointFiles;
import vecopt.checkpoint.Extras;
import vecopt.checkpoint.PieceFile;
import vecopt.checkpoint.Restored;
import vecopt.checkpoint.SafetensorsFile;
import vecopt.checkpoint.TensorEntry;
import vecopt.memory.BFloat16;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.optim.Lars;
import vecopt.optim.LarsOptions;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * What format version 2 refuses, reports or converts (its bitwise resumes are in
 * {@link MixedPrecisionCheckpointTest}): a tensor that would be narrowed or was written with another dtype, a
 * missing or corrupted master copy, a master copy on one side only, seeds that differ, GradScaler state missing,
 * out of range or with other options, LAMB's and LARS's options; and that a version-1 file still loads and resumes
 * bitwise. Every refusal names the tensor or key and what differs, and changes nothing in memory.
 */
class MixedPrecisionCheckpointRefusalTest {
    @TempDir
    Path dir;

    static void steps(Model m, Optimizer<?> opt, int n) {
        for (long step = 0; step < n; step++) {
            m.gradients(step);
            opt.step(1e-2);
        }
    }

    static AdamW adamW(ParamSet set, UnaryOperator<AdamW.Builder> extra) {
        return extra.apply(AdamW.builder(set).options(AdamOptions.LLM_PRETRAINING)).build();
    }

    /** A checkpoint after 3 steps of AdamW over a model of {@code dtype} built with {@code extra}. */
    Path saved(String name, Dtype dtype, UnaryOperator<AdamW.Builder> extra) throws IOException {
        Path file = dir.resolve(name + ".safetensors");
        try (Model m = new Model(false, 1, dtype); AdamW opt = adamW(m.set, extra)) {
            steps(m, opt, 3);
            Checkpoint.save(file, opt, 3);
        }
        return file;
    }

    /** Asserts that loading {@code file} into {@code opt} throws naming {@code message}, and changes nothing. */
    static CheckpointException refused(Path file, Optimizer<?> opt, GradScaler scaler, String message)
            throws IOException {
        Model.Image before = Model.image(opt);
        String scalerBefore = String.valueOf(scaler);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file, opt, scaler));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        Model.image(opt).assertSameAs(before, "after the refused load");
        assertEquals(scalerBefore, String.valueOf(scaler), "the scaler is unchanged");
        return e;
    }

    /** The file with {@code edit} applied to its header text (sized and padded anew), data unchanged. */
    Path edited(Path file, UnaryOperator<String> edit) throws IOException {
        Path out = dir.resolve("edited-" + file.getFileName());
        Files.write(out, CorruptCheckpointTest.editHeader(Files.readAllBytes(file), edit));
        return out;
    }

    /**
     * A checkpoint written by format version 1 (vecopt at commit 72d42a5, before this format's version 2), committed
     * as {@code checkpoint/adamw-format-v1.safetensors}: AdamW {@code LLM_PRETRAINING} over "fc.weight" (40
     * elements, {@code sin(0.37 i)}) and "fc.bias" (7, {@code 0.1 i}) in one buffer, "fc.bias" in group "no_decay"
     * (weight decay 0, lr scale 0.5), clipping at 1, one thread, 3 steps with gradients {@code 0.5 cos(0.11 i + s)}
     * and lr {@code 1e-2 (s + 1) / 6}, saved at trainer step 3 with the string "data.position" = "3". This run of
     * the same model must, after loading it at step 3, be bitwise the uninterrupted run at step 6.
     */
    @Test
    void aVersionOneFileStillLoadsAndResumesBitwise() throws IOException, URISyntaxException {
        Path v1 = Path.of(getClass().getResource("/checkpoint/adamw-format-v1.safetensors").toURI());
        assertTrue(Checkpoint.describe(v1).contains("vecopt checkpoint, format 1: AdamW, 3 updates"));
        Model.Image expected;
        try (V1Model m = new V1Model(); AdamW opt = m.optimizer()) {
            m.run(opt, 0, 6);
            expected = Model.image(opt);
        }
        try (V1Model m = new V1Model(); AdamW opt = m.optimizer()) {
            m.params.set(0, 123f); // elsewhere than the saved run: the load must set every value
            Restored r = Checkpoint.load(v1, opt);
            assertEquals(3, r.globalStep());
            assertEquals(Map.of("data.position", "3"), r.strings());
            assertTrue(r.differences().isEmpty(), r.differences().toString());
            m.run(opt, 3, 6);
            Model.image(opt).assertSameAs(expected, "resumed from the version-1 file");
        }
    }

    /**
     * A checkpoint written by format version 2 (vecopt at commit e2081a0, the last to write version 2), committed as
     * {@code checkpoint/adamw-format-v2.safetensors}: the model and groups of the version-1 fixture, AdamW with
     * bfloat16 state (seed 7), clipping at 1, one thread, 3 steps through a {@code GradScaler(16, 2, 0.5, 2)} with
     * gradients {@code 0.5 cos(0.11 i + s)} times the scale and lr {@code 1e-2 (s + 1) / 6}, saved with the scaler at
     * trainer step 3 with the string "data.position" = "3" (scale 32, growth tracker 1). Its BF16 state, seed and
     * scaler are what version 2 added; after loading it at step 3 this run must be bitwise the uninterrupted run at
     * step 6, scale and tracker included.
     */
    @Test
    void aVersionTwoFileStillLoadsAndResumesBitwise() throws IOException, URISyntaxException {
        Path v2 = Path.of(getClass().getResource("/checkpoint/adamw-format-v2.safetensors").toURI());
        assertTrue(Checkpoint.describe(v2).contains("vecopt checkpoint, format 2: AdamW, 3 updates"));
        Model.Image expected;
        GradScaler uninterrupted = new GradScaler(16.0, 2.0, 0.5, 2);
        try (V1Model m = new V1Model(); AdamW opt = m.v2Optimizer()) {
            m.run(opt, uninterrupted, 0, 6);
            expected = Model.image(opt);
        }
        try (V1Model m = new V1Model(); AdamW opt = m.v2Optimizer()) {
            m.params.set(0, 123f); // elsewhere than the saved run: the load must set every value
            GradScaler scaler = new GradScaler(1024.0, 2.0, 0.5, 2);
            Restored r = Checkpoint.load(v2, opt, scaler);
            assertEquals(3, r.globalStep());
            assertEquals(Map.of("data.position", "3"), r.strings());
            assertTrue(r.differences().isEmpty(), r.differences().toString());
            assertEquals(32.0, scaler.scale(), "the saved scale (16, grown once after two finite steps)");
            assertEquals(1, scaler.growthTracker(), "one finite step since the growth");
            m.run(opt, scaler, 3, 6);
            Model.image(opt).assertSameAs(expected, "resumed from the version-2 file");
            assertEquals(uninterrupted.scale(), scaler.scale(), "scale after resuming");
            assertEquals(uninterrupted.growthTracker(), scaler.growthTracker(), "growth tracker after resuming");
        }
    }

    /** The model of the version-1 fixture (see above). */
    static final class V1Model implements AutoCloseable {
        final float[] p = new float[47];
        final float[] g = new float[47];
        final Storage params = Storage.of(p);
        final ParamSet set;

        V1Model() {
            for (int i = 0; i < 40; i++) {
                p[i] = (float) Math.sin(i * 0.37);
            }
            for (int i = 0; i < 7; i++) {
                p[40 + i] = 0.1f * i;
            }
            Storage grads = Storage.of(g);
            set = ParamSet.builder().add("fc.weight", params, grads, 0, 40).add("fc.bias", params, grads, 40, 7)
                    .build();
        }

        AdamW optimizer() {
            AdamOptions o = AdamOptions.LLM_PRETRAINING;
            return AdamW.builder(set).options(o).group("no_decay", o.withWeightDecay(0).withLrScale(0.5),
                    t -> t.name().endsWith(".bias")).clipGradNorm(1.0).threads(1).build();
        }

        /** The version-2 fixture's optimizer: the version-1 one with bfloat16 state (seed 7). */
        AdamW v2Optimizer() {
            AdamOptions o = AdamOptions.LLM_PRETRAINING;
            return AdamW.builder(set).options(o).group("no_decay", o.withWeightDecay(0).withLrScale(0.5),
                    t -> t.name().endsWith(".bias")).clipGradNorm(1.0).threads(1).bfloat16State(7).build();
        }

        /** Steps [from, to) through {@code scaler}: the gradients multiplied by its scale. */
        void run(AdamW opt, GradScaler scaler, int from, int to) {
            for (int s = from; s < to; s++) {
                for (int i = 0; i < 47; i++) {
                    g[i] = (float) (Math.cos(i * 0.11 + s) * 0.5 * scaler.scale());
                }
                opt.step(1e-2 * (s + 1) / 6, scaler);
            }
        }

        void run(AdamW opt, int from, int to) {
            for (int s = from; s < to; s++) {
                for (int i = 0; i < 47; i++) {
                    g[i] = (float) (Math.cos(i * 0.11 + s) * 0.5);
                }
                opt.step(1e-2 * (s + 1) / 6);
            }
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aSixteenBitFileWidensExactlyIntoFloat32BuffersAndSaysSo() throws IOException {
        Path stochastic = saved("stochastic", Dtype.BFLOAT16, b -> b.stochasticRounding(42));
        short[] savedBits;
        try (Model m = new Model(false, 1, Dtype.BFLOAT16); AdamW opt = adamW(m.set, b -> b.stochasticRounding(42))) {
            steps(m, opt, 3);
            Tensor t = m.set.tensor("fc.weight");
            savedBits = t.params().segment().asSlice(t.offset() * 2, t.length() * 2).toArray(ValueLayout.JAVA_SHORT);
        }
        try (Model m = new Model(true, 5); AdamW opt = adamW(m.set, b -> b)) {
            Restored r = Checkpoint.load(stochastic, opt);
            assertEquals(List.of("stochastic_rounding_seed 42 -> off", "parameters BF16 -> float32 (widened exactly)"),
                    r.differences());
            Tensor t = m.set.tensor("fc.weight");
            for (int i = 0; i < savedBits.length; i++) {
                assertEquals(Float.floatToRawIntBits(BFloat16.widen(savedBits[i])),
                        Float.floatToRawIntBits(t.params().get(t.offset() + i)), "fc.weight element " + i);
            }
        }
        Path bf16State = saved("bf16-state", Dtype.FLOAT32, b -> b.bfloat16State(7));
        short[] stateBits;
        try (Model m = new Model(false, 1); AdamW opt = adamW(m.set, b -> b.bfloat16State(7))) {
            steps(m, opt, 3);
            stateBits = opt.state("fc.bias", "exp_avg_sq").toArray(ValueLayout.JAVA_SHORT);
        }
        try (Model m = new Model(false, 5); AdamW opt = adamW(m.set, b -> b)) {
            Restored r = Checkpoint.load(bf16State, opt);
            assertEquals(List.of("bfloat16_state_seed 7 -> off", "state 'exp_avg' BF16 -> float32 (widened exactly)",
                    "state 'exp_avg_sq' BF16 -> float32 (widened exactly)"), r.differences());
            float[] loaded = opt.state("fc.bias", "exp_avg_sq").toArray(ValueLayout.JAVA_FLOAT);
            for (int i = 0; i < stateBits.length; i++) {
                assertEquals(BFloat16.widen(stateBits[i]), loaded[i], "exp_avg_sq of fc.bias element " + i);
            }
        }
    }

    @Test
    void narrowingOrAnotherSixteenBitTypeIsRefusedNamingBothTypes() throws IOException {
        Path fp32 = saved("fp32", Dtype.FLOAT32, b -> b);
        try (Model m = new Model(false, 5, Dtype.BFLOAT16); AdamW opt = adamW(m.set, b -> b.stochasticRounding(1))) {
            refused(fp32, opt, null, "tensor 'param/emb.weight' is F32 in the checkpoint but its buffer here is"
                    + " bfloat16 (BF16): loading would round it");
        }
        try (Model m = new Model(true, 5); AdamW opt = adamW(m.set, b -> b.bfloat16State(1))) {
            refused(fp32, opt, null, "tensor 'state/emb.weight/exp_avg' is F32 in the checkpoint but its buffer here"
                    + " is bfloat16 (BF16)");
        }
        Path bf16 = saved("bf16", Dtype.BFLOAT16, b -> b);
        try (Model m = new Model(false, 5, Dtype.FLOAT16); AdamW opt = adamW(m.set, b -> b)) {
            refused(bf16, opt, null, "tensor 'param/emb.weight' is BF16 in the checkpoint but its buffer here is"
                    + " float16 (F16)");
        }
        // a dtype written wrong: the same bytes (so the checksum holds) labelled F16
        Path mislabelled = edited(bf16, h -> h.replace("\"param/fc.bias\":{\"dtype\":\"BF16\"",
                "\"param/fc.bias\":{\"dtype\":\"F16\""));
        try (Model m = new Model(false, 5, Dtype.BFLOAT16); AdamW opt = adamW(m.set, b -> b)) {
            refused(mislabelled, opt, null, "tensor 'param/fc.bias' is F16 in the checkpoint but its buffer here is"
                    + " bfloat16 (BF16)");
        }
    }

    @Test
    void aMissingCorruptedOrOneSidedMasterCopyIsRefused() throws IOException {
        Path bf16 = saved("bf16", Dtype.BFLOAT16, b -> b);
        try (Model m = new Model(false, 5, Dtype.BFLOAT16); AdamW opt = adamW(m.set, b -> b.stochasticRounding(1))) {
            refused(bf16, opt, null, "state variables are [exp_avg, exp_avg_sq, master_param] in the checkpoint but"
                    + " [exp_avg, exp_avg_sq] here (master_param, the float32 master copy, is kept for 16-bit"
                    + " parameters without stochastic rounding: the checkpoint has one)");
        }
        Path renamed = edited(bf16, h -> h.replace("fc.bias/master_param", "fc.bias/master_parax"));
        try (Model m = new Model(false, 5, Dtype.BFLOAT16); AdamW opt = adamW(m.set, b -> b)) {
            refused(renamed, opt, null, "tensor 'state/fc.bias/master_param' is missing");
        }
        byte[] b = Files.readAllBytes(bf16);
        b[b.length - 3] ^= 0x08; // in the last tensor: norm.scale's master copy
        Path flipped = dir.resolve("flipped.safetensors");
        Files.write(flipped, b);
        try (Model m = new Model(false, 5, Dtype.BFLOAT16); AdamW opt = adamW(m.set, x -> x)) {
            CheckpointException e = refused(flipped, opt, null, "tensor 'state/norm.scale/master_param' is corrupted");
            assertTrue(e.damaged());
        }
        String d = Checkpoint.describe(bf16);
        assertTrue(d.contains("state/norm.scale/master_param") && d.contains("F32"), d);
    }

    @Test
    void anotherSeedIsReportedAndAMalformedOneRefused() throws IOException {
        Path stochastic = saved("stochastic", Dtype.BFLOAT16, b -> b.stochasticRounding(42).bfloat16State(7));
        try (Model m = new Model(false, 5, Dtype.BFLOAT16);
             AdamW opt = adamW(m.set, b -> b.stochasticRounding(43).bfloat16State(8))) {
            Restored r = Checkpoint.load(stochastic, opt);
            assertEquals(List.of("stochastic_rounding_seed 42 -> 43", "bfloat16_state_seed 7 -> 8"), r.differences());
        }
        String d = Checkpoint.describe(stochastic);
        assertTrue(d.contains("stochastic rounding of parameters on (seed 42), bfloat16 state on (seed 7)"), d);
        Path bad = edited(stochastic, h -> h.replace("\"optimizer.stochastic_rounding_seed\":\"42\"",
                "\"optimizer.stochastic_rounding_seed\":\"4x2\""));
        try (Model m = new Model(false, 5, Dtype.BFLOAT16);
             AdamW opt = adamW(m.set, b -> b.stochasticRounding(42).bfloat16State(7))) {
            refused(bad, opt, null, "'optimizer.stochastic_rounding_seed' must be an integer (a seed), got '4x2'");
            byte[] b = Files.readAllBytes(stochastic);
            try (SafetensorsFile f = SafetensorsFile.open(stochastic)) {
                TensorEntry e = f.tensor("state/fc.weight/exp_avg_sq");
                assertEquals(vecopt.checkpoint.Dtype.BF16, e.dtype());
                b[(int) (f.dataStart() + e.begin() + 101)] ^= 0x04;
            }
            Path flipped = dir.resolve("flipped-state.safetensors");
            Files.write(flipped, b);
            refused(flipped, opt, null, "tensor 'state/fc.weight/exp_avg_sq' is corrupted");
        }
    }

    /** AdamW with stochastic rounding over tensor "w" of 16 bfloat16 values at {@code offset} of its buffer. */
    static AdamW movable(long offset) {
        Storage p = Storage.of(new short[(int) offset + 16], Dtype.BFLOAT16);
        Storage g = Storage.of(new short[(int) offset + 16], Dtype.BFLOAT16);
        for (int i = 0; i < 16; i++) {
            p.set(offset + i, 0.25f * i);
            g.set(offset + i, 0.01f * (i - 7));
        }
        return AdamW.builder(ParamSet.builder().add("w", p, g, offset, 16).build()).stochasticRounding(5).build();
    }

    @Test
    void aTensorMovedInItsBufferIsReportedUnderStochasticRounding() throws IOException {
        // the random number of an element's rounding is drawn from its index in its buffer as well as the seed
        Path file = dir.resolve("moved.safetensors");
        try (AdamW opt = movable(0)) {
            opt.step(1e-3);
            Checkpoint.save(file, opt, 1);
        }
        try (AdamW opt = movable(8)) {
            Restored r = Checkpoint.load(file, opt);
            assertEquals(List.of("stochastic rounding counters of tensors moved in their buffers: 'w' element 0 -> 8"
                    + " (other random numbers than the uninterrupted run's)"), r.differences());
        }
        try (AdamW opt = movable(0)) {
            assertTrue(Checkpoint.load(file, opt).differences().isEmpty());
        }
    }

    /** 6 steps through {@code scaler} (NaN at step 3), saved with it. */
    Path savedWithScaler(GradScaler scaler) throws IOException {
        Path file = dir.resolve("amp.safetensors");
        try (Model m = new Model(false, 1, Dtype.BFLOAT16, 3); AdamW opt = adamW(m.set, b -> b)) {
            MixedPrecisionCheckpointTest.run(m, opt, scaler, 0, 6);
            Checkpoint.save(file, opt, 6, Extras.none(), scaler);
        }
        return file;
    }

    @Test
    void gradScalerStateIsCheckedBeforeAnythingChanges() throws IOException {
        GradScaler original = new GradScaler(16.0, 2.0, 0.5, 3);
        Path amp = savedWithScaler(original);
        assertEquals(2, original.growthTracker(), "steps 4 and 5 since the backoff at 3");
        String d = Checkpoint.describe(amp);
        assertTrue(d.contains("GradScaler: scale 16.0, growth tracker 2, growth factor 2.0, backoff factor 0.5,"
                + " growth interval 3"), d);
        try (Model m = new Model(false, 5, Dtype.BFLOAT16); AdamW opt = adamW(m.set, b -> b)) {
            Restored r = Checkpoint.load(amp, opt);
            assertEquals(List.of("GradScaler state (scale 16.0, growth tracker 2) not restored: no scaler given to"
                    + " load"), r.differences());
        }
        try (Model m = new Model(false, 5, Dtype.BFLOAT16); AdamW opt = adamW(m.set, b -> b)) {
            GradScaler other = new GradScaler(1024.0, 4.0, 0.25, 5);
            Restored r = Checkpoint.load(amp, opt, other);
            assertEquals(List.of("amp growth_factor 2.0 -> 4.0", "amp backoff_factor 0.5 -> 0.25",
                    "amp growth_interval 3 -> 5"), r.differences());
            assertEquals(16.0, other.scale());
            assertEquals(2, other.growthTracker());
        }
        try (Model m = new Model(false, 5, Dtype.BFLOAT16); AdamW opt = adamW(m.set, b -> b)) {
            refused(amp, opt, new GradScaler(1024.0, 2.0, 0.5, 2), "amp.growth_tracker is 2 in the checkpoint, not"
                    + " below this scaler's growth interval 2");
            refused(edited(amp, h -> h.replace("\"amp.scale\":\"16.0\"", "\"amp.scale\":\"-16.0\"")), opt,
                    new GradScaler(), "'amp.scale' must be finite and > 0, got -16.0");
            refused(edited(amp, h -> h.replace("\"amp.growth_tracker\":\"2\",", "")), opt, new GradScaler(),
                    "__metadata__ has no 'amp.growth_tracker'");
        }
        Path plain = saved("plain", Dtype.BFLOAT16, b -> b);
        try (Model m = new Model(false, 5, Dtype.BFLOAT16); AdamW opt = adamW(m.set, b -> b)) {
            refused(plain, opt, new GradScaler(), "the checkpoint holds no GradScaler state");
        }
    }

    @Test
    void aBackgroundSaveCarriesTheScalerAndLoadNewestRestoresIt() throws IOException {
        GradScaler scaler = new GradScaler(16.0, 2.0, 0.5, 3);
        Path file;
        try (Model m = new Model(true, 1, Dtype.BFLOAT16, 3); AdamW opt = adamW(m.set, b -> b);
             BackgroundSave saves = new BackgroundSave(opt, new CheckpointFiles(dir.resolve("bg"), 2))) {
            MixedPrecisionCheckpointTest.run(m, opt, scaler, 0, 5);
            saves.start(5, Extras.none(), scaler);
            file = saves.await();
        }
        assertEquals(1, scaler.growthTracker(), "step 4 since the backoff at 3");
        try (Model m = new Model(false, 5, Dtype.BFLOAT16); AdamW opt = adamW(m.set, b -> b)) {
            GradScaler resumed = new GradScaler(1.0, 2.0, 0.5, 3);
            Restored r = new CheckpointFiles(dir.resolve("bg"), 2).loadNewest(opt, resumed);
            assertEquals(file, r.path());
            assertEquals(scaler.scale(), resumed.scale());
            assertEquals(scaler.growthTracker(), resumed.growthTracker());
        }
    }

    @Test
    void piecesOfASixteenBitCheckpointLoadAsTheWholeFileDoes() throws IOException {
        Path bf16 = saved("bf16", Dtype.BFLOAT16, b -> b);
        Model.Image whole;
        try (Model m = new Model(false, 5, Dtype.BFLOAT16); AdamW opt = adamW(m.set, b -> b)) {
            Checkpoint.load(bf16, opt);
            whole = Model.image(opt);
        }
        try (Model m = new Model(true, 6, Dtype.BFLOAT16); AdamW opt = adamW(m.set, b -> b)) {
            Map<String, Long> zero = Map.of("emb.weight", 0L, "fc.weight", 0L, "fc.bias", 0L, "norm.scale", 0L);
            Checkpoint.loadPieces(List.of(new PieceFile(bf16, zero)), opt, zero);
            Model.image(opt).assertSameAs(whole, "loaded as pieces");
        }
        try (Model m = new Model(false, 6, Dtype.FLOAT16); AdamW opt = adamW(m.set, b -> b)) {
            Map<String, Long> zero = Map.of("emb.weight", 0L, "fc.weight", 0L, "fc.bias", 0L, "norm.scale", 0L);
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> Checkpoint.loadPieces(List.of(new PieceFile(bf16, zero)), opt, zero));
            assertTrue(e.getMessage().contains("is BF16 in the checkpoint but its buffer here is float16 (F16)"),
                    e.getMessage());
        }
    }

    @Test
    void lambAndLarsOptionsAreRecordedAndMayDiffer() throws IOException {
        Path lamb = dir.resolve("lamb.safetensors");
        try (Model m = new Model(false, 1); Lamb opt = Lamb.builder(m.set).build()) {
            steps(m, opt, 3);
            Checkpoint.save(lamb, opt, 3);
        }
        String d = Checkpoint.describe(lamb);
        assertTrue(d.contains("Lamb, 3 updates") && d.contains("state/fc.bias/nu"), d);
        assertTrue(d.contains("b1=0.9") && d.contains("eps_root=0.0") && d.contains("max_weight_norm=Infinity"), d);
        try (Model m = new Model(false, 5);
             Lamb opt = Lamb.builder(m.set).options(LambOptions.DEFAULTS.withBetas(0.9, 0.99).withMaxWeightNorm(5))
                     .build()) {
            Restored r = Checkpoint.load(lamb, opt);
            assertEquals(List.of("group 'default': b2 0.999 -> 0.99", "group 'default': max_weight_norm Infinity -> 5.0"),
                    r.differences());
        }
        Path lars = dir.resolve("lars.safetensors");
        try (Model m = new Model(false, 1); Lars opt = Lars.builder(m.set).build()) {
            steps(m, opt, 3);
            Checkpoint.save(lars, opt, 3);
        }
        try (Model m = new Model(false, 5);
             Lars opt = Lars.builder(m.set).options(LarsOptions.DEFAULTS.withTrustRatio(false).withMomentum(0)
                     .withNesterov(true).withTrustCoefficient(0.01)).build()) {
            Restored r = Checkpoint.load(lars, opt);
            assertEquals(List.of("group 'default': trust_coefficient 0.001 -> 0.01",
                    "group 'default': trust_ratio true -> false", "group 'default': momentum 0.9 -> 0.0",
                    "group 'default': nesterov false -> true"), r.differences());
        }
        try (Model m = new Model(false, 5); Lars opt = Lars.builder(m.set).build()) {
            refused(lamb, opt, null, "optimizer is 'Lamb' in the checkpoint but Lars here");
        }
        // the header holds the groups as a JSON string: its quotes are escaped there
        Path badOption = edited(lamb, h -> h.replace("\\\"Infinity\\\"", "\\\"Infinit\\\""));
        try (Model m = new Model(false, 5); Lamb opt = Lamb.builder(m.set).build()) {
            refused(badOption, opt, null, "group 'default': option 'max_weight_norm' missing or not a number: Infinit");
        }
        assertFalse(Checkpoint.describe(lars).contains("Infinity"));
    }
}
