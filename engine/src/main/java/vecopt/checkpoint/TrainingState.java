package vecopt.checkpoint;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import vecopt.access.Access;
import vecopt.access.OptimizerAccess;
import vecopt.amp.GradScaler;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.GroupOptions;
import vecopt.optim.Optimizer;
import vecopt.optim.ParamGroup;
import vecopt.optim.SgdOptions;
import vecopt.param.Tensor;

/**
 * What a checkpoint holds for an optimizer, in both directions: the tensors (names and the memory behind them) and
 * the metadata strings, and the decoding and comparison of that metadata on load. The names and keys are the
 * format; {@link Checkpoint} documents them.
 */
final class TrainingState {
    static final String FORMAT = "vecopt-checkpoint";
    /** The version written; {@link #READS} lists those read. */
    static final String VERSION = "3";
    /**
     * Version 1: F32 tensors only, no seeds, no GradScaler (what version 2 writes for float32 buffers without a
     * scaler, but for the version number); version 2: no 8-bit state, no Adafactor (what version 3 writes without
     * them, but for the number). Both are read as version 3, as every key they lack means "off".
     */
    static final List<String> READS = List.of("1", "2", "3");
    static final String SR_SEED = "optimizer.stochastic_rounding_seed";
    static final String STATE_SEED = "optimizer.bfloat16_state_seed";
    static final String AMP = "amp.";
    static final String OFFSETS = "optimizer.rounding_offsets";
    static final String PARAM = "param/";
    static final String STATE = "state/";
    static final String EXTRA = "extra/";
    static final String USER = "user.";
    private static final OptimizerAccess ACCESS = Access.optimizer();

    private TrainingState() {
    }

    static String paramName(Tensor t) {
        return PARAM + t.name();
    }

    static String stateName(Tensor t, String variable) {
        return STATE + t.name() + "/" + variable;
    }

    /**
     * A tensor of the checkpoint and the memory it comes from or goes to: {@code segment} holds exactly its elements,
     * of safetensors type {@code dtype} (F32, BF16 or F16 from a buffer of that type; I8 or U8 for 8-bit codes);
     * {@code shape} is what the file records: a parameter's and its per-element state's is the parameter tensor's (as
     * in PyTorch), and {@code flat} says that {@code [length]} loads too (files written before tensors had shapes,
     * converters that flatten); block scales ({@code [blocks]}), Adafactor's factored state ({@code [..., R]},
     * {@code [..., C]}) and {@code RMS} ({@code []}) have exactly their shape.
     */
    record Part(String name, vecopt.checkpoint.Dtype dtype, long[] shape, MemorySegment segment, boolean flat) {
        long length() {
            return segment.byteSize() / dtype.bytes();
        }

        /** The element type of the memory for a float tensor (F32, BF16, F16), null for 8-bit codes. */
        Dtype memory() {
            return switch (dtype) {
                case F32 -> Dtype.FLOAT32;
                case BF16 -> Dtype.BFLOAT16;
                case F16 -> Dtype.FLOAT16;
                default -> null;
            };
        }

        /** The state variable (the name's last part) of a {@code state/} tensor. */
        String variable() {
            return name.substring(name.lastIndexOf('/') + 1);
        }
    }

    /** Tensor {@code t}'s range of buffer {@code s}. */
    private static MemorySegment range(Storage s, Tensor t) {
        final int size = s.dtype().bytes();
        return s.segment().asSlice(t.offset() * size, t.length() * size);
    }

    /** The layout of {@code opt}'s 8-bit state (it has some). */
    static EightBitFormat.Layout layout(Optimizer<?> opt) {
        return EightBitFormat.of(opt.eightBitCode(), ACCESS.eightBitVariables(opt), ACCESS.eightBitRoots(opt));
    }

    /**
     * Every parameter tensor, then per tensor its state: 8-bit codes and scales (or float32 moments below the
     * threshold), Adafactor's factored state and RMS, and the per-element state buffers, in the parameter set's order.
     */
    static List<Part> parts(Optimizer<?> opt) {
        List<Part> out = new ArrayList<>();
        for (Tensor t : opt.params().tensors()) {
            out.add(new Part(paramName(t), vecopt.checkpoint.Dtype.of(t.params().dtype()), t.shape().dims(),
                    range(t.params(), t), true));
        }
        List<String> names = ACCESS.bufferStateNames(opt);
        boolean eightBit = ACCESS.eightBitMinSize(opt) > 0;
        EightBitFormat.Layout layout = eightBit ? layout(opt) : null;
        for (Tensor t : opt.params().tensors()) {
            long[] dims = t.shape().dims();
            if (eightBit) {
                OptimizerAccess.EightBit e = ACCESS.eightBit(opt, t);
                for (int v = 0; v < layout.variables().size(); v++) {
                    if (e.quantized()) {
                        String codes = stateName(t, layout.codeName(v));
                        out.add(new Part(codes, layout.dtype(v), dims, e.values()[v], true));
                        out.add(new Part(codes + EightBitFormat.SCALE, vecopt.checkpoint.Dtype.F32,
                                new long[] {EightBitFormat.blocks(t.length())}, e.scales()[v], false));
                    } else {
                        out.add(new Part(stateName(t, layout.variables().get(v)), vecopt.checkpoint.Dtype.F32,
                                dims, e.values()[v], true));
                    }
                }
            }
            for (Map.Entry<String, MemorySegment> f : ACCESS.factoredState(opt, t).entrySet()) {
                boolean perElement = f.getKey().equals("exp_avg_sq"); // bfloat16 under bfloat16State
                out.add(new Part(stateName(t, f.getKey()), perElement ? vecopt.checkpoint.Dtype.of(opt.stateType(
                        f.getKey())) : vecopt.checkpoint.Dtype.F32, factoredShape(dims, f.getKey()), f.getValue(),
                        perElement));
            }
            Storage[] s = ACCESS.state(opt, t.params());
            for (int i = 0; i < names.size(); i++) {
                out.add(new Part(stateName(t, names.get(i)), vecopt.checkpoint.Dtype.of(s[i].dtype()), dims,
                        range(s[i], t), true));
            }
        }
        return out;
    }

    /**
     * Hugging Face's shapes of Adafactor's state of a parameter of shape {@code dims}: {@code exp_avg_sq_row}
     * {@code dims[:-1]}, {@code exp_avg_sq_col} {@code dims[:-2] + dims[-1:]}, {@code exp_avg_sq} {@code dims},
     * {@code RMS} a 0-d tensor.
     */
    static long[] factoredShape(long[] dims, String variable) {
        int n = dims.length;
        return switch (variable) {
            case "exp_avg_sq_row" -> Arrays.copyOf(dims, n - 1);
            case "exp_avg_sq_col" -> {
                long[] c = Arrays.copyOf(dims, n - 1);
                c[n - 2] = dims[n - 1];
                yield c;
            }
            case "RMS" -> new long[0];
            default -> dims.clone();
        };
    }

    /**
     * Refuses, by name, loading pieces ({@link Checkpoint#loadPieces}) of an optimizer whose state is not laid out
     * like its parameters: 8-bit codes have block scales counted from each whole tensor's start, and Adafactor's
     * factored state belongs to the whole matrix, so neither can be cut at arbitrary elements.
     */
    static void refuseUnencoded(Optimizer<?> opt) {
        if (opt.eightBitState()) {
            throw new IllegalArgumentException(opt.getClass().getSimpleName() + " with 8-bit block-quantized state:"
                    + " loading pieces of tensors is not supported (its block scales are counted from each whole"
                    + " tensor's start); Checkpoint.load restores it");
        }
        if (opt instanceof vecopt.optim.Adafactor) {
            throw new IllegalArgumentException("Adafactor: loading pieces of tensors is not supported (exp_avg_sq_row"
                    + " and exp_avg_sq_col belong to the whole matrix); Checkpoint.load restores it");
        }
    }

    /**
     * Why a tensor of {@code dtype} in the checkpoint cannot load into part {@code p}, or null when it can: the same
     * type, or widened exactly ({@link vecopt.checkpoint.Dtype#loadsExactlyInto}); 8-bit codes only into codes of
     * their own type.
     */
    static String dtypeMismatch(String file, vecopt.checkpoint.Dtype dtype, Part p) {
        Dtype here = p.memory();
        if (here == null) { // 8-bit codes here
            if (dtype == p.dtype()) {
                return null;
            }
            return file + ": tensor '" + p.name() + "' is " + dtype + " in the checkpoint but " + p.dtype()
                    + " (8-bit block-quantized codes) here" + (dtype.bytes() > 1 ? ": loading would quantize it (refused,"
                    + " as narrowing is; a float32 file loads into float32 state, and an 8-bit one into either)" : "");
        }
        if (dtype.loadsExactlyInto(here)) {
            return null;
        }
        return file + ": tensor '" + p.name() + "' is " + dtype + " in the checkpoint but its buffer here is "
                + here.torchName() + " (" + vecopt.checkpoint.Dtype.of(here) + ")" + (here.bytes() < dtype.bytes()
                ? ": loading would round it (narrowing is refused; a 16-bit file loads into float32 buffers, exactly)"
                : "");
    }

    /**
     * The difference to report when {@code p}'s tensor of {@code dtype} is widened into its buffer ("parameters" or
     * the state variable, once for all tensors), or null when the types are the same.
     */
    static String widening(vecopt.checkpoint.Dtype dtype, Part p) {
        if (dtype == p.dtype()) {
            return null;
        }
        String what = p.name().startsWith(PARAM) ? "parameters" : "state '" + p.variable() + "'";
        return what + " " + dtype + " -> " + p.memory().torchName() + " (widened exactly)";
    }

    /** The metadata of a checkpoint of {@code opt} at the trainer's {@code globalStep}; call with the guard held. */
    static Map<String, String> metadata(Optimizer<?> opt, long globalStep, Map<String, String> user) {
        return metadata(opt, globalStep, user, null);
    }

    /** As above, with {@code scaler}'s state and options when it is not null. */
    static Map<String, String> metadata(Optimizer<?> opt, long globalStep, Map<String, String> user,
                                        GradScaler scaler) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("format_version", VERSION);
        m.put("optimizer", ACCESS.kind(opt));
        m.put("optimizer.steps", Long.toString(opt.steps()));
        m.put("optimizer.skipped_steps", Long.toString(ACCESS.skippedSteps(opt)));
        m.put("optimizer.state", stringArray(opt.stateNames()));
        m.put("optimizer.clip_grad_norm", Double.toString(opt.clipGradNorm()));
        m.put("optimizer.on_non_finite", ACCESS.nonFinite(opt).name());
        m.put("optimizer.check_params", Boolean.toString(ACCESS.checkParams(opt)));
        if (ACCESS.eightBitMinSize(opt) > 0) {
            EightBitFormat.metadata(m, ACCESS.eightBitMinSize(opt), layout(opt));
        }
        // The stochastic roundings' keys are a hash of the seed, the group's update number (restored with the group's
        // step count) and the variable; the random number also takes the element's index in its buffer (its offset).
        Long sr = ACCESS.stochasticRoundingSeed(opt), ss = ACCESS.bfloat16StateSeed(opt);
        if (sr != null) {
            m.put(SR_SEED, Long.toString(sr));
        }
        if (ss != null) {
            m.put(STATE_SEED, Long.toString(ss));
        }
        if (sr != null || ss != null) { // and the element's index in its buffer: each tensor's offset there
            StringBuilder o = new StringBuilder("{");
            for (Tensor t : opt.params().tensors()) {
                o.append(o.length() > 1 ? "," : "").append(Json.quote(t.name())).append(':').append(t.offset());
            }
            m.put(OFFSETS, o.append('}').toString());
        }
        if (scaler != null) { // doubles as Java prints them: they parse back to the same double
            m.put(AMP + "scale", Double.toString(scaler.scale()));
            m.put(AMP + "growth_tracker", Integer.toString(scaler.growthTracker()));
            m.put(AMP + "growth_factor", Double.toString(scaler.growthFactor()));
            m.put(AMP + "backoff_factor", Double.toString(scaler.backoffFactor()));
            m.put(AMP + "growth_interval", Integer.toString(scaler.growthInterval()));
        }
        StringBuilder g = new StringBuilder("[");
        List<String> scalars = ACCESS.scalarStateNames(opt);
        for (int gi = 0; gi < opt.groups().size(); gi++) {
            ParamGroup<?> group = opt.groups().get(gi);
            g.append(g.length() > 1 ? "," : "").append("{\"name\":").append(Json.quote(group.name()))
                    .append(",\"steps\":").append(group.steps());
            if (scalars.contains("train_mode") && ACCESS.scalarState(opt, gi, "train_mode") != 0) {
                // schedule-free: the parameters are y in train mode; a checkpoint holds x (the original's advice)
                throw new IllegalStateException(ACCESS.kind(opt) + " is in train mode: call eval() before saving, so"
                        + " that the checkpoint holds the averaged parameters x, and train() after");
            }
            if (!scalars.isEmpty()) { // PyTorch's per-tensor scalar state, one value per group here
                g.append(",\"state\":{");
                for (int i = 0; i < scalars.size(); i++) {
                    g.append(i > 0 ? "," : "").append(Json.quote(scalars.get(i))).append(':')
                            .append(ACCESS.scalarState(opt, gi, scalars.get(i)));
                }
                g.append('}');
            }
            g.append(",\"options\":")
                    .append(options(group.options())).append(",\"tensors\":")
                    .append(stringArray(group.tensors().stream().map(Tensor::name).toList())).append('}');
        }
        m.put("groups", g.append(']').toString());
        m.put("trainer.global_step", Long.toString(globalStep));
        for (Map.Entry<String, String> e : user.entrySet()) {
            m.put(USER + e.getKey(), e.getValue());
        }
        return m;
    }

    /** A seed as the checkpoint records it ("off" when absent: no stochastic rounding), checked to be a long. */
    private static String seed(String file, Map<String, String> meta, String key) throws CheckpointException {
        String v = meta.get(key);
        if (v == null) {
            return "off";
        }
        try {
            return Long.toString(Long.parseLong(v));
        } catch (NumberFormatException e) {
            throw new CheckpointException(file + ": __metadata__ '" + key + "' must be an integer (a seed), got '" + v
                    + "'");
        }
    }

    /**
     * The stochastic roundings draw their random number from the element's index in its buffer too: a tensor that
     * sits elsewhere in its buffer here than in the checkpoint's run rounds with other numbers (a valid run, not
     * bitwise the uninterrupted one). Reported, for the tensors both have, when a rounding is stochastic here.
     */
    private static void roundingOffsets(String file, Map<String, String> meta, Optimizer<?> opt,
                                        List<String> differences) throws CheckpointException {
        if (!meta.containsKey(OFFSETS)) {
            return;
        }
        if (!(json(file, meta, OFFSETS) instanceof Map<?, ?> saved)) {
            throw new CheckpointException(file + ": __metadata__ '" + OFFSETS + "' must be a JSON object");
        }
        if (ACCESS.stochasticRoundingSeed(opt) == null && ACCESS.bfloat16StateSeed(opt) == null) {
            return; // nothing rounds stochastically here: the seeds' differences say so
        }
        List<String> moved = new ArrayList<>();
        for (Map.Entry<?, ?> e : saved.entrySet()) {
            if (!(e.getValue() instanceof Json.Num n) || !n.isLong() || n.longValue() < 0) {
                throw new CheckpointException(file + ": __metadata__ '" + OFFSETS + "': offset of tensor '" + e.getKey()
                        + "' must be an integer >= 0, got " + e.getValue());
            }
            String name = (String) e.getKey();
            if (opt.params().contains(name) && opt.params().tensor(name).offset() != n.longValue()) {
                moved.add("'" + name + "' element " + n.longValue() + " -> " + opt.params().tensor(name).offset());
            }
        }
        if (!moved.isEmpty()) {
            differences.add("stochastic rounding counters of tensors moved in their buffers: "
                    + String.join(", ", moved.subList(0, Math.min(3, moved.size())))
                    + (moved.size() > 3 ? " and " + (moved.size() - 3) + " more" : "")
                    + " (other random numbers than the uninterrupted run's)");
        }
    }

    private static String seedText(Long seed) {
        return seed == null ? "off" : seed.toString();
    }

    /** Whether {@code meta} holds a {@link GradScaler}'s state (saved with one). */
    static boolean hasScaler(Map<String, String> meta) {
        return meta.containsKey(AMP + "scale");
    }

    /**
     * The {@link GradScaler} state of {@code meta}, checked against {@code scaler} before anything changes: scale
     * finite and > 0, growth tracker in [0, this scaler's growth interval); the factors and interval may differ
     * (added to {@code differences}, the scaler keeps its own). Returns {scale, growth tracker}.
     */
    static double[] scaler(String file, Map<String, String> meta, GradScaler scaler, List<String> differences)
            throws CheckpointException {
        if (!hasScaler(meta)) {
            throw new CheckpointException(file + ": the checkpoint holds no GradScaler state (" + AMP + "scale missing:"
                    + " it was saved without a scaler); load it without one and restore the scaler from the extras"
                    + " where the trainer saved it there");
        }
        double scale = real(file, meta, AMP + "scale");
        if (!(scale > 0) || Double.isInfinite(scale)) {
            throw new CheckpointException(file + ": __metadata__ '" + AMP + "scale' must be finite and > 0, got "
                    + scale);
        }
        long tracker = count(file, meta, AMP + "growth_tracker");
        double growth = real(file, meta, AMP + "growth_factor"), backoff = real(file, meta, AMP + "backoff_factor");
        long interval = count(file, meta, AMP + "growth_interval");
        if (tracker >= scaler.growthInterval()) {
            throw new CheckpointException(file + ": " + AMP + "growth_tracker is " + tracker + " in the checkpoint,"
                    + " not below this scaler's growth interval " + scaler.growthInterval());
        }
        noteNumber(differences, "amp growth_factor", growth, scaler.growthFactor());
        noteNumber(differences, "amp backoff_factor", backoff, scaler.backoffFactor());
        if (interval != scaler.growthInterval()) {
            differences.add("amp growth_interval " + interval + " -> " + scaler.growthInterval());
        }
        return new double[] {scale, tracker};
    }

    private static void noteNumber(List<String> differences, String name, double saved, double here) {
        if (Double.compare(saved, here) != 0) {
            differences.add(name + " " + saved + " -> " + here);
        }
    }

    private static double real(String file, Map<String, String> meta, String key) throws CheckpointException {
        String v = text(file, meta, key);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new CheckpointException(file + ": __metadata__ '" + key + "' must be a number, got '" + v + "'");
        }
    }

    private static String stringArray(List<String> items) {
        StringBuilder b = new StringBuilder("[");
        for (String s : items) {
            b.append(b.length() > 1 ? "," : "").append(Json.quote(s));
        }
        return b.append(']').toString();
    }

    /** PyTorch's names for the options, values as Java prints doubles (which parse back to the same double). */
    private static String options(GroupOptions o) {
        return switch (o) {
            case AdamOptions a -> "{\"beta1\":" + a.beta1() + ",\"beta2\":" + a.beta2() + ",\"eps\":" + a.eps()
                    + ",\"weight_decay\":" + a.weightDecay() + ",\"amsgrad\":" + a.amsgrad() + ",\"lr_scale\":"
                    + a.lrScale() + ",\"maximize\":" + a.maximize() + "}";
            case SgdOptions s -> "{\"momentum\":" + s.momentum() + ",\"dampening\":" + s.dampening()
                    + ",\"weight_decay\":" + s.weightDecay() + ",\"nesterov\":" + s.nesterov() + ",\"lr_scale\":"
                    + s.lrScale() + ",\"maximize\":" + s.maximize() + "}";
            default -> {
                List<OptionFields.Field> fields = OptionFields.of(o);
                if (fields == null) {
                    throw new IllegalArgumentException("options " + o.getClass().getSimpleName() + " have no"
                            + " checkpoint encoding yet");
                }
                yield OptionFields.json(fields, o);
            }
        };
    }

    /** A group as the checkpoint recorded it. */
    record SavedGroup(String name, long steps, Map<String, Object> options, List<String> tensors, Object state) {
    }

    /**
     * The counters and groups recorded in {@code meta}, checked against {@code opt}: optimizer kind, state
     * variables, group names, order and membership, and the options that decide the state's meaning must agree;
     * other options may differ, and each difference is added to {@code differences}.
     */
    static List<SavedGroup> check(String file, Map<String, String> meta, Optimizer<?> opt, List<String> differences)
            throws CheckpointException {
        return check(file, meta, opt, differences, true);
    }

    /**
     * As {@link #check(String, Map, Optimizer, List)}; with {@code exactMembership} false a group's tensors need not
     * be this optimizer's group's (a file of another piece of the same model): a tensor both have must be in the
     * same group in both.
     */
    static List<SavedGroup> check(String file, Map<String, String> meta, Optimizer<?> opt, List<String> differences,
                                  boolean exactMembership) throws CheckpointException {
        if (!exactMembership) {
            refuseUnencoded(opt);
        }
        String format = meta.get("format");
        if (!FORMAT.equals(format)) {
            throw new CheckpointException(file + ": not a vecopt checkpoint: __metadata__ 'format' is "
                    + (format == null ? "missing" : "'" + format + "'") + ", expected '" + FORMAT + "'");
        }
        String version = meta.get("format_version");
        if (!READS.contains(version)) {
            throw new CheckpointException(file + ": format_version '" + version + "' is not one this vecopt reads "
                    + READS);
        }
        String kind = ACCESS.kind(opt);
        if (!kind.equals(meta.get("optimizer"))) {
            throw new CheckpointException(file + ": optimizer is '" + meta.get("optimizer") + "' in the checkpoint but "
                    + kind + " here");
        }
        for (String key : List.of("optimizer.steps", "optimizer.skipped_steps", "trainer.global_step")) {
            count(file, meta, key); // present, integers >= 0: checked here, before anything is copied
        }
        List<String> state = strings(file, "optimizer.state", json(file, meta, "optimizer.state"));
        if (!state.equals(opt.stateNames())) {
            boolean masterThere = state.contains(Optimizer.MASTER), masterHere = opt.stateNames().contains(Optimizer.MASTER);
            throw new CheckpointException(file + ": state variables are " + state + " in the checkpoint but "
                    + opt.stateNames() + " here (" + (masterThere != masterHere ? Optimizer.MASTER + ", the float32"
                    + " master copy, is kept for 16-bit parameters without stochastic rounding: the "
                    + (masterThere ? "checkpoint has" : "optimizer here has") + " one"
                    : "AMSGrad, momentum or centered switched on or off") + ")");
        }
        EightBitFormat.Saved saved8 = EightBitFormat.check(file, meta, state);
        int eightBit = saved8 == null ? 0 : saved8.minSize(), eightBitHere = ACCESS.eightBitMinSize(opt);
        if (saved8 != null && eightBitHere > 0 && saved8.layout().code() != opt.eightBitCode()) {
            throw new CheckpointException(file + ": 8-bit state is in " + saved8.layout().code() + " in the checkpoint ('"
                    + EightBitFormat.codeKey(saved8.layout().variables().get(0)) + "' '" + saved8.layout().codeOf(0) + "') but in "
                    + opt.eightBitCode() + " here: the bytes of one code are other values in the other (load it into"
                    + " an optimizer of its code or with float32 state, which decodes it exactly)");
        }
        if (eightBit > 0 && eightBitHere > 0 && eightBit != eightBitHere) {
            throw new CheckpointException(file + ": 8-bit state keeps tensors of fewer than " + eightBit + " elements"
                    + " in float32 in the checkpoint (" + EightBitFormat.MIN_SIZE + ") but fewer than " + eightBitHere
                    + " here (a tensor between would change kind)");
        }
        note(differences, "stochastic_rounding_seed", seed(file, meta, SR_SEED),
                seedText(ACCESS.stochasticRoundingSeed(opt)));
        note(differences, "bfloat16_state_seed", seed(file, meta, STATE_SEED), seedText(ACCESS.bfloat16StateSeed(opt)));
        roundingOffsets(file, meta, opt, differences);
        note(differences, "clip_grad_norm", text(file, meta, "optimizer.clip_grad_norm"),
                Double.toString(opt.clipGradNorm()));
        note(differences, "on_non_finite", text(file, meta, "optimizer.on_non_finite"), ACCESS.nonFinite(opt).name());
        note(differences, "check_params", text(file, meta, "optimizer.check_params"),
                Boolean.toString(ACCESS.checkParams(opt)));
        if (!(json(file, meta, "groups") instanceof List<?> groups)) {
            throw new CheckpointException(file + ": __metadata__ 'groups' must be a JSON array");
        }
        List<SavedGroup> saved = new ArrayList<>();
        for (Object g : groups) {
            saved.add(group(file, g));
        }
        List<? extends ParamGroup<?>> here = opt.groups();
        if (saved.size() != here.size()) {
            throw new CheckpointException(file + ": " + saved.size() + " parameter groups in the checkpoint "
                    + saved.stream().map(SavedGroup::name).toList() + " but " + here.size() + " here "
                    + here.stream().map(ParamGroup::name).toList());
        }
        for (int i = 0; i < saved.size(); i++) {
            SavedGroup s = saved.get(i);
            ParamGroup<?> h = here.get(i);
            if (!s.name().equals(h.name())) {
                throw new CheckpointException(file + ": group " + i + " is '" + s.name() + "' in the checkpoint but '"
                        + h.name() + "' here");
            }
            List<String> names = h.tensors().stream().map(Tensor::name).toList();
            if (exactMembership && !s.tensors().equals(names)) {
                throw new CheckpointException(file + ": group '" + h.name() + "' " + membership(s.tensors(), names));
            }
            if (!exactMembership) {
                for (String n : s.tensors()) {
                    if (opt.params().contains(n) && !names.contains(n)) {
                        throw new CheckpointException(file + ": group '" + h.name() + "' holds tensor '" + n
                                + "' in the checkpoint but not here");
                    }
                }
            }
            compareOptions(file, s, h.options(), differences);
            List<String> scalarNames = ACCESS.scalarStateNames(opt);
            double[] values = scalars(file, s, scalarNames); // present and numbers: checked before anything changes
            int mode = scalarNames.indexOf("train_mode");
            for (String count : List.of("k", "step")) { // schedule-free's k, Adafactor's step: the group's step count
                int k = scalarNames.indexOf(count);
                if (k >= 0 && values[k] != s.steps()) {
                    throw new CheckpointException(file + ": group '" + s.name() + "': scalar state '" + count + "' is "
                            + values[k] + " but the group's steps are " + s.steps());
                }
            }
            if (mode >= 0 && values[mode] != 0) {
                throw new CheckpointException(file + ": group '" + s.name() + "': train_mode is " + values[mode]
                        + "; a checkpoint of " + kind + " is saved in eval mode (its parameters are x)");
            }
        }
        return saved;
    }

    /**
     * Group {@code s}'s scalar state ({@code "state": {"eta": ..., "mu": ...}}), in {@code names} order: each must
     * be there and a finite number (they are floats in PyTorch and here: a double's text of a float reads back to
     * it exactly).
     */
    static double[] scalars(String file, SavedGroup s, List<String> names) throws CheckpointException {
        double[] out = new double[names.size()];
        if (names.isEmpty()) {
            return out;
        }
        if (!(s.state() instanceof Map<?, ?> m)) {
            throw new CheckpointException(file + ": group '" + s.name() + "' has no scalar state " + names
                    + " ('state' missing or not an object: " + s.state() + ")");
        }
        for (int i = 0; i < out.length; i++) {
            if (!(m.get(names.get(i)) instanceof Json.Num n) || !Double.isFinite(n.doubleValue())) {
                throw new CheckpointException(file + ": group '" + s.name() + "': scalar state '" + names.get(i)
                        + "' missing or not a finite number: " + m.get(names.get(i)));
            }
            out[i] = n.doubleValue();
        }
        return out;
    }

    private static String membership(List<String> saved, List<String> here) {
        for (String n : saved) {
            if (!here.contains(n)) {
                return "holds tensor '" + n + "' in the checkpoint but not here";
            }
        }
        for (String n : here) {
            if (!saved.contains(n)) {
                return "holds tensor '" + n + "' here but not in the checkpoint";
            }
        }
        return "holds its tensors in another order in the checkpoint (" + saved + ") than here (" + here + ")";
    }

    private static void compareOptions(String file, SavedGroup s, GroupOptions here, List<String> differences)
            throws CheckpointException {
        String where = file + ": group '" + s.name() + "'";
        Map<String, Object> o = s.options();
        // maximize turns the run's direction around: resuming with the other one makes no sense. Files written before
        // the option existed (and PyTorch's converter, whose optimizers minimize) do not have it: false.
        boolean maximize = o.containsKey("maximize") && flag(where, o, "maximize");
        if (maximize != here.maximize()) {
            throw new CheckpointException(where + ": maximize is " + maximize + " in the checkpoint but "
                    + here.maximize() + " here (the run would turn round)");
        }
        switch (here) {
            case AdamOptions a -> {
                boolean amsgrad = flag(where, o, "amsgrad");
                if (amsgrad != a.amsgrad()) {
                    throw new CheckpointException(where + ": amsgrad is " + amsgrad + " in the checkpoint but "
                            + a.amsgrad() + " here (the state's meaning differs)");
                }
                noteOption(differences, s.name(), "beta1", number(where, o, "beta1"), a.beta1());
                noteOption(differences, s.name(), "beta2", number(where, o, "beta2"), a.beta2());
                noteOption(differences, s.name(), "eps", number(where, o, "eps"), a.eps());
                noteOption(differences, s.name(), "weight_decay", number(where, o, "weight_decay"), a.weightDecay());
                noteOption(differences, s.name(), "lr_scale", number(where, o, "lr_scale"), a.lrScale());
            }
            case SgdOptions g -> {
                double momentum = number(where, o, "momentum");
                if ((momentum == 0) != (g.momentum() == 0)) {
                    throw new CheckpointException(where + ": momentum is " + momentum + " in the checkpoint but "
                            + g.momentum() + " here (a momentum buffer is kept only with momentum)");
                }
                noteOption(differences, s.name(), "momentum", momentum, g.momentum());
                noteOption(differences, s.name(), "dampening", number(where, o, "dampening"), g.dampening());
                noteOption(differences, s.name(), "weight_decay", number(where, o, "weight_decay"), g.weightDecay());
                boolean nesterov = flag(where, o, "nesterov");
                if (nesterov != g.nesterov()) {
                    differences.add("group '" + s.name() + "': nesterov " + nesterov + " -> " + g.nesterov());
                }
                noteOption(differences, s.name(), "lr_scale", number(where, o, "lr_scale"), g.lrScale());
            }
            default -> {
                List<OptionFields.Field> fields = OptionFields.of(here);
                if (fields == null) {
                    throw new CheckpointException(where + ": options of " + here.getClass().getSimpleName()
                            + " cannot be compared");
                }
                for (OptionFields.Field f : fields) {
                    compareField(where, s.name(), o, f, differences);
                }
                noteOption(differences, s.name(), "lr_scale", number(where, o, "lr_scale"), here.lrScale());
            }
        }
    }

    private static void compareField(String where, String group, Map<String, Object> o, OptionFields.Field f,
                                     List<String> differences) throws CheckpointException {
        if (f.optional()) {
            if (!o.containsKey(f.name())) {
                throw new CheckpointException(where + ": option '" + f.name() + "' missing (a number or null)");
            }
            boolean savedNone = o.get(f.name()) == null;
            if (savedNone != f.none()) {
                String saved = savedNone ? "None" : Double.toString(number(where, o, f.name()));
                String here = f.none() ? "None" : Double.toString(f.number());
                if (f.rule() == OptionFields.Rule.MUST_MATCH) {
                    throw new CheckpointException(where + ": " + f.name() + " is " + saved + " in the checkpoint but "
                            + here + " here (the state's meaning or presence differs)");
                }
                differences.add("group '" + group + "': " + f.name() + " " + saved + " -> " + here);
                return;
            }
            if (savedNone) {
                return;
            }
            noteOption(differences, group, f.name(), number(where, o, f.name()), f.number());
            return;
        }
        if (f.flag() != null) {
            boolean saved = flag(where, o, f.name());
            if (saved != f.flag()) {
                if (f.rule() == OptionFields.Rule.MUST_MATCH) {
                    throw new CheckpointException(where + ": " + f.name() + " is " + saved + " in the checkpoint but "
                            + f.flag() + " here (the state's meaning differs)");
                }
                differences.add("group '" + group + "': " + f.name() + " " + saved + " -> " + f.flag());
            }
            return;
        }
        double saved = number(where, o, f.name());
        boolean refused = switch (f.rule()) {
            case MUST_MATCH -> Double.compare(saved, f.number()) != 0;
            case ZERO_MUST_MATCH -> (saved == 0) != (f.number() == 0);
            case MAY_DIFFER -> false;
        };
        if (refused) {
            throw new CheckpointException(where + ": " + f.name() + " is " + saved + " in the checkpoint but "
                    + f.number() + " here (" + (f.rule() == OptionFields.Rule.ZERO_MUST_MATCH
                    ? "a state buffer is kept only when it is not 0)" : "the state's meaning differs)"));
        }
        noteOption(differences, group, f.name(), saved, f.number());
    }

    private static void noteOption(List<String> differences, String group, String name, double saved, double here) {
        if (Double.compare(saved, here) != 0) {
            differences.add("group '" + group + "': " + name + " " + saved + " -> " + here);
        }
    }

    private static void note(List<String> differences, String name, String saved, String here) {
        if (!saved.equals(here)) {
            differences.add(name + " " + saved + " -> " + here);
        }
    }

    private static SavedGroup group(String file, Object g) throws CheckpointException {
        if (!(g instanceof Map<?, ?> m) || !(m.get("name") instanceof String name)
                || !(m.get("steps") instanceof Json.Num steps) || !steps.isLong() || steps.longValue() < 0
                || !(m.get("options") instanceof Map<?, ?> options)) {
            throw new CheckpointException(file + ": a group in __metadata__ 'groups' lacks a name, a step count >= 0"
                    + " or options: " + g);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> opts = (Map<String, Object>) options;
        return new SavedGroup(name, steps.longValue(), opts,
                strings(file, "tensors of group '" + name + "'", m.get("tensors")), m.get("state"));
    }

    private static double number(String where, Map<String, Object> o, String key) throws CheckpointException {
        if (o.get(key) instanceof String inf && OptionFields.INFINITIES.contains(inf)) {
            return Double.parseDouble(inf); // JSON has no infinity: OptionFields writes it as a string
        }
        if (!(o.get(key) instanceof Json.Num n)) {
            throw new CheckpointException(where + ": option '" + key + "' missing or not a number: " + o.get(key));
        }
        return n.doubleValue();
    }

    private static boolean flag(String where, Map<String, Object> o, String key) throws CheckpointException {
        if (!(o.get(key) instanceof Boolean b)) {
            throw new CheckpointException(where + ": option '" + key + "' missing or not true/false: " + o.get(key));
        }
        return b;
    }

    private static List<String> strings(String file, String what, Object v) throws CheckpointException {
        if (!(v instanceof List<?> list) || !list.stream().allMatch(String.class::isInstance)) {
            throw new CheckpointException(file + ": " + what + " must be a JSON array of strings, got " + v);
        }
        return list.stream().map(String.class::cast).toList();
    }

    static String text(String file, Map<String, String> meta, String key) throws CheckpointException {
        String v = meta.get(key);
        if (v == null) {
            throw new CheckpointException(file + ": __metadata__ has no '" + key + "'");
        }
        return v;
    }

    static long count(String file, Map<String, String> meta, String key) throws CheckpointException {
        String v = text(file, meta, key);
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new CheckpointException(file + ": __metadata__ '" + key + "' must be an integer >= 0, got '" + v + "'");
        }
    }

    private static Object json(String file, Map<String, String> meta, String key) throws CheckpointException {
        try {
            return Json.parse(text(file, meta, key));
        } catch (Json.ParseException e) {
            throw new CheckpointException(file + ": __metadata__ '" + key + "' is not valid JSON: " + e.getMessage());
        }
    }
}
