package vecopt.checkpoint;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import vecopt.access.Access;
import vecopt.access.OptimizerAccess;
import vecopt.amp.GradScaler;
import vecopt.optim.Optimizer;

/**
 * Saves an optimizer's whole training state to a safetensors file and restores it, bit for bit.
 *
 * <pre>{@code
 * Checkpoint.save(dir.resolve("step-1200.safetensors"), opt, 1200, Extras.none().withString("data.pos", "77"));
 * // ... a new process builds the same ParamSet and optimizer, then:
 * Restored r = Checkpoint.load(dir.resolve("step-1200.safetensors"), opt);
 * for (long step = r.globalStep(); step < total; step++) { ... opt.step(schedule.lr(step)); }
 * }</pre>
 *
 * <p><b>What is saved</b>: every parameter tensor, every state tensor, each group's update count and options, the
 * optimizer's kind, update and skipped-step counts, its clipping and non-finite settings, the seeds of its stochastic
 * roundings, the trainer's step, the trainer's {@link Extras}, and a {@link GradScaler}'s state when one is given.
 * Gradients are not saved. A later {@code step} after {@link #load} gives bitwise the parameters and state the
 * uninterrupted run would have had, for any thread count and heap or off-heap buffers, float32 or 16-bit.
 *
 * <p><b>Format</b>: safetensors (https://huggingface.co/docs/safetensors), readable by any safetensors library.
 * Tensors, each of its buffer's type ({@code F32}; {@code BF16} or {@code F16} for 16-bit parameters and bfloat16
 * state), of the parameter tensor's shape ({@code [length]} unless it declared one; a file with {@code [length]}
 * loads into a tensor of any shape of that length):
 * <ul>
 *   <li>{@code param/<tensor>}: the parameter values;</li>
 *   <li>{@code state/<tensor>/<variable>}: PyTorch's state names, {@code exp_avg}, {@code exp_avg_sq},
 *       {@code max_exp_avg_sq}, {@code momentum_buffer}, {@code sum} (Adagrad), {@code square_avg},
 *       {@code grad_avg} (RMSprop, Adadelta), {@code acc_delta} (Adadelta), {@code exp_inf} (Adamax), {@code prev},
 *       {@code step_size} (Rprop), {@code ax} (ASGD), optax's {@code mu}, {@code nu} (LAMB), {@code trace} (LARS), {@code z} (ScheduleFreeAdamW),
 *       Hugging Face's Adafactor state of its own shapes: {@code exp_avg_sq_row} ({@code [..., R]} of a parameter
 *       {@code [..., R, C]}), {@code exp_avg_sq_col} ({@code [..., C]}), {@code exp_avg_sq} (1-D parameters),
 *       {@code exp_avg} (beta1), {@code RMS} (a 0-d tensor),
 *       and {@code master_param} ({@link Optimizer#MASTER}: the F32 master copy of 16-bit parameters without
 *       stochastic rounding) (every variable of {@link Optimizer#stateNames()} for every tensor);</li>
 *   <li>with 8-bit block-quantized moments, for a tensor of at least {@code min_8bit_size} elements:
 *       {@code state/<tensor>/exp_avg} of dtype {@code I8} (signed codes of exp_avg divided by its block's scale)
 *       and {@code state/<tensor>/sqrt_exp_avg_sq} of dtype {@code U8} (unsigned codes of the square root of
 *       exp_avg_sq divided by its block's scale: named so that no reader takes it for exp_avg_sq), each with
 *       {@code <name>.scale}, {@code F32 [ceil(length / 256)]}, one scale per block of 256 elements counted from the
 *       tensor's first element (the codes of {@code vecopt.kernel.BlockCodes}); a smaller tensor keeps {@code F32}
 *       {@code exp_avg} and {@code exp_avg_sq}; in bitsandbytes' dynamic maps ({@code EightBitCode.BITSANDBYTES_DYNAMIC})
 *       {@code state/<tensor>/exp_avg} and {@code state/<tensor>/exp_avg_sq} of dtype {@code U8} (indices into its
 *       signed and unsigned maps, of exp_avg and of exp_avg_sq itself), each with its {@code .scale};</li>
 *   <li>{@code extra/<name>}: the trainer's tensors.</li>
 * </ul>
 * {@code __metadata__} (strings): {@code format} = {@code vecopt-checkpoint}, {@code format_version} = {@code 3},
 * {@code optimizer} ({@code AdamW}, {@code Adam}, {@code Sgd}, {@code Adagrad}, {@code Rmsprop}, {@code Lion},
 * {@code Adamax}, {@code NAdam}, {@code RAdam}, {@code Adadelta}, {@code Rprop}, {@code Asgd}, {@code Lamb},
 * {@code Lars}, {@code Adafactor}, {@code ScheduleFreeAdamW}), {@code optimizer.steps},
 * {@code optimizer.skipped_steps}, {@code optimizer.state} (JSON array of the state variables),
 * {@code optimizer.clip_grad_norm} (0.0: off), {@code optimizer.on_non_finite}, {@code optimizer.check_params},
 * {@code optimizer.stochastic_rounding_seed} and {@code optimizer.bfloat16_state_seed} (each only when on: the
 * roundings' keys are a hash of the seed, the group's update count and the variable, and the random number also
 * takes the element's index in its buffer; so with the seeds goes {@code optimizer.rounding_offsets}, a JSON object
 * of each tensor's offset in its buffer, and a tensor that sits elsewhere here is reported),
 * {@code amp.scale}, {@code amp.growth_tracker}, {@code amp.growth_factor}, {@code amp.backoff_factor},
 * {@code amp.growth_interval} (only when saved with a scaler), {@code optimizer.min_8bit_size} (bitsandbytes' name),
 * {@code state.exp_avg.block} and {@code state.exp_avg_sq.block} ({@code 256}), {@code state.exp_avg.code}
 * ({@code vecopt-e4m3-signed}) and {@code state.exp_avg_sq.code} ({@code vecopt-e4m4-unsigned-sqrt}) (only with 8-bit
 * state), {@code groups} (JSON array of {@code {"name", "steps", "options": {PyTorch's option names}, "tensors": [...]}},
 * plus {@code "state": {"mu_product": ...}} (NAdam), {@code {"eta": ..., "mu": ...}} (ASGD) or {@code {"k": ...,
 * "lr_max": ..., "weight_sum": ..., "train_mode": 0}} (ScheduleFreeAdamW, saved in eval mode only: its
 * parameters are then x; {@code lr_max} and {@code weight_sum} are doubles, as the original's Python floats) or
 * {@code {"step": ...}} (Adafactor: HF's per-tensor step, checked to be the group's step count): the scalar state
 * PyTorch keeps per tensor, one value per group here, a float written as the double that reads back to it; LAMB's and
 * LARS's options under optax's names, an infinite {@code max_weight_norm} as the string {@code "Infinity"};
 * Adafactor's under HF's, {@code lr} and {@code beta1} null for HF's None, its {@code eps} pair as {@code eps1},
 * {@code eps2}),
 * {@code trainer.global_step}, {@code user.<key>} (the trainer's strings) and {@code checksum:<tensor>} =
 * {@code crc32c:<8 hex digits>} for every tensor.
 *
 * <p><b>Versions 1 and 2</b> are still read, every key they lack meaning "off": version 1 (F32 tensors only, no
 * seeds, no scaler: what version 3 writes for float32 buffers without a scaler, but for the number; PyTorch's
 * converter writes it) and version 2 (no 8-bit state, no Adafactor).
 *
 * <p><b>Storage types.</b> Each tensor's dtype is in the header, so a reader learns it per tensor, never from a
 * global setting. A tensor loads into a buffer of its own type, or is widened exactly into a float32 buffer (a
 * {@code BF16} or {@code F16} file into float32 parameters or state: reported in {@link Restored#differences()},
 * e.g. {@code parameters BF16 -> float32 (widened exactly)}); narrowing would round, and is refused naming both
 * types, as is bfloat16 into float16 or the reverse. There is no option to narrow: round the float32 values
 * yourself if that is what you mean. 8-bit state follows the same rule: an 8-bit file loads into 8-bit state of the
 * same threshold (codes and scales copied as they are) or is decoded exactly into float32 state (each element its
 * code's value times its block's scale, squared for exp_avg_sq: the floats the 8-bit step computes; reported); a
 * float32 or bfloat16 file into 8-bit state would quantize, and is refused naming the tensor and both types, as
 * narrowing is; an 8-bit file into bfloat16 state, another {@code min_8bit_size}, block size or code are refused
 * naming both.
 *
 * <p><b>Validated loading</b>: tensors are matched by name, never by position. Before anything in memory changes,
 * the whole file is checked: the safetensors structure ({@link SafetensorsFile}), every tensor's checksum, that it
 * is a vecopt checkpoint of the same optimizer kind, state variables, group names and order, group membership of
 * every tensor, and each tensor's dtype and shape; no tensor may be missing and none unexpected (other than
 * {@code extra/}). The first mismatch throws a {@link CheckpointException} naming the tensor or group and what
 * differs. These options may differ and are reported in {@link Restored#differences()} (the optimizer keeps its
 * own): lr scale, weight decay, betas, eps (Adam); momentum (if it stays non-zero), dampening, Nesterov, weight decay,
 * lr scale (SGD); every option of the optimizers after them (Adagrad to LARS: {@code OptionFields} lists them under
 * PyTorch's or optax's names) but these: RMSprop's centered, and its momentum zero or non-zero; clipping and
 * non-finite settings; the stochastic roundings' seeds (the resumed run is then valid, not bitwise the uninterrupted
 * one); a GradScaler's factors and interval. These may not: AMSGrad on or off, SGD or RMSprop momentum zero or
 * non-zero, RMSprop centered or not (the state's meaning or presence differs), a master copy on one side only, a
 * type that would be narrowed, a scaler given to {@link #load(Path, Optimizer, GradScaler)} for a file without one.
 *
 * <p><b>Threads</b>: save and load take the optimizer's one-thread-at-a-time guard, so a save or load while another
 * thread is inside {@code step} (or the reverse) throws {@link IllegalStateException} and changes nothing.
 *
 * <p><b>Crash safety</b>: see {@link CheckpointFiles} and the {@code force} argument of
 * {@link #save(Path, Optimizer, long, Extras, boolean)}.
 */
public final class Checkpoint {
    private static final OptimizerAccess ACCESS = Access.optimizer();

    private Checkpoint() {
    }

    /** Saves {@code opt}'s training state at the trainer's step {@code globalStep}, durably, without extras. */
    public static void save(Path file, Optimizer<?> opt, long globalStep) throws IOException {
        save(file, opt, globalStep, Extras.none(), true);
    }

    /** Saves {@code opt}'s training state and the trainer's {@code extras}, durably. */
    public static void save(Path file, Optimizer<?> opt, long globalStep, Extras extras) throws IOException {
        save(file, opt, globalStep, extras, true);
    }

    /**
     * Saves {@code opt}'s training state and the trainer's {@code extras} to {@code file}, replacing it atomically:
     * the bytes go to a temporary file in the same directory, which is renamed over {@code file} only when complete,
     * so {@code file} is always either the previous checkpoint or the new one, whatever happens. Tensors are
     * streamed from their buffers (heap or off-heap) to the file; nothing is copied to the Java heap.
     *
     * @param force true to force the file to disk before the rename and the directory after it (survives a power
     *              failure); false leaves both to the page cache (survives a process crash, not a power failure)
     * @throws IllegalStateException when another thread is inside the optimizer, or it is closed or broken
     */
    public static void save(Path file, Optimizer<?> opt, long globalStep, Extras extras, boolean force)
            throws IOException {
        save(file, opt, globalStep, extras, null, force);
    }

    /**
     * Saves {@code opt}'s training state, the trainer's {@code extras} and {@code scaler}'s state (scale, growth
     * tracker) and options, durably: an AMP run then resumes with {@link #load(Path, Optimizer, GradScaler)}.
     *
     * <pre>{@code
     * Checkpoint.save(dir.resolve("step-1200.safetensors"), opt, 1200, Extras.none(), scaler);
     * }</pre>
     */
    public static void save(Path file, Optimizer<?> opt, long globalStep, Extras extras, GradScaler scaler)
            throws IOException {
        save(file, opt, globalStep, extras, Objects.requireNonNull(scaler, "scaler"), true);
    }

    /**
     * As {@link #save(Path, Optimizer, long, Extras, boolean)}, with {@code scaler}'s state and options when it is
     * not null.
     */
    public static void save(Path file, Optimizer<?> opt, long globalStep, Extras extras, GradScaler scaler,
                            boolean force) throws IOException {
        if (globalStep < 0) {
            throw new IllegalArgumentException("globalStep must be >= 0, got " + globalStep);
        }
        ACCESS.enter(opt);
        try {
            List<SafetensorsWriter.Source> sources = new ArrayList<>();
            for (TrainingState.Part p : TrainingState.parts(opt)) {
                sources.add(new SafetensorsWriter.Source(p.name(), p.dtype(), p.shape(), p.segment()));
            }
            for (Map.Entry<String, float[]> e : extras.tensors().entrySet()) {
                sources.add(new SafetensorsWriter.Source(TrainingState.EXTRA + e.getKey(),
                        new long[] {e.getValue().length}, MemorySegment.ofArray(e.getValue())));
            }
            Map<String, String> meta = TrainingState.metadata(opt, globalStep, extras.strings(), scaler);
            AtomicFileWrite.write(file, ch -> SafetensorsWriter.write(ch, sources, meta), force);
        } finally {
            ACCESS.leave(opt);
        }
    }

    /**
     * Restores {@code opt}'s training state from {@code file}: parameters, state, step counters, skipped-step count.
     * The file is validated completely first (see the class comment); on any mismatch a {@link CheckpointException}
     * names the tensor or group and what differs, and nothing in memory has changed.
     *
     * @return the trainer's step, strings and tensors, and the options that differ
     * @throws IllegalStateException when another thread is inside the optimizer, or it is closed or broken
     */
    public static Restored load(Path file, Optimizer<?> opt) throws IOException {
        return load(file, opt, null);
    }

    /**
     * Restores {@code opt}'s training state and {@code scaler}'s scale and growth tracker from {@code file}, saved
     * with a scaler ({@link #save(Path, Optimizer, long, Extras, GradScaler)}): the next
     * {@code opt.step(lr, scaler)} is the uninterrupted run's, bit for bit. Validated as {@link #load(Path, Optimizer)}
     * validates, and also: the file must hold a scaler's state, its scale finite and > 0, its growth tracker below
     * {@code scaler}'s growth interval; the factors and interval may differ (reported; the scaler keeps its own).
     * Nothing (optimizer or scaler) changes unless everything is valid.
     *
     * <pre>{@code
     * GradScaler scaler = new GradScaler();
     * Restored r = Checkpoint.load(path, opt, scaler);
     * for (long step = r.globalStep(); step < total; step++) { ... opt.step(schedule.lr(step), scaler); }
     * }</pre>
     *
     * @param scaler the scaler to restore, or null to leave any scaler state in the file alone (reported in
     *               {@link Restored#differences()})
     */
    public static Restored load(Path file, Optimizer<?> opt, GradScaler scaler) throws IOException {
        String name = file.getFileName().toString();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            ACCESS.enter(opt);
            try {
                List<String> differences = new ArrayList<>();
                Map<String, String> meta = f.metadata();
                List<TrainingState.SavedGroup> groups = TrainingState.check(name, meta, opt, differences);
                double[] amp = null;
                if (scaler != null) {
                    amp = TrainingState.scaler(name, meta, scaler, differences);
                } else if (TrainingState.hasScaler(meta)) {
                    differences.add("GradScaler state (scale " + meta.get(TrainingState.AMP + "scale")
                            + ", growth tracker " + meta.get(TrainingState.AMP + "growth_tracker") + ") not restored:"
                            + " no scaler given to load");
                }
                List<TrainingState.Part> parts = TrainingState.parts(opt);
                EightBitFormat.Saved eightBitFile = EightBitFormat.check(name, meta, opt.stateNames());
                Set<String> widened = new LinkedHashSet<>();
                List<Fill> fills = new ArrayList<>(parts.size());
                Set<String> expected = new HashSet<>();
                for (TrainingState.Part p : parts) {
                    Fill fill = eightBitFile != null ? Fill.decoding(name, f, p, eightBitFile.layout()) : null;
                    if (fill != null) {
                        expected.add(fill.entry().name());
                        expected.add(fill.scales().name());
                        widened.add("state '" + p.variable() + "' 8-bit block-quantized -> float32 (decoded exactly:"
                                + " each element its code's value times its block's scale"
                                + (!eightBitFile.layout().dynamic() && eightBitFile.layout().roots()[
                                eightBitFile.layout().variables().indexOf(p.variable())] ? ", squared" : "")
                                + " (" + eightBitFile.layout().code() + "), as the 8-bit step"
                                + " decodes it)");
                        fills.add(fill);
                        continue;
                    }
                    expected.add(p.name());
                    TensorEntry e = f.tensor(p.name());
                    if (e == null) {
                        throw new CheckpointException(name + ": tensor '" + p.name() + "' is missing (this optimizer"
                                + " has it, " + p.length() + " elements" + Fill.missingHint(f, p) + ")");
                    }
                    String mismatch = TrainingState.dtypeMismatch(name, e.dtype(), p);
                    if (mismatch != null) {
                        throw new CheckpointException(mismatch);
                    }
                    String w = TrainingState.widening(e.dtype(), p);
                    if (w != null) {
                        widened.add(w);
                    }
                    Fill.checkShape(name, e, p);
                    fills.add(new Fill(p, e, null, null));
                }
                Map<String, TensorEntry> extras = new LinkedHashMap<>();
                for (TensorEntry e : f.tensors()) {
                    if (expected.contains(e.name())) {
                        continue;
                    }
                    if (!e.name().startsWith(TrainingState.EXTRA)) {
                        throw new CheckpointException(name + ": tensor '" + e.name() + "' is not one of this"
                                + " optimizer's (" + describeExpected(e.name()) + ")");
                    }
                    if (e.dtype() != Dtype.F32 || e.elements() > Integer.MAX_VALUE - 8) {
                        throw new CheckpointException(name + ": extra tensor '" + e.name() + "' is " + e.dtype()
                                + " of " + e.elements() + " elements; extras are F32 arrays");
                    }
                    extras.put(e.name().substring(TrainingState.EXTRA.length()), e);
                }
                verifyChecksums(name, f);
                differences.addAll(widened);
                // Everything is checked: from here on nothing can fail but the memory copy itself.
                for (Fill fill : fills) {
                    fill.run(f);
                }
                Map<String, float[]> tensors = new LinkedHashMap<>();
                for (Map.Entry<String, TensorEntry> e : extras.entrySet()) {
                    float[] a = new float[(int) e.getValue().elements()];
                    f.copyFloats(e.getValue(), MemorySegment.ofArray(a), 0);
                    tensors.put(e.getKey(), a);
                }
                long[] groupSteps = groups.stream().mapToLong(TrainingState.SavedGroup::steps).toArray();
                List<String> scalars = ACCESS.scalarStateNames(opt);
                for (int g = 0; g < groups.size(); g++) {
                    ACCESS.restoreScalarState(opt, g, TrainingState.scalars(name, groups.get(g), scalars));
                }
                ACCESS.restoreCounters(opt, TrainingState.count(name, meta, "optimizer.steps"),
                        TrainingState.count(name, meta, "optimizer.skipped_steps"), groupSteps);
                if (amp != null) {
                    scaler.restore(amp[0], (int) amp[1]);
                }
                Map<String, String> strings = new LinkedHashMap<>();
                meta.forEach((k, v) -> {
                    if (k.startsWith(TrainingState.USER)) {
                        strings.put(k.substring(TrainingState.USER.length()), v);
                    }
                });
                return new Restored(file, TrainingState.count(name, meta, "trainer.global_step"), strings, tensors,
                        differences, List.of());
            } finally {
                ACCESS.leave(opt);
            }
        }
    }

    /**
     * Restores {@code opt}, whose tensors are pieces of whole tensors, from checkpoints of one save whose tensors are
     * other pieces of the same whole tensors: the shards of a run whose parameters were cut among N ranks (ZeRO),
     * loaded by a rank of a run cut among N' ranks. Tensors are matched by name; each tensor here (elements
     * {@code [starts.get(name), starts.get(name) + length)} of its whole tensor) takes its parameters and state from
     * the files' pieces that overlap it, which must cover it exactly once. The counters and the trainer's step,
     * strings and tensors come from the files, which must agree on them (one save).
     *
     * <pre>{@code
     * // this rank holds elements [35_000, 70_000) of "emb.weight"; the save was cut in two
     * Restored r = Checkpoint.loadPieces(List.of(
     *         new PieceFile(dir.resolve("rank-0-of-2.safetensors"), Map.of("emb.weight", 0L)),
     *         new PieceFile(dir.resolve("rank-1-of-2.safetensors"), Map.of("emb.weight", 50_000L, "fc.bias", 0L))),
     *     opt, Map.of("emb.weight", 35_000L));
     * }</pre>
     *
     * <p>Validated as {@link #load} validates (structure, every checksum, kind, state variables, groups and options,
     * dtypes), except that a file's group may hold tensors this optimizer does not have; a tensor both have must be
     * in the same group. A file that does not match, a gap or an overlap in the coverage, or files of different
     * saves throw a {@link CheckpointException} naming the file and tensor, and nothing in memory has changed.
     *
     * @param files  the checkpoints, each with the start of each of its pieces
     * @param opt    the optimizer to restore (its parameters and state, over its own buffers)
     * @param starts for each of {@code opt}'s tensors, the element of the whole tensor it begins at
     * @return the trainer's step, strings and tensors (from the first file), and the options that differ
     */
    public static Restored loadPieces(List<PieceFile> files, Optimizer<?> opt, Map<String, Long> starts)
            throws IOException {
        return PieceLoad.load(files, opt, starts);
    }

    private static String describeExpected(String tensor) {
        if (tensor.startsWith(TrainingState.PARAM)) {
            return "no parameter tensor named '" + tensor.substring(TrainingState.PARAM.length()) + "'";
        }
        if (tensor.startsWith(TrainingState.STATE)) {
            return "no such parameter tensor or state variable";
        }
        return "a vecopt checkpoint holds param/, state/ and extra/ tensors only";
    }

    private static String seedText(String seed) {
        return seed == null ? "off" : "on (seed " + seed + ")";
    }

    /** Every tensor's checksum must be recorded and must match; checksums of absent tensors are an error too. */
    static void verifyChecksums(String name, SafetensorsFile f) throws IOException {
        for (TensorEntry e : f.tensors()) {
            String key = SafetensorsWriter.CHECKSUM_PREFIX + e.name();
            String saved = f.metadata().get(key);
            if (saved == null) {
                throw CheckpointException.damage(name + ": tensor '" + e.name() + "' has no checksum ('" + key
                        + "' missing from __metadata__)");
            }
            String actual = SafetensorsWriter.checksum(f.crc32c(e));
            if (!saved.equals(actual)) {
                throw CheckpointException.damage(name + ": tensor '" + e.name() + "' is corrupted: its bytes have "
                        + actual + " but the checkpoint recorded " + saved);
            }
        }
        for (String key : f.metadata().keySet()) {
            if (key.startsWith(SafetensorsWriter.CHECKSUM_PREFIX)
                    && f.tensor(key.substring(SafetensorsWriter.CHECKSUM_PREFIX.length())) == null) {
                throw CheckpointException.damage(name + ": __metadata__ has '" + key + "' but the file holds no such"
                        + " tensor");
            }
        }
    }

    /**
     * A description of checkpoint {@code file} for people, after verifying every tensor's checksum: the optimizer,
     * steps, groups and options, the trainer's strings, and each tensor's dtype, shape and checksum. Throws a
     * {@link CheckpointException} on any defect {@link #load} would refuse without an optimizer at hand.
     */
    public static String describe(Path file) throws IOException {
        String name = file.getFileName().toString();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            verifyChecksums(name, f);
            Map<String, String> meta = f.metadata();
            StringBuilder b = new StringBuilder();
            long bytes = f.tensors().stream().mapToLong(TensorEntry::byteLength).sum();
            b.append(String.format(Locale.ROOT, "%s: safetensors, %d tensors, %,d bytes of data, header %,d bytes,"
                    + " all %d checksums verified%n", file, f.tensors().size(), bytes, f.dataStart() - 8,
                    f.tensors().size()));
            if (!TrainingState.FORMAT.equals(meta.get("format"))) {
                b.append("not a vecopt checkpoint (no __metadata__ format '" + TrainingState.FORMAT + "')\n");
            } else {
                b.append(String.format(Locale.ROOT, "vecopt checkpoint, format %s: %s, %s updates, %s skipped steps,"
                                + " trainer step %s%n", meta.get("format_version"), meta.get("optimizer"),
                        meta.get("optimizer.steps"), meta.get("optimizer.skipped_steps"),
                        meta.get("trainer.global_step")));
                b.append(String.format(Locale.ROOT, "  state %s, clip_grad_norm %s, on_non_finite %s,"
                                + " check_params %s%n", meta.get("optimizer.state"),
                        meta.get("optimizer.clip_grad_norm"), meta.get("optimizer.on_non_finite"),
                        meta.get("optimizer.check_params")));
                b.append(String.format(Locale.ROOT, "  stochastic rounding of parameters %s, bfloat16 state %s%n",
                        seedText(meta.get(TrainingState.SR_SEED)), seedText(meta.get(TrainingState.STATE_SEED))));
                if (meta.containsKey(EightBitFormat.MIN_SIZE)) {
                    String m = meta.get(EightBitFormat.codeKey("exp_avg"));
                    String v = meta.get(EightBitFormat.codeKey("exp_avg_sq"));
                    boolean dynamic = EightBitFormat.DYNAMIC_SIGNED_CODE.equals(m);
                    StringBuilder coded = new StringBuilder();
                    for (Map.Entry<String, String> e : new java.util.TreeMap<>(meta).entrySet()) {
                        String k = e.getKey();
                        if (!dynamic && k.startsWith("state.") && k.endsWith(".code")) {
                            String x = k.substring("state.".length(), k.length() - ".code".length());
                            boolean root = EightBitFormat.SQRT_CODE.equals(e.getValue());
                            coded.append(coded.isEmpty() ? "" : ", ").append(root ? "<tensor>/sqrt_" + x + " U8 = sqrt("
                                    + x + ")" : "<tensor>/" + x + " I8 = " + x).append(" / scale as ")
                                    .append(e.getValue()).append(" codes");
                        }
                    }
                    String codes = dynamic
                            ? "<tensor>/exp_avg U8 = index of exp_avg / scale in " + m + ", <tensor>/exp_avg_sq U8 = index"
                                    + " of exp_avg_sq / scale in " + v
                            : coded.toString();
                    b.append(String.format(Locale.ROOT, "  8-bit block-quantized moments%s (tensors of >= %s elements;"
                                    + " the others F32): %s, <name>.scale F32 = one scale per block of %s elements from"
                                    + " the tensor's start%n", dynamic ? " in bitsandbytes' dynamic maps" : "",
                            meta.get(EightBitFormat.MIN_SIZE), codes, meta.get(EightBitFormat.blockKey("exp_avg"))));
                }
                if (TrainingState.hasScaler(meta)) {
                    String amp = TrainingState.AMP;
                    b.append(String.format(Locale.ROOT, "  GradScaler: scale %s, growth tracker %s, growth factor %s,"
                                    + " backoff factor %s, growth interval %s%n", meta.get(amp + "scale"),
                            meta.get(amp + "growth_tracker"), meta.get(amp + "growth_factor"),
                            meta.get(amp + "backoff_factor"), meta.get(amp + "growth_interval")));
                }
                try {
                    if (Json.parse(meta.getOrDefault("groups", "[]")) instanceof List<?> groups) {
                        for (Object g : groups) {
                            if (g instanceof Map<?, ?> m) {
                                Object t = m.get("tensors");
                                b.append(String.format(Locale.ROOT,
                                        "  group '%s': %s updates, %d tensors, options %s%s%n",
                                        m.get("name"), m.get("steps"), t instanceof List<?> l ? l.size() : 0,
                                        m.get("options"), m.containsKey("state") ? ", state " + m.get("state") : ""));
                            }
                        }
                    }
                } catch (Json.ParseException e) {
                    b.append("  groups: not valid JSON (").append(e.getMessage()).append(")\n");
                }
            }
            meta.forEach((k, v) -> {
                if (k.startsWith(TrainingState.USER) || !TrainingState.FORMAT.equals(meta.get("format"))
                        && !k.startsWith(SafetensorsWriter.CHECKSUM_PREFIX)) {
                    b.append("  ").append(k).append(" = ").append(v.length() <= 100 ? v
                            : v.substring(0, 100) + "... (" + v.length() + " characters)").append('\n');
                }
            });
            b.append(String.format(Locale.ROOT, "  %-48s %-5s %-14s %s%n", "tensor", "dtype", "shape", "checksum"));
            for (TensorEntry e : f.tensors()) {
                b.append(String.format(Locale.ROOT, "  %-48s %-5s %-14s %s%n", e.name(), e.dtype(),
                        Arrays.toString(e.shape()), meta.get(SafetensorsWriter.CHECKSUM_PREFIX + e.name())));
            }
            return b.toString();
        }
    }
}
