package vecopt.verification.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.CheckpointException;
import vecopt.checkpoint.Restored;
import vecopt.checkpoint.SafetensorsFile;
import vecopt.checkpoint.SafetensorsWriter;
import vecopt.checkpoint.TensorEntry;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;

/**
 * Every way a checkpoint file can be damaged or not fit, each loaded into an optimizer with a history of its own:
 * each must fail with a {@link CheckpointException} whose message names what is wrong, and leave the optimizer's
 * parameters, state and counters bitwise as they were.
 */
class CorruptCheckpointTest {
    static final Setup SETUP = Setup.adamW(AdamOptions.LLM_PRETRAINING);
    @TempDir
    static Path dir;
    static byte[] good;

    @BeforeAll
    static void writeAGoodCheckpoint() throws IOException {
        try (Model m = new Model(false, 1); Optimizer<?> opt = SETUP.build().apply(m.set, 1)) {
            CheckpointRoundTripTest.run(SETUP, m, opt, 0, 3);
            Path p = dir.resolve("good.safetensors");
            Checkpoint.save(p, opt, 3);
            good = Files.readAllBytes(p);
        }
    }

    /** The header's JSON text (padding stripped) and the data after it. */
    static String header(byte[] file) {
        long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        return new String(file, 8, (int) n, StandardCharsets.UTF_8).stripTrailing();
    }

    static int dataStart(byte[] file) {
        return 8 + (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    /** The file with its header replaced by {@code edit} of it (sized and padded anew), data unchanged. */
    static byte[] editHeader(byte[] file, UnaryOperator<String> edit) {
        String h = edit.apply(header(file));
        if (h.equals(header(file))) {
            throw new AssertionError("the edit changed nothing: the case would test the good file");
        }
        byte[] json = h.getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        int data = dataStart(file);
        byte[] out = new byte[8 + padded + file.length - data];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(json, 0, out, 8, json.length);
        java.util.Arrays.fill(out, 8 + json.length, 8 + padded, (byte) ' ');
        System.arraycopy(file, data, out, 8 + padded, file.length - data);
        return out;
    }

    /** {@code "name":{"dtype":..,"shape":[..],"data_offsets":[..]}} of {@code name}, replaced by {@code with}. */
    static UnaryOperator<String> entry(String name, UnaryOperator<String> with) {
        return h -> {
            String key = "\"" + name + "\":{";
            int at = h.indexOf(key);
            int end = h.indexOf('}', at) + 1;
            return h.substring(0, at + key.length() - 1) + with.apply(h.substring(at + key.length() - 1, end))
                    + h.substring(end);
        };
    }

    /** The good file rewritten by another writer: tensors kept by name, plus {@code add}, metadata edited. */
    static byte[] rewrite(List<String> drop, Map<String, float[]> add, UnaryOperator<Map<String, String>> meta)
            throws IOException {
        Path in = dir.resolve("in.safetensors"), out = dir.resolve("out.safetensors");
        Files.write(in, good);
        try (SafetensorsFile f = SafetensorsFile.open(in);
             FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
            List<SafetensorsWriter.Source> sources = new ArrayList<>();
            for (TensorEntry e : f.tensors()) {
                if (!drop.contains(e.name())) {
                    float[] a = f.bytes(e).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                    sources.add(new SafetensorsWriter.Source(e.name(), e.shape(), MemorySegment.ofArray(a)));
                }
            }
            add.forEach((k, v) -> sources.add(new SafetensorsWriter.Source(k, new long[] {v.length},
                    MemorySegment.ofArray(v))));
            Map<String, String> m = new LinkedHashMap<>();
            f.metadata().forEach((k, v) -> {
                if (!k.startsWith(SafetensorsWriter.CHECKSUM_PREFIX)) {
                    m.put(k, v);
                }
            });
            SafetensorsWriter.write(ch, sources, meta.apply(m));
        }
        return Files.readAllBytes(out);
    }

    static Map<String, String> put(Map<String, String> m, String key, String value) {
        m.put(key, value);
        return m;
    }

    interface Corruption {
        byte[] apply() throws IOException;
    }

    static Arguments c(String name, String message, Corruption corrupt) {
        return Arguments.of(name, message, corrupt);
    }

    static Stream<Arguments> corruptions() {
        return Stream.of(
                c("empty file", "not even the 8-byte header size", () -> new byte[0]),
                c("truncated at the header size", "not even the 8-byte header size",
                        () -> java.util.Arrays.copyOf(good, 5)),
                c("truncated inside the header", "truncated inside the header",
                        () -> java.util.Arrays.copyOf(good, 8 + 20)),
                c("truncated inside the data", "truncated inside the data: tensor 'state/norm.scale/exp_avg_sq'",
                        () -> java.util.Arrays.copyOf(good, good.length - 10)),
                c("a data byte flipped", "tensor 'param/emb.weight' is corrupted", () -> {
                    byte[] b = good.clone();
                    b[dataStart(b) + 1001] ^= 0x10;
                    return b;
                }),
                c("the last data byte flipped", "tensor 'state/norm.scale/exp_avg_sq' is corrupted", () -> {
                    byte[] b = good.clone();
                    b[b.length - 1] ^= 0x01;
                    return b;
                }),
                c("offsets overlapping", "overlap", () -> editHeader(good, entry("param/fc.weight",
                        e -> e.replaceAll("\"data_offsets\":\\[\\d+,\\d+]", "\"data_offsets\":[0,12000]")))),
                c("offsets out of range", "truncated inside the data: tensor 'state/norm.scale/exp_avg_sq'",
                        () -> editHeader(good, entry("state/norm.scale/exp_avg_sq", e -> {
                            java.util.regex.Matcher m = java.util.regex.Pattern
                                    .compile("\\[(\\d+),(\\d+)]$").matcher(e.substring(0, e.length() - 1));
                            m.find();
                            long b = Long.parseLong(m.group(1)), end = Long.parseLong(m.group(2));
                            return "{\"dtype\":\"F32\",\"shape\":[1016],\"data_offsets\":[" + b + "," + (end + 4000)
                                    + "]}";
                        }))),
                c("offsets unordered (end before begin)", "end before they begin",
                        () -> editHeader(good, entry("param/fc.bias", e -> e.replaceAll(
                                "\"data_offsets\":\\[(\\d+),(\\d+)]", "\"data_offsets\":[$2,$1]")))),
                c("offsets with a gap", "a gap", () -> editHeader(good, entry("param/fc.bias", e -> {
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\[(\\d+),(\\d+)]}$").matcher(e);
                    m.find();
                    long b = Long.parseLong(m.group(1)), end = Long.parseLong(m.group(2));
                    return e.substring(0, m.start()) + "[" + (b + 4) + "," + (end + 4) + "]}";
                }))),
                // the same bytes read as another 4-byte type: its checksum holds, its dtype does not
                c("wrong dtype", "tensor 'param/fc.weight' is I32 in the checkpoint but its buffer here is float32 (F32)",
                        () -> editHeader(good, entry("param/fc.weight", e -> e.replace("\"F32\"", "\"I32\"")))),
                c("unknown dtype", "tensor 'param/fc.weight': unknown dtype 'F31'", () -> editHeader(good,
                        entry("param/fc.weight", e -> e.replace("\"F32\"", "\"F31\"")))),
                c("wrong shape", "tensor 'param/fc.weight' has shape [30, 100], expected [3000]", () -> editHeader(good,
                        entry("param/fc.weight", e -> e.replace("[3000]", "[30,100]")))),
                c("shape disagreeing with the offsets", "tensor 'param/fc.weight': shape [3001]", () -> editHeader(good,
                        entry("param/fc.weight", e -> e.replace("[3000]", "[3001]")))),
                c("missing tensor", "tensor 'state/fc.bias/exp_avg' is missing",
                        () -> rewrite(List.of("state/fc.bias/exp_avg"), Map.of(), m -> m)),
                c("extra tensor", "tensor 'state/fc.bias/bogus' is not one of this optimizer's",
                        () -> rewrite(List.of(), Map.of("state/fc.bias/bogus", new float[37]), m -> m)),
                c("not a checkpoint: a plain safetensors file", "not a vecopt checkpoint",
                        () -> rewrite(List.of(), Map.of(), m -> new LinkedHashMap<>())),
                c("another optimizer kind", "optimizer is 'Sgd' in the checkpoint but AdamW here",
                        () -> rewrite(List.of(), Map.of(), m -> put(m, "optimizer", "Sgd"))),
                c("a newer format version", "format_version '4'",
                        () -> rewrite(List.of(), Map.of(), m -> put(m, "format_version", "4"))),
                c("a tensor in another group", "group 'default' holds tensor 'fc.bias' in the checkpoint but not here",
                        () -> rewrite(List.of(), Map.of(), m -> put(m, "groups", m.get("groups")
                                .replace("\"fc.weight\"]", "\"fc.weight\",\"fc.bias\"]")
                                .replace("[\"fc.bias\",", "[")))),
                c("AMSGrad switched", "group 'default': amsgrad is true in the checkpoint but false here",
                        () -> rewrite(List.of(), Map.of(), m -> put(m, "groups", m.get("groups")
                                .replaceFirst("\"amsgrad\":false", "\"amsgrad\":true")))),
                c("a checksum missing", "tensor 'param/fc.bias' has no checksum", () -> editHeader(good,
                        h -> h.replaceAll("\"checksum:param/fc\\.bias\":\"crc32c:[0-9a-f]{8}\",", ""))),
                c("header not JSON", "header is not valid JSON", () -> editHeader(good,
                        h -> "{\"__metadata__\": nope}")),
                c("header JSON but not an object", "header is JSON but not an object", () -> editHeader(good,
                        h -> "[1, 2, 3]")),
                c("header over the size limit", "over the limit", () -> {
                    byte[] b = good.clone();
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 200_000_000L);
                    return b;
                }),
                c("header size negative as a signed long", "over the limit", () -> {
                    byte[] b = good.clone();
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -8L);
                    return b;
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corruptions")
    void failsNamingTheDefectAndChangesNothing(String name, String message, Corruption corrupt) throws IOException {
        Path file = dir.resolve("bad.safetensors");
        Files.write(file, corrupt.apply());
        try (Model m = new Model(true, 2); Optimizer<?> opt = SETUP.build().apply(m.set, 2)) {
            CheckpointRoundTripTest.run(SETUP, m, opt, 0, 2);
            Model.Image before = Model.image(opt);
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file, opt));
            assertTrue(e.getMessage().contains(message), "expected '" + message + "' in: " + e.getMessage());
            assertTrue(e.getMessage().startsWith("bad.safetensors: "), "names the file: " + e.getMessage());
            Model.image(opt).assertSameAs(before, "after the refused load");
            assertEquals(3, opt.step(1e-3).step(), "the optimizer steps on from where it was");
        }
    }

    @Test
    void theGoodFileLoads() throws IOException {
        Path file = dir.resolve("good-again.safetensors");
        Files.write(file, good);
        try (Model m = new Model(true, 2); Optimizer<?> opt = SETUP.build().apply(m.set, 2)) {
            assertEquals(3, Checkpoint.load(file, opt).globalStep());
        }
    }

    @Test
    void anotherOptimizerOrModelIsRefusedByName() throws IOException {
        Path file = dir.resolve("good.safetensors");
        try (Model m = new Model(false, 2); Sgd sgd = Sgd.builder(m.set).options(SgdOptions.MOMENTUM).build()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file, sgd));
            assertTrue(e.getMessage().contains("optimizer is 'AdamW' in the checkpoint but Sgd here"), e.getMessage());
        }
        try (Model m = new Model(false, 2);
             AdamW ams = AdamW.builder(m.set).options(AdamOptions.LLM_PRETRAINING.withAmsgrad(true)).build()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file, ams));
            assertTrue(e.getMessage().contains("state variables are [exp_avg, exp_avg_sq] in the checkpoint but"
                    + " [exp_avg, exp_avg_sq, max_exp_avg_sq] here"), e.getMessage());
        }
        try (Model m = new Model(false, 2);
             AdamW up = AdamW.builder(m.set).options(AdamOptions.LLM_PRETRAINING.withMaximize(true))
                     .group("no_decay", AdamOptions.LLM_PRETRAINING.withWeightDecay(0).withMaximize(true),
                             Setup::noDecay).build()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file, up));
            assertTrue(e.getMessage().contains("maximize is false in the checkpoint but true here"), e.getMessage());
        }
        try (Model m = new Model(false, 2); AdamW oneGroup = AdamW.builder(m.set).build()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file, oneGroup));
            assertTrue(e.getMessage().contains("2 parameter groups in the checkpoint [default, no_decay] but 1 here"
                    + " [default]"), e.getMessage());
            assertTrue(!e.damaged(), "a file of another run is not damage");
        }
    }

    @Test
    void hyperparametersMayDifferAndAreReported() throws IOException {
        Path file = dir.resolve("good.safetensors");
        AdamOptions o = AdamOptions.LLM_PRETRAINING.withWeightDecay(0.05);
        try (Model m = new Model(false, 2);
             AdamW opt = AdamW.builder(m.set).options(o)
                     .group("no_decay", o.withWeightDecay(0).withLrScale(0.25), Setup::noDecay).build()) {
            Restored r = Checkpoint.load(file, opt);
            assertEquals(List.of("clip_grad_norm 1.0 -> 0.0", "group 'default': weight_decay 0.1 -> 0.05",
                    "group 'no_decay': lr_scale 0.5 -> 0.25"), r.differences());
        }
    }

    @Test
    void describeVerifiesEveryChecksumAndListsTheContent() throws IOException {
        Path file = dir.resolve("good.safetensors");
        String d = Checkpoint.describe(file);
        assertTrue(d.contains("12 tensors") && d.contains("all 12 checksums verified"), d);
        assertTrue(d.contains("AdamW, 3 updates, 0 skipped steps, trainer step 3"), d);
        assertTrue(d.contains("group 'no_decay': 3 updates, 2 tensors"), d);
        assertTrue(d.contains("state/fc.bias/exp_avg_sq") && d.contains("[37]"), d);
        Path bad = dir.resolve("flipped.safetensors");
        byte[] b = good.clone();
        b[b.length - 5] ^= 0x40;
        Files.write(bad, b);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.describe(bad));
        assertTrue(e.getMessage().contains("is corrupted") && e.damaged(), e.getMessage());
    }
}
