package vecopt.optim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import vecopt.amp.GradScaler;
import vecopt.check.Require;
import vecopt.clip.Clip;
import vecopt.clip.NonFinite;
import vecopt.clip.NonFiniteGradientException;
import vecopt.exec.ChunkGrid;
import vecopt.exec.WorkerPool;
import vecopt.kernel.BlockCodes;
import vecopt.kernel.Chunk;
import vecopt.kernel.KernelProvider;
import vecopt.kernel.KeyedStep;
import vecopt.kernel.Kernels;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * An optimizer over a {@link ParamSet}: parameter groups, state buffers with the layout of the parameters, and the
 * chunk grid the kernels run on, all built once; {@link #step(double)} then updates every parameter in place in one
 * pass over memory and allocates nothing.
 *
 * <p>One step, as data flows: the gradient guard (a read pass over the gradients for their global norm, when
 * clipping is on or the non-finite policy needs it; then the policy for a NaN or infinity and the clipping
 * coefficient), then each group's per-step scalars are prepared once (lr times the group's {@code lrScale}, bias
 * corrections, the coefficient), then the fused update pass, in which each gradient is multiplied by the coefficient
 * inside the kernel. Both passes run on the optimizer's persistent worker pool over a fixed chunk grid; partial sums
 * are combined in grid order, so parameters, state, norms and reports are bitwise identical for any pool size and for
 * heap or off-heap buffers.
 *
 * <p><b>Fused clipping leaves the gradient buffers unscaled</b>: the coefficient is applied inside the update. Use
 * {@link Clip#byNorm} when you need the clipped gradients themselves.
 *
 * <p><b>Threads.</b> An optimizer is stepped by one thread at a time (any thread, one after another). A call made
 * while another thread is inside {@code step}, {@code localGradSumOfSquares} or {@code close} of the same optimizer
 * throws {@link IllegalStateException} and changes nothing.
 *
 * <pre>{@code
 * try (AdamW opt = AdamW.builder(params).clipGradNorm(1.0).threads(2).build()) {
 *     StepReport r = opt.step(schedule.lr(step));
 * }
 * }</pre>
 *
 * @param <O> the options type of a parameter group
 */
public abstract sealed class Optimizer<O extends GroupOptions> implements AutoCloseable
        permits AdamFamily, Sgd, Adagrad, Rmsprop, Lion, Adamax, NAdam, RAdam, Adadelta,
        Rprop, Asgd, Layerwise, Adafactor,
        ScheduleFreeAdamW {
    private final ParamSet params;
    private final List<ParamGroup<O>> groups;
    private final ParamGroup<O>[] groupArray;
    private final Kernels kernels;
    private final StateBuffers state;
    private final QuantizedState quantized; // 8-bit block-quantized moments, or null
    private final List<String> stateNames; // every state variable, in order (the moments, then a master copy)
    private final Dtype paramType;
    final boolean stochastic; // bfloat16 parameters stored with stochastic rounding, no master copy
    final long roundingSeed;
    final Dtype stateType; // of every state variable but the master copy
    final long stateSeed;
    private final GradientGuard guard;
    private final Storage[] scopesToCheck; // one buffer per distinct arena of the off-heap buffers
    private final String[] scopeRoles;
    private final Chunk[][] items; // the update's work items, each a few chunks run in order by one thread
    private final double[] groupLr;
    private final StepReport report;
    private final WorkerPool pool;
    private final boolean trackNorms;
    private final double[] updateSums; // per chunk: NORM_SLOTS partial sums of squared updates and new params
    private final WorkerPool.Task updateTask;
    private final Tensor[] chunkTensors; // per chunk, in grid order: the tensor of its range (the first, if merged)
    private final int[] itemFirstChunk; // per work item: the grid index of its first chunk
    private final AtomicReference<Thread> owner = new AtomicReference<>(); // the thread inside step, if any
    private long steps;
    private boolean closed;
    private RuntimeException broken; // a kernel failed part-way through an update: state is no longer consistent

    static {
        vecopt.access.Access.setOptimizer(new OptimizerInternals());
    }

    @SuppressWarnings("unchecked")
    Optimizer(Builder<O, ?> b) {
        this.params = b.params;
        this.kernels = b.kernels != null ? b.kernels : b.vectorized ? KernelProvider.kernels() : KernelProvider.scalar();
        this.groups = b.assignment.assign(b.params, b.defaults);
        this.groupArray = groups.toArray(new ParamGroup[0]);
        this.paramType = storageTypes(params, b.trackNorms);
        if (b.stochastic && paramType != Dtype.BFLOAT16) {
            throw new IllegalArgumentException("stochasticRounding: rounds bfloat16 parameters, these are "
                    + paramType.torchName());
        }
        this.stochastic = b.stochastic;
        this.roundingSeed = b.stochasticSeed;
        final boolean keepMaster = paramType != Dtype.FLOAT32 && !stochastic;
        List<String> names = new ArrayList<>(stateNames(groups));
        if (keepMaster) {
            names.add(MASTER);
        }
        if (b.bf16State && b.trackNorms) {
            throw new IllegalArgumentException("trackNorms(true) is not supported with bfloat16 state yet");
        }
        this.stateType = b.bf16State ? Dtype.BFLOAT16 : Dtype.FLOAT32;
        this.stateSeed = b.stateSeed;
        this.stateNames = List.copyOf(names);
        if (b.eightBit) {
            checkEightBit(b);
            // the moments live in QuantizedState; StateBuffers keeps only a master copy, if any
            names = keepMaster ? new ArrayList<>(List.of(MASTER)) : new ArrayList<>();
        }
        List<Dtype> types = new ArrayList<>();
        for (String name : names) {
            types.add(name.equals(MASTER) ? Dtype.FLOAT32 : stateType);
        }
        this.state = new StateBuffers(params, names, types, b.stateArena);
        QuantizedState q = null;
        if (b.eightBit) {
            try {
                List<String> coded = stateNames.stream().filter(n -> !n.equals(MASTER)).toList();
                boolean[] root = new boolean[coded.size()];
                for (int v = 0; v < root.length; v++) {
                    root[v] = eightBitRoot(coded.get(v));
                }
                q = new QuantizedState(params, coded, root, b.eightBitMinSize, b.eightBitCode, b.stateArena);
            } catch (RuntimeException | Error e) {
                state.close();
                throw e;
            }
        }
        this.quantized = q;
        if (keepMaster) { // the master copy starts at the 16-bit values, widened (exactly)
            for (Tensor t : params.tensors()) {
                Storage master = state.of(t.params())[state.names().size() - 1];
                for (long i = t.offset(); i < t.end(); i++) {
                    master.set(i, t.params().get(i));
                }
            }
        }
        for (ParamGroup<O> group : groups) { // state that does not start at 0 (Adagrad's initial_accumulator_value)
            if (quantized != null) { // 8-bit: coded as any state is (a block's scale the value, each code 1)
                for (int v = 0; v < quantized.variables().size(); v++) {
                    float value = initialState(quantized.variables().get(v), group.options());
                    if (value != 0f) {
                        for (Tensor t : group.tensors()) {
                            quantized.fill(t, v, value);
                        }
                    }
                }
            }
            for (String name : state.names()) {
                if (name.equals(MASTER)) {
                    continue; // it starts at the parameters, widened, above
                }
                float value = initialState(name, group.options());
                if (value != 0f) {
                    for (Tensor t : group.tensors()) {
                        state.fill(t, name, value);
                    }
                }
            }
        }
        this.guard = new GradientGuard(params, kernels, b.maxNorm, b.nonFinite, b.checkParams);
        // Buffers are checked per arena, not one by one: a model of 100,000 buffers in one arena is one check a step.
        Map<MemorySegment.Scope, String> scopes = new LinkedHashMap<>();
        Map<MemorySegment.Scope, Storage> representative = new LinkedHashMap<>();
        Set<Storage> seen = Collections.newSetFromMap(new IdentityHashMap<>(params.paramBuffers().size()));
        for (Tensor t : params.tensors()) {
            if (seen.add(t.params())) {
                noteScope(scopes, representative, t.params(), "params", t);
                noteScope(scopes, representative, t.grads(), "grads", t);
                Storage[] s = state.of(t.params());
                for (int i = 0; i < s.length; i++) {
                    noteScope(scopes, representative, s[i], state.names().get(i), t);
                }
            }
        }
        if (quantized != null) {
            for (MemorySegment s : quantized.representatives()) {
                if (!scopes.containsKey(s.scope())) {
                    scopes.put(s.scope(), "8-bit state");
                    representative.put(s.scope(), Storage.wrap(s.asSlice(0, 0)));
                }
            }
        }
        this.scopesToCheck = representative.values().toArray(new Storage[0]);
        this.scopeRoles = new String[scopesToCheck.length];
        for (int i = 0; i < scopesToCheck.length; i++) {
            scopeRoles[i] = scopes.get(scopesToCheck[i].segment().scope());
        }
        List<ChunkGrid.Range> ranges = new ArrayList<>();
        List<Integer> groupOf = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            List<ChunkGrid.Range> cut = quantized != null ? ChunkGrid.cutTensors(groups.get(g).tensors(), ChunkGrid.CHUNK)
                    : ChunkGrid.cut(groups.get(g).tensors(), chunkElements(), !chunksPerTensor());
            for (ChunkGrid.Range r : cut) {
                ranges.add(r);
                groupOf.add(g);
            }
        }
        this.chunkTensors = new Tensor[ranges.size()];
        this.items = ChunkGrid.items(ranges, (r, index, item) -> {
            Tensor t = r.tensor();
            chunkTensors[index] = t;
            if (quantized != null) {
                return quantizedChunk(r, groupOf.get(index), item);
            }
            return new Chunk(t.params().segment(), t.params().dtype(), stochastic, t.grads().segment(),
                    t.grads().dtype(), stateType, state.segments(t.params()), r.start(), r.length(), groupOf.get(index),
                    item);
        });
        this.groupLr = new double[groups.size()];
        this.report = new StepReport(groups.size(), kernels.describe());
        this.trackNorms = b.trackNorms;
        this.updateSums = trackNorms ? new double[Kernels.NORM_SLOTS * items.length] : null;
        final Kernels k = kernels;
        final boolean perItem = chunksPerTensor();
        this.itemFirstChunk = new int[items.length];
        for (int i = 1; i < items.length; i++) {
            itemFirstChunk[i] = itemFirstChunk[i - 1] + items[i - 1].length;
        }
        this.updateTask = i -> {
            if (updateSums != null) {
                Arrays.fill(updateSums, Kernels.NORM_SLOTS * i, Kernels.NORM_SLOTS * (i + 1), 0.0);
            }
            if (perItem) {
                runItem(k, items[i], itemFirstChunk[i], updateSums);
            } else { // the one-pass optimizers keep this call depth: one level more can leave vectors boxed
                for (Chunk c : items[i]) {
                    run(k, c, updateSums);
                }
            }
        };
        WorkerPool p;
        try {
            p = new WorkerPool(b.threads);
        } catch (RuntimeException | Error e) {
            state.close();
            if (quantized != null) {
                quantized.close();
            }
            throw e;
        }
        this.pool = p;
    }

    /** Remembers the first buffer of each off-heap arena, under its role, for the per-step liveness check. */
    private static void noteScope(Map<MemorySegment.Scope, String> roles, Map<MemorySegment.Scope, Storage> first,
                                  Storage buffer, String what, Tensor tensor) {
        if (buffer.isNative()) { // a heap array's scope is always alive and open to every thread
            MemorySegment.Scope scope = buffer.segment().scope();
            if (!roles.containsKey(scope)) { // the role's text made only for a new arena, not for every tensor
                roles.put(scope, what + " of '" + tensor.name() + "'");
                first.put(scope, buffer);
            }
        }
    }

    /** Refuses what 8-bit state does not support, naming it. */
    private void checkEightBit(Builder<O, ?> b) {
        if (!supportsEightBitState() && eightBitNever() != null) {
            throw new IllegalArgumentException("eightBitState: " + getClass().getSimpleName() + " keeps float32"
                    + " or bfloat16 state only: " + eightBitNever());
        }
        if (!supportsEightBitState()) {
            throw new IllegalArgumentException("eightBitState: " + getClass().getSimpleName() + " keeps float32 or"
                    + " bfloat16 state only");
        }
        if (b.eightBitCode == EightBitCode.BITSANDBYTES_DYNAMIC && !(this instanceof AdamFamily)) {
            throw new IllegalArgumentException("eightBitState: bitsandbytes' dynamic maps are for AdamW and Adam's"
                    + " moments; " + getClass().getSimpleName() + " takes EightBitCode.FLOAT_CODES");
        }
        for (ParamGroup<O> g : groups) {
            String refusal = g.tensors().isEmpty() ? null : eightBitRefusal(g.options());
            if (refusal != null) {
                throw new IllegalArgumentException("eightBitState: " + refusal + ": group '" + g.name() + "'");
            }
        }
        if (b.bf16State) {
            throw new IllegalArgumentException("eightBitState and bfloat16State: choose one state type");
        }
        if (b.trackNorms) {
            throw new IllegalArgumentException("trackNorms(true) is not supported with 8-bit state yet");
        }
        for (ParamGroup<O> g : groups) {
            if (g.options() instanceof AdamOptions a && a.amsgrad() && !g.tensors().isEmpty()) {
                throw new IllegalArgumentException("eightBitState: AMSGrad is not supported with 8-bit state (as in"
                        + " bitsandbytes): group '" + g.name() + "' has amsgrad=true");
            }
        }
    }

    /**
     * A chunk over range {@code r} with 8-bit state: the tensor's codes and block scales from the range's first
     * block (ranges start a whole number of chunks, so of blocks, into their tensor); float32 moments for a tensor
     * below the size threshold. A master copy where the parameters keep one.
     */
    private Chunk quantizedChunk(ChunkGrid.Range r, int group, int item) {
        Tensor t = r.tensor();
        QuantizedState.Slot slot = quantized.of(t);
        long at = r.start() - t.offset(); // elements into the tensor
        Storage[] s = state.of(t.params());
        MemorySegment master = s.length == 0 ? null
                : s[0].segment().asSlice(r.start() * Float.BYTES, (long) r.length() * Float.BYTES);
        final int vars = slot.values().length;
        if (!slot.quantized()) {
            MemorySegment[] f = new MemorySegment[master == null ? vars : vars + 1];
            for (int v = 0; v < vars; v++) {
                f[v] = slot.values()[v].asSlice(at * Float.BYTES, (long) r.length() * Float.BYTES);
            }
            if (master != null) {
                f[vars] = master;
            }
            return Chunk.presliced(t.params().segment(), t.params().dtype(), stochastic, t.grads().segment(),
                    t.grads().dtype(), f, r.start(), r.length(), group, item);
        }
        MemorySegment[] codes = new MemorySegment[vars];
        MemorySegment[] scales = new MemorySegment[vars];
        long firstBlock = at / BlockCodes.BLOCK;
        for (int v = 0; v < vars; v++) {
            codes[v] = slot.values()[v].asSlice(at, r.length());
            scales[v] = slot.scales()[v].asSlice(firstBlock * Float.BYTES, QuantizedState.blocks(r.length()) * Float.BYTES);
        }
        return Chunk.quantized(t.params().segment(), t.params().dtype(), stochastic, t.grads().segment(),
                t.grads().dtype(), codes, scales, quantized.roots(), master, r.start(), r.length(), group, item,
                quantized.code() == EightBitCode.BITSANDBYTES_DYNAMIC);
    }

    /**
     * The name of the float32 master copy of 16-bit parameters, the last state variable where the parameters are
     * bfloat16 or float16 (PyTorch keeps none; apex and DeepSpeed call it the master parameters).
     */
    public static final String MASTER = "master_param";

    /**
     * The parameters' storage type, after checking the storage types of the parameters and gradients: one parameter
     * type for all buffers (every optimizer runs on float32, bfloat16 and float16), and no 16-bit storage with
     * {@code trackNorms}.
     */
    private Dtype storageTypes(ParamSet params, boolean trackNorms) {
        Dtype type = null;
        Tensor first = null;
        for (Tensor t : params.tensors()) {
            Dtype p = t.params().dtype(), g = t.grads().dtype();
            if (type == null) {
                type = p;
                first = t;
            } else if (p != type) {
                throw new IllegalArgumentException("params: every parameter buffer of one optimizer must have one dtype,"
                        + " got " + type.torchName() + " for '" + first.name() + "' and " + p.torchName() + " for '"
                        + t.name() + "'");
            }
            if ((p != Dtype.FLOAT32 || g != Dtype.FLOAT32) && trackNorms) {
                throw new IllegalArgumentException("trackNorms(true) is not supported with 16-bit storage yet: tensor '"
                        + t.name() + "' has " + p.torchName() + " parameters and " + g.torchName() + " gradients");
            }
        }
        return type == null ? Dtype.FLOAT32 : type;
    }

    /**
     * Sets {@code step}'s stochastic-rounding keys for update {@code t}: the parameters' with bfloat16 parameters kept
     * without a master copy, the state variables' with bfloat16 state. Every optimizer whose steps round calls it
     * when it prepares a group's step.
     */
    final void roundingKeys(KeyedStep step, long t) {
        step.roundingKeys(roundingSeed, stateSeed, t, stochastic, stateType == Dtype.BFLOAT16);
    }

    /**
     * True for optimizers whose kernels take 8-bit block-quantized state (AdamW, Adam, SGD, Lion, RMSprop, Adagrad,
     * NAdam, RAdam, Adamax, Rprop: {@link #eightBitRefusal} names the variants that do not).
     */
    boolean supportsEightBitState() {
        return false;
    }

    /**
     * Why this optimizer's state is not made 8-bit (one sentence: its state has no sound bound known before the step
     * that is also useful), or null where it is, or may yet be.
     */
    String eightBitNever() {
        return null;
    }

    /**
     * Whether 8-bit state variable {@code stateName} is coded as its square root (the unsigned code of
     * {@code vecopt.kernel.BlockCodes}: a non-negative variable such as exp_avg_sq) rather than as itself (the signed
     * code).
     */
    boolean eightBitRoot(String stateName) {
        return false;
    }

    /**
     * Why a group with these options cannot keep 8-bit state (the start of the message: "RMSprop with momentum keeps
     * ..."), or null where it can: a variant whose state has no bound known before the step.
     */
    String eightBitRefusal(O options) {
        return null;
    }

    /** PyTorch's names of the state variables these groups need, in buffer order. */
    abstract List<String> stateNames(List<ParamGroup<O>> groups);

    /**
     * The value state variable {@code stateName} starts at for a group with these options (0 unless an optimizer
     * says otherwise). Called while the optimizer is being built: it may read only its arguments.
     */
    float initialState(String stateName, O options) {
        return 0f;
    }

    /**
     * For optimizers whose kernels have no tracked loop yet (the update and parameter norms of {@code trackNorms}):
     * refuses the option, naming the optimizer, rather than reporting norms it did not compute.
     */
    static <B extends Builder<?, ?>> B untracked(B b, String optimizer) {
        if (((Builder<?, ?>) b).trackNorms) { // the cast: a private field is not reachable through a type variable
            throw new IllegalArgumentException("trackNorms(true) is not supported for " + optimizer + " yet (AdamW,"
                    + " Adam and SGD support it): build it with trackNorms(false)");
        }
        return b;
    }

    /**
     * Prepares group {@code group}'s step: learning rate {@code lr}, update number {@code t}, gradient factor
     * (the clipping coefficient, or 1; negative when the group maximizes).
     */
    abstract void prepare(int group, O options, double lr, long t, double gradScale);

    /** Runs the kernel on one chunk with the step prepared for its group; {@code norms} as in {@link Kernels#adam}. */
    abstract void run(Kernels kernels, Chunk chunk, double[] norms);

    /**
     * PyTorch's names of the scalar state this optimizer keeps per group (PyTorch keeps one per tensor, all equal
     * within a group that steps together): NAdam's {@code mu_product}, ASGD's {@code eta} and {@code mu}; none for
     * the others. Checkpoints and {@link #continueFrom} carry them with the per-element state.
     */
    List<String> scalarStateNames() {
        return List.of();
    }

    /** Group {@code group}'s value of scalar state {@code name} (one of {@link #scalarStateNames()}). */
    double scalarState(int group, String name) {
        throw new IllegalArgumentException(getClass().getSimpleName() + " keeps no scalar state '" + name + "'");
    }

    /** Sets group {@code group}'s scalar state from {@code values}, in {@link #scalarStateNames()} order. */
    void restoreScalarState(int group, double[] values) {
        if (values.length != 0) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " keeps no scalar state");
        }
    }

    /**
     * Runs one work item's chunks in order, the first being chunk {@code firstChunk} of the grid: for the
     * optimizers with {@link #chunksPerTensor()}, whose per-chunk sums need to know which chunk they run (the others'
     * chunks are run by {@link #run} directly).
     */
    void runItem(Kernels kernels, Chunk[] item, int firstChunk, double[] norms) {
        for (Chunk c : item) {
            run(kernels, c, norms);
        }
    }

    /**
     * Elements per chunk of this optimizer's grid: {@link ChunkGrid#CHUNK}, or a multiple of it for an optimizer whose
     * partial sums cost per chunk (Adafactor's column sums). Like the grid, independent of the thread count. Called
     * while the optimizer is being built: it may read nothing of the subclass.
     */
    int chunkElements() {
        return ChunkGrid.CHUNK;
    }

    /**
     * Whether every chunk must lie in one tensor (adjacent tensors of a buffer not merged into one range): for
     * per-tensor sums. Called while the optimizer is being built: it may read nothing of the subclass.
     */
    boolean chunksPerTensor() {
        return false;
    }

    /**
     * Passes the update makes over the chunk grid: 1, or 2 for the layer-wise optimizers (per-tensor norms in the
     * first, the update with each tensor's trust ratio in the second). {@link #beforePass} runs on the stepping
     * thread before each.
     */
    int passes() {
        return 1;
    }

    /** Called on the stepping thread before pass {@code pass} (0-based) of an update runs on the pool. */
    void beforePass(int pass) {
    }

    /** Per chunk of the grid, in grid order: its tensor (with {@link #chunksPerTensor()}, exactly its tensor). */
    Tensor[] chunkTensors() {
        return chunkTensors;
    }

    /** The chunks of the grid, in grid order (the order of {@link #chunkTensors()}). */
    Chunk[] chunks() {
        Chunk[] out = new Chunk[chunkTensors.length];
        for (int i = 0; i < items.length; i++) {
            System.arraycopy(items[i], 0, out, itemFirstChunk[i], items[i].length);
        }
        return out;
    }

    /**
     * For optimizers with state beyond the per-element buffers (Adafactor's factored moments): checks that
     * {@code previous}'s state of the {@code shared} tensors can be taken over, throwing naming what differs; then,
     * when {@code copy}, takes it over. {@link #continueFrom} calls it to check before anything is copied, and to
     * copy after the buffers were.
     */
    void continueExtraState(Optimizer<?> previous, List<Tensor> shared, boolean copy) {
    }

    /** PyTorch's names of the state variables this optimizer keeps (e.g. {@code exp_avg}, {@code exp_avg_sq}). */
    public List<String> stateNames() {
        return stateNames;
    }

    /** Whether the moments are kept as 8-bit block-quantized codes ({@link Builder#eightBitState()}). */
    public boolean eightBitState() {
        return quantized != null;
    }

    /** The code of the 8-bit state ({@link Builder#eightBitState(EightBitCode, int)}), or null without 8-bit state. */
    public EightBitCode eightBitCode() {
        return quantized == null ? null : quantized.code();
    }

    /**
     * Bytes of optimizer state this optimizer holds: its state variables (a master copy included), and with 8-bit
     * state the codes, block scales and the small tensors' float32 moments.
     */
    public long stateBytes() {
        long n = 0;
        for (Storage p : params.paramBuffers()) {
            for (Storage s : state.of(p)) {
                n += s.length() * s.dtype().bytes();
            }
        }
        return n + (quantized != null ? quantized.bytes() : 0);
    }

    /**
     * State variable {@code stateName} of tensor {@code tensorName} as floats, whatever its storage: a copy of
     * float32 state, bfloat16 widened, 8-bit codes decoded ({@code exp_avg_sq} as the square of its decoded square
     * root). For inspection and tests; it allocates.
     */
    public float[] stateValues(String tensorName, String stateName) {
        Tensor t = params.tensor(tensorName);
        int v = stateNames.indexOf(stateName);
        if (v < 0) {
            throw new IllegalArgumentException("stateName must be one of " + stateNames + ", got '" + stateName + "'");
        }
        if (quantized != null && !stateName.equals(MASTER)) {
            return quantized.values(t, v);
        }
        Storage s = state.of(t.params())[state.names().indexOf(stateName)];
        float[] out = new float[Math.toIntExact(t.length())];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.get(t.offset() + i);
        }
        return out;
    }

    /**
     * Applies one update with learning rate {@code lr} (times each group's {@code lrScale}), with the clipping and
     * non-finite policy this optimizer was built with.
     *
     * <p>Everything is checked before the first element is written: {@code lr} must be finite and >= 0 (and fit a
     * float once scaled), and every buffer open and accessible from the threads that will touch it.
     *
     * @return this optimizer's report, overwritten by the next step
     * @throws NonFiniteGradientException when a gradient is NaN or infinite and the policy is {@code THROW}
     * @throws StepFailedException when a kernel failed (a bug: input errors are all caught before this point); the
     *         update may be partly applied, and the optimizer refuses further steps
     */
    public final StepReport step(double lr) {
        enter();
        try {
            checkReady();
            checkStep();
            prepareLrs(lr);
            if (!guard.admit(pool)) {
                return skip();
            }
            return update(guard.norm(), guard.coefficient(), guard.coefficient(), guard.ran());
        } finally {
            leave();
        }
    }

    /**
     * One update from gradients scaled by {@code scaler.scale()} (the loss was multiplied by it before the backward
     * pass), as PyTorch's {@code scaler.step(opt); scaler.update()}: the gradients are unscaled inside the update (the
     * reciprocal of the scale folded into the clipping multiplier: no extra pass), the global norm and the clipping
     * are those of the unscaled gradients, a NaN or infinite gradient skips the step (nothing written, whatever the
     * non-finite policy) and backs the scale off; then the scaler is updated.
     *
     * <pre>{@code
     * model.backward(loss * scaler.scale());
     * StepReport r = opt.step(schedule.lr(step), scaler);   // r.lossScale(): the scale this step unscaled by
     * }</pre>
     */
    public final StepReport step(double lr, GradScaler scaler) {
        java.util.Objects.requireNonNull(scaler, "scaler");
        enter();
        try {
            checkReady();
            checkStep();
            prepareLrs(lr);
            double scale = scaler.scale(), unscale = 1.0 / scale;
            StepReport r;
            if (!guard.admit(pool, unscale, true)) {
                r = skip();
            } else {
                // coefficient x (1 / scale) rounds to float as the coefficient alone would, scaled by a power of two:
                // what PyTorch's unscale_ (exact) then clip_grad_norm_'s multiplication give, in one multiplication.
                r = update(guard.norm(), guard.coefficient(), guard.coefficient() * unscale, true);
            }
            r.lossScale = scale;
            scaler.update(guard.foundInf());
            return r;
        } finally {
            leave();
        }
    }

    /**
     * Applies one update with the gradients multiplied by {@code gradScale}, computed elsewhere: the second half of
     * a data-parallel step, where each rank contributes {@link #localGradSumOfSquares()} to a global norm and every
     * rank then applies the same coefficient ({@link Clip#coefficient}). No norm pass and no non-finite check is made
     * here: that decision belongs with the global norm.
     */
    public final StepReport step(double lr, double gradScale) {
        Require.nonNegative("gradScale", gradScale);
        enter();
        try {
            checkReady();
            checkStep();
            prepareLrs(lr);
            return update(Double.NaN, gradScale, gradScale, false);
        } finally {
            leave();
        }
    }

    /**
     * The sum of squared gradients over this optimizer's parameters (this rank's shards), computed on the pool with
     * the same grid and order as a step's norm pass and as {@link vecopt.clip.GlobalNorm#sumOfSquares}. For data
     * parallelism: add the ranks' sums, check the total is finite (skip the step everywhere if not), take the square
     * root, and pass {@link Clip#coefficient} of it to every rank's {@link #step(double, double)}.
     */
    public final double localGradSumOfSquares() {
        enter();
        try {
            checkReady();
            return guard.sumOfSquares(pool);
        } finally {
            leave();
        }
    }

    void enter() {
        Thread self = Thread.currentThread();
        if (!owner.compareAndSet(null, self)) {
            Thread other = owner.get();
            throw new IllegalStateException("thread '" + self.getName() + "' called this optimizer while thread '"
                    + (other == null ? "?" : other.getName()) + "' is inside it: step it from one thread at a time");
        }
    }

    void leave() {
        owner.set(null);
    }

    void checkReady() {
        if (closed) {
            throw new IllegalStateException("optimizer is closed");
        }
        if (broken != null) {
            throw new IllegalStateException("an earlier step failed part-way through the update (" + broken
                    + "): parameters and state are no longer consistent; rebuild the optimizer from a checkpoint",
                    broken);
        }
        Thread self = Thread.currentThread();
        for (int i = 0; i < scopesToCheck.length; i++) {
            scopesToCheck[i].checkUsable(scopeRoles[i], self);
            for (int w = 0; w < pool.workers(); w++) {
                scopesToCheck[i].checkUsable(scopeRoles[i], pool.worker(w));
            }
        }
    }

    /**
     * An optimizer's own refusal of a step, checked after {@link #checkReady()} and before anything is computed or
     * written (schedule-free AdamW refuses a step in eval mode, as the original raises); nothing by default.
     */
    void checkStep() {
    }

    /**
     * Runs {@link #run} over the whole grid on the pool outside a step, with the guard held (schedule-free AdamW's
     * train/eval switch, which moves every parameter). A kernel failure breaks the optimizer as in a step.
     */
    final void runPass() {
        try {
            pool.run(items.length, updateTask);
        } catch (WorkerPool.WorkerException e) {
            broken = new StepFailedException(e.getCause()); // some chunks were moved and some not
            throw broken;
        }
    }

    /** Each group's lr (step lr times its lrScale), all checked before any is kept. */
    private void prepareLrs(double lr) {
        Require.nonNegative("lr", lr);
        for (ParamGroup<O> group : groupArray) {
            double groupLr = lr * group.options().lrScale();
            if (!(groupLr <= Float.MAX_VALUE)) { // the kernels compute in float: an lr that overflows it is not an lr
                throw new IllegalArgumentException("lr * lrScale of group '" + group.name()
                        + "' must fit a float, got " + groupLr);
            }
        }
        for (int g = 0; g < groupArray.length; g++) {
            groupLr[g] = lr * groupArray[g].options().lrScale();
        }
    }

    /** The update with the gradients multiplied by {@code multiplier}; {@code coef} is the clipping's, reported. */
    private StepReport update(double norm, double coef, double multiplier, boolean computed) {
        for (int g = 0; g < groupArray.length; g++) {
            O o = groupArray[g].options();
            // maximize: the gradient negated first, as PyTorch does, through the sign of its factor (exact)
            prepare(g, o, groupLr[g], groupArray[g].steps + 1, o.maximize() ? -multiplier : multiplier);
        }
        try {
            for (int pass = 0, n = passes(); pass < n; pass++) {
                beforePass(pass);
                pool.run(items.length, updateTask);
            }
        } catch (WorkerPool.WorkerException e) {
            broken = new StepFailedException(e.getCause()); // some chunks were updated and some not
            throw broken;
        }
        for (ParamGroup<O> group : groupArray) {
            group.steps++;
        }
        report.step = ++steps;
        report.skipped = false;
        report.nonFiniteParams = false;
        report.gradNormComputed = computed;
        report.normsTracked = trackNorms;
        report.gradNorm = norm;
        report.clipCoef = coef;
        report.lossScale = Double.NaN;
        report.updateNorm = trackNorms ? Math.sqrt(sumSlots(updateSums, 0)) : Double.NaN;
        report.paramNorm = trackNorms ? Math.sqrt(sumSlots(updateSums, Kernels.NORM_SLOTS / 2)) : Double.NaN;
        System.arraycopy(groupLr, 0, report.groupLr, 0, groupLr.length);
        return report;
    }

    private StepReport skip() {
        report.skipped = true;
        report.skippedSteps++;
        report.nonFiniteParams = !guard.paramsFinite();
        report.gradNormComputed = true;
        report.normsTracked = false;
        report.gradNorm = guard.norm();
        report.clipCoef = Double.NaN;
        report.lossScale = Double.NaN;
        report.updateNorm = Double.NaN;
        report.paramNorm = Double.NaN;
        System.arraycopy(groupLr, 0, report.groupLr, 0, groupLr.length);
        return report;
    }

    /** Adds the half-rows of slots starting at {@code from} in each chunk's {@link Kernels#NORM_SLOTS}, in order. */
    private static double sumSlots(double[] slots, int from) {
        double s = 0;
        for (int c = 0; c < slots.length; c += Kernels.NORM_SLOTS) {
            for (int i = c + from; i < c + from + Kernels.NORM_SLOTS / 2; i++) {
                s += slots[i];
            }
        }
        return s;
    }

    /** The global-norm clipping bound ({@link Builder#clipGradNorm}), or 0 when this optimizer does not clip. */
    public double clipGradNorm() {
        return guard.maxNorm();
    }

    /** Threads this optimizer steps with (the caller included). */
    public int threads() {
        return pool.size();
    }

    /**
     * The kernels an optimizer built now (with {@code vectorized(true)}, the default) runs in this JVM, e.g.
     * "Panama FloatVector 512-bit (16 lanes)", or "scalar (Vector API not used)" when the Vector API module is
     * missing (7 to 25 times slower; a warning is logged once).
     */
    public static String defaultKernels() {
        return KernelProvider.kernels().describe();
    }

    /** Updates applied so far. */
    public long steps() {
        return steps;
    }

    /** The parameter groups, the default group first. */
    public List<ParamGroup<O>> groups() {
        return groups;
    }

    /** The group called {@code name}; throws if there is none. */
    public ParamGroup<O> group(String name) {
        for (ParamGroup<O> g : groups) {
            if (g.name().equals(name)) {
                return g;
            }
        }
        throw new IllegalArgumentException("no parameter group named '" + name + "'");
    }

    public ParamSet params() {
        return params;
    }

    /**
     * A read-only view of state variable {@code stateName} (one of {@link #stateNames()}) for tensor
     * {@code tensorName}: the tensor's range of the state buffer, as floats (or as bfloat16 bits where
     * {@link #stateType(String)} says so).
     */
    public MemorySegment state(String tensorName, String stateName) {
        requireUnquantized(stateName);
        return state.view(params.tensor(tensorName), stateName);
    }

    private void requireUnquantized(String stateName) {
        if (quantized != null && stateNames.contains(stateName) && !stateName.equals(MASTER)) {
            throw new IllegalArgumentException("state '" + stateName + "' is 8-bit block-quantized: read it with"
                    + " stateValues(tensor, state)");
        }
    }

    /** The element type of state variable {@code stateName}: float32, or bfloat16 under {@code bfloat16State}. */
    public Dtype stateType(String stateName) {
        requireUnquantized(stateName);
        return state.type(stateName);
    }

    /**
     * The per-element state buffers of parameter buffer {@code buffer}, in {@link #bufferStateNames()} order, for
     * checkpoints (through {@link OptimizerInternals}); with 8-bit state only a master copy, if any.
     */
    Storage[] stateOf(Storage buffer) {
        return state.of(buffer);
    }

    /** The names of the per-element state buffers: {@link #stateNames()} but for 8-bit moments and factored state. */
    List<String> bufferStateNames() {
        return state.names();
    }

    /** The 8-bit state's size threshold, or 0 without 8-bit state. */
    int eightBitMinSize() {
        return quantized == null ? 0 : quantized.minSize();
    }

    /** The 8-bit state's variables, in state order; empty without 8-bit state. */
    List<String> eightBitVariables() {
        return quantized == null ? List.of() : quantized.variables();
    }

    /** Per 8-bit variable, whether it is coded as its square root; empty without 8-bit state. */
    boolean[] eightBitRoots() {
        return quantized == null ? new boolean[0] : quantized.roots();
    }

    /** Tensor {@code t}'s 8-bit moments (codes and scales, or floats below the threshold); 8-bit state only. */
    QuantizedState.Slot eightBitSlot(Tensor t) {
        if (quantized == null) {
            throw new IllegalStateException("no 8-bit state");
        }
        return quantized.of(t);
    }

    /**
     * State of tensor {@code t} outside the per-element buffers, by Hugging Face's names, as live float memory
     * (Adafactor's factored moments and RMS); none by default.
     */
    Map<String, MemorySegment> factoredState(Tensor t) {
        return Map.of();
    }

    GradientGuard guard() {
        return guard;
    }

    StepReport report() {
        return report;
    }

    /** Sets the counters a checkpoint restores; called with the guard held, after the buffers were loaded. */
    void restoreCounters(long steps, long skippedSteps, long[] groupSteps) {
        for (int g = 0; g < groupArray.length; g++) {
            groupArray[g].steps = groupSteps[g];
        }
        this.steps = steps;
        report.step = steps;
        report.skippedSteps = skippedSteps;
    }

    /**
     * Takes over the training state of {@code previous}, an optimizer of the same kind over (partly) other buffers:
     * for every tensor of this optimizer that {@code previous} also has (same name), its state variables
     * ({@link #stateNames()}) are copied; the step counter and the scalar state (NAdam's {@code mu_product},
     * ASGD's {@code eta} and {@code mu}) of every group come from {@code previous}'s group of the same name, and the
     * optimizer's step and skipped-step counts from {@code previous}. Tensors {@code previous} does not have keep
     * zeroed state. The next {@link #step(double)} is then the one {@code previous} would have
     * taken, bit for bit, for the tensors both have.
     *
     * <p>For a trainer whose tensors moved in memory (an autograd stack that swapped a parameter's storage): build an
     * optimizer with the same options over the new buffers, call this, and close {@code previous}.
     *
     * <pre>{@code
     * AdamW moved = AdamW.builder(setOverNewBuffers).options(options).build();
     * moved.continueFrom(old);   // state and counters, before the first step of moved
     * old.close();
     * }</pre>
     *
     * <p>8-bit block-quantized state ({@link Builder#eightBitState()}) follows the rule of checkpoints: between two
     * 8-bit optimizers of one size threshold each tensor's codes and block scales are copied as they are (a tensor's
     * blocks are counted from its own first element, so they line up wherever it sits in its buffer); from 8-bit
     * into float32 state they are decoded, exactly the values the 8-bit step computes from them; from float32 (or
     * bfloat16) into 8-bit state, which would quantize, and into bfloat16 state, which would round, it is refused.
     * bfloat16 state ({@link Builder#bfloat16State}) carries into float32 state widened, exactly.
     *
     * <p>Everything is checked before anything is copied: {@code previous} must be of the same class, open, with the
     * same state variables and a group for each of this optimizer's group names, each shared tensor of the same
     * length, and this optimizer must not have stepped yet.
     */
    public final void continueFrom(Optimizer<?> previous) {
        Objects.requireNonNull(previous, "previous");
        if (previous == this) {
            throw new IllegalArgumentException("an optimizer cannot continue from itself");
        }
        if (previous.getClass() != getClass()) {
            throw new IllegalArgumentException("previous is a " + previous.getClass().getSimpleName() + ", this is a "
                    + getClass().getSimpleName() + ": state is only carried over between optimizers of one kind");
        }
        enter();
        try {
            previous.enter();
            try {
                checkReady();
                if (previous.closed) {
                    throw new IllegalStateException("previous optimizer is closed: its state is freed");
                }
                if (previous.broken != null) {
                    throw new IllegalStateException("previous optimizer failed part-way through a step ("
                            + previous.broken + "): its state is not consistent enough to continue from");
                }
                if (steps != 0 || report.skippedSteps != 0) {
                    throw new IllegalStateException("continueFrom must come before this optimizer's first step, but it"
                            + " has taken " + steps + " steps and skipped " + report.skippedSteps);
                }
                // 8-bit follows the checkpoints' rule: codes and scales carried as they are between two 8-bit
                // optimizers of one threshold, decoded exactly into float32 state, never quantized from float32
                boolean decode = previous.quantized != null && quantized == null;
                if (quantized != null && previous.quantized == null) {
                    throw new IllegalArgumentException("previous keeps " + previous.stateType.torchName() + " state,"
                            + " this optimizer 8-bit block-quantized state: carrying it over would quantize it (refused,"
                            + " as a checkpoint's float32 state is refused by 8-bit state)");
                }
                if (quantized != null && quantized.code() != previous.quantized.code()) {
                    throw new IllegalArgumentException("8-bit codes differ: this optimizer codes its state as "
                            + quantized.code() + ", previous as " + previous.quantized.code() + " (carrying the codes"
                            + " over would misread them; recoding would quantize again)");
                }
                if (quantized != null && quantized.minSize() != previous.quantized.minSize()) {
                    throw new IllegalArgumentException("8-bit state thresholds differ: this optimizer keeps tensors of"
                            + " fewer than " + quantized.minSize() + " elements in float32, previous fewer than "
                            + previous.quantized.minSize() + " (a tensor between would change kind)");
                }
                // bfloat16 into float32 state is widened, exactly (a checkpoint's bfloat16 state loads so too)
                boolean widen = previous.quantized == null && quantized == null
                        && previous.stateType == Dtype.BFLOAT16 && stateType == Dtype.FLOAT32;
                if (decode || widen ? stateType != Dtype.FLOAT32 : stateType != previous.stateType) {
                    throw new IllegalArgumentException("state types differ: this optimizer keeps "
                            + stateType.torchName() + " state, previous keeps " + (previous.quantized != null
                            ? "8-bit block-quantized" : previous.stateType.torchName()) + " state" + (decode
                            ? " (decoding the codes gives floats: bfloat16 would round them)" : ""));
                }
                if (!stateNames.equals(previous.stateNames)) {
                    throw new IllegalArgumentException("state variables differ: this optimizer keeps " + stateNames
                            + ", previous keeps " + previous.stateNames + " (AMSGrad on in one of them only?)");
                }
                long[] groupSteps = new long[groupArray.length];
                List<String> scalars = scalarStateNames();
                double[][] groupScalars = new double[groupArray.length][scalars.size()];
                for (int g = 0; g < groupArray.length; g++) {
                    ParamGroup<?> before = previous.group(groupArray[g].name()); // throws naming a missing group
                    groupSteps[g] = before.steps;
                    for (int i = 0; i < scalars.size(); i++) {
                        groupScalars[g][i] = previous.scalarState(previous.groups.indexOf(before), scalars.get(i));
                    }
                }
                List<Tensor> shared = new ArrayList<>();
                for (Tensor t : params.tensors()) {
                    if (previous.params.contains(t.name())) {
                        Tensor before = previous.params.tensor(t.name());
                        if (before.length() != t.length()) {
                            throw new IllegalArgumentException("tensor '" + t.name() + "' has " + t.length()
                                    + " elements here and " + before.length() + " in previous");
                        }
                        shared.add(t);
                    }
                }
                continueExtraState(previous, shared, false);
                for (Tensor t : shared) {
                    Tensor before = previous.params.tensor(t.name());
                    Storage[] to = state.of(t.params());
                    for (int i = 0; i < to.length; i++) {
                        String name = state.names().get(i);
                        if (decode && !name.equals(MASTER)) { // exp_avg, exp_avg_sq: the values the 8-bit step uses
                            float[] values = previous.quantized.values(before, previous.stateNames.indexOf(name));
                            MemorySegment.copy(values, 0, to[i].segment(), ValueLayout.JAVA_FLOAT_UNALIGNED,
                                    t.offset() * Float.BYTES, values.length);
                            continue;
                        }
                        if (widen && !name.equals(MASTER)) {
                            MemorySegment from = previous.state.view(before, name);
                            for (long e = 0; e < t.length(); e++) {
                                to[i].segment().set(ValueLayout.JAVA_FLOAT_UNALIGNED, (t.offset() + e) * Float.BYTES,
                                        vecopt.memory.BFloat16.widen(from.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, e)));
                            }
                            continue;
                        }
                        final int size = to[i].dtype().bytes();
                        MemorySegment.copy(previous.state.view(before, name), 0, to[i].segment(),
                                t.offset() * size, t.length() * size);
                    }
                    if (quantized != null) { // the blocks line up: each tensor's are counted from its first element
                        QuantizedState.Slot here = quantized.of(t), there = previous.quantized.of(before);
                        for (int v = 0; v < here.values().length; v++) {
                            MemorySegment.copy(there.values()[v], 0, here.values()[v], 0, here.values()[v].byteSize());
                            if (here.quantized()) {
                                MemorySegment.copy(there.scales()[v], 0, here.scales()[v], 0,
                                        here.scales()[v].byteSize());
                            }
                        }
                    }
                }
                continueExtraState(previous, shared, true);
                for (int g = 0; g < groupArray.length; g++) {
                    groupArray[g].steps = groupSteps[g];
                    restoreScalarState(g, groupScalars[g]);
                }
                steps = previous.steps;
                report.step = previous.steps;
                report.skippedSteps = previous.report.skippedSteps;
            } finally {
                previous.leave();
            }
        } finally {
            leave();
        }
    }

    /** Stops the worker pool and frees the state this optimizer allocated (if it owns its arena). */
    @Override
    public void close() {
        enter();
        try {
            if (!closed) {
                closed = true;
                pool.close();
                state.close();
                if (quantized != null) {
                    quantized.close();
                }
            }
        } finally {
            leave();
        }
    }

    /**
     * Collects the parameter set, the default options and any extra groups, and the step's settings. A tensor goes
     * to the one group whose selector matches it, or to the group named "default" (always group 0) when none does.
     */
    public abstract static sealed class Builder<O extends GroupOptions, B extends Builder<O, B>>
            permits AdamW.Builder, Adam.Builder, Sgd.Builder, Adagrad.Builder,
            Rmsprop.Builder, Lion.Builder, Adamax.Builder, NAdam.Builder, RAdam.Builder, Adadelta.Builder,
            Rprop.Builder, Asgd.Builder, Lamb.Builder, Lars.Builder, Adafactor.Builder,
            ScheduleFreeAdamW.Builder {
        private final ParamSet params;
        private O defaults;
        private final GroupAssignment<O> assignment = new GroupAssignment<>();
        private Arena stateArena;
        private Kernels kernels; // set by same-package tests only (to inject a failing kernel)
        private boolean vectorized = true;
        private int threads = Runtime.getRuntime().availableProcessors();
        private double maxNorm;
        private NonFinite nonFinite = NonFinite.SKIP;
        private boolean trackNorms;
        private boolean checkParams;
        private boolean stochastic;
        private long stochasticSeed;
        private boolean bf16State;
        private long stateSeed;
        private boolean eightBit;
        private int eightBitMinSize = QuantizedState.DEFAULT_MIN_SIZE;
        private EightBitCode eightBitCode = EightBitCode.FLOAT_CODES;

        Builder(ParamSet params, O defaults) {
            this.params = Objects.requireNonNull(params, "params");
            this.defaults = defaults;
        }

        @SuppressWarnings("unchecked")
        private B self() {
            return (B) this;
        }

        /** The options of the default group. */
        public B options(O options) {
            this.defaults = Require.notNull("options", options);
            return self();
        }

        /** A group with its own options for the tensors {@code which} selects, e.g. {@code t -> t.name().endsWith("bias")}. */
        public B group(String name, O options, Predicate<Tensor> which) {
            assignment.add(Require.notNull("name", name), Require.notNull("options", options),
                    Require.notNull("which", which));
            return self();
        }

        /** A group with its own options for the named tensors. */
        public B group(String name, O options, String... tensorNames) {
            Set<String> names = new HashSet<>(List.of(tensorNames));
            for (String n : names) {
                params.tensor(n); // throws, naming it, when there is no such tensor
            }
            return group(name, options, t -> names.contains(t.name()));
        }

        /** Allocate off-heap state from this arena (which must outlive the optimizer) instead of an owned one. */
        public B stateArena(Arena arena) {
            this.stateArena = Require.notNull("arena", arena);
            return self();
        }

        /**
         * False runs the scalar kernels instead of the SIMD ones (to compare or to debug: they give the same
         * parameters and state bit for bit, and norms to rounding). Default true.
         */
        public B vectorized(boolean vectorized) {
            this.vectorized = vectorized;
            return self();
        }

        B kernels(Kernels kernels) {
            this.kernels = kernels;
            return self();
        }

        /** Threads a step runs on, the caller's included (default: available processors; 1 runs inline). */
        public B threads(int threads) {
            this.threads = (int) Require.atLeast("threads", threads, 1);
            return self();
        }

        /**
         * Clip gradients by their global L2 norm, fused into the update: coefficient
         * {@code min(1, maxNorm / (norm + 1e-6))} as in PyTorch's {@code clip_grad_norm_}. The gradient buffers are
         * left unscaled.
         */
        public B clipGradNorm(double maxNorm) {
            this.maxNorm = Require.positive("maxNorm", maxNorm);
            return self();
        }

        /** What to do with NaN or infinite gradients (default {@link NonFinite#SKIP}). */
        public B onNonFinite(NonFinite policy) {
            this.nonFinite = Require.notNull("policy", policy);
            return self();
        }

        /**
         * Also check that every parameter is finite before each update, in the gradient guard's read pass (which
         * then reads the parameters too: 4 more bytes per parameter). A NaN or infinite parameter is handled by the
         * {@link #onNonFinite} policy as a bad gradient is: THROW names the tensor, SKIP leaves everything as it is
         * and reports {@link StepReport#nonFiniteParams()}, PROCEED updates anyway. Default off, as in PyTorch.
         */
        public B checkParams(boolean check) {
            this.checkParams = check;
            return self();
        }

        /** Also compute the update norm and the parameter norm, in the update pass, for the report. */
        public B trackNorms(boolean track) {
            this.trackNorms = track;
            return self();
        }

        /**
         * For bfloat16 parameters: keep no float32 master copy, and store each updated parameter rounded
         * stochastically (up or down with the chance that makes the expected value exact, as torchao's
         * {@code bf16_stochastic_round}), so that updates smaller than half a bfloat16 unit still move the
         * parameters on average. The random numbers are a hash of {@code seed}, the step number and the element's
         * index: a run is bitwise reproducible for any thread count and for heap or off-heap memory. Saves the
         * master copy's 4 bytes per parameter of memory and 8 bytes per parameter of traffic a step.
         *
         * <pre>{@code
         * AdamW opt = AdamW.builder(bf16Params).stochasticRounding(42).build();
         * }</pre>
         */
        public B stochasticRounding(long seed) {
            this.stochasticSeed = seed;
            this.stochastic = true;
            return self();
        }

        /**
         * Keeps the optimizer state (the moments; not a master copy) as bfloat16, 2 bytes per value instead of 4,
         * rounded stochastically each step so that it stays unbiased: with round-to-nearest, an {@code exp_avg_sq}
         * decaying by {@code beta2 = 0.999} changes by less than half a bfloat16 unit and would not change at all.
         * AdamW, Adam and LAMB update with the stored (rounded) moments, as PyTorch's does when its state is
         * bfloat16 (LAMB's second pass recomputes the update from the stored moments, so its norm pass takes them as
         * stored too); the other optimizers (SGD, Adagrad, RMSprop, Adamax, NAdam, RAdam, ASGD, Rprop, Adadelta, Lion,
         * schedule-free AdamW, LARS) update with the new state as computed in float32 and store it rounded, as 8-bit
         * optimizers do, so that their step is bit for bit the float32 step on the state they read. The random
         * numbers are a hash of {@code seed}, the step, the variable and the element's index: reproducible bit for
         * bit for any thread count and for heap or off-heap memory. Adafactor stores {@code exp_avg} and a 1-D tensor's
         * {@code exp_avg_sq} so (its factored rows and columns stay float32) and applies the stored
         * {@code exp_avg_sq}, which its third pass reads back.
         *
         * <pre>{@code
         * AdamW opt = AdamW.builder(params).bfloat16State(7).build();   // 4 bytes of state per parameter
         * Lion lion = Lion.builder(params).bfloat16State(7).build();    // 2 bytes of state per parameter
         * }</pre>
         */
        public B bfloat16State(long seed) {
            this.bf16State = true;
            this.stateSeed = seed;
            return self();
        }

        /**
         * Keeps the moments as 8-bit block-quantized codes (see {@code vecopt.kernel.BlockCodes}): exp_avg in a
         * signed 8-bit float code and the square root of exp_avg_sq in an unsigned one, each with a float32 scale per
         * block of 256 elements of a tensor, about 2.03 bytes of state per parameter instead of 8. Each step decodes
         * the moments, updates them and the parameters in float32, and codes the new moments against a bound on their
         * block's new largest magnitude known before the step, in the same pass. Tensors of fewer than 4096 elements (bitsandbytes'
         * {@code min_8bit_size}) keep float32 moments. AdamW and Adam, without AMSGrad. Also SGD with momentum
         * ({@code momentum_buffer}), Lion ({@code exp_avg}), RMSprop without momentum ({@code square_avg} as its
         * square root, centered's {@code grad_avg}), Adagrad ({@code sum} as its square root), NAdam and RAdam
         * (Adam's moments), Adamax ({@code exp_avg}, {@code exp_inf} as its square root) and Rprop ({@code prev},
         * {@code step_size} as its square root), each block's scale a bound on its new values known before the
         * step; LAMB ({@code mu}, {@code nu} as its square root: Adam's bounds, set in pass 1, whose update takes
         * the moments as coded) and LARS ({@code trace}: its bound set in pass 2, once the trust ratio is known);
         * the other optimizers and variants are refused by name.
         *
         * <pre>{@code
         * AdamW opt = AdamW.builder(params).eightBitState().build();   // 2 bytes of state per parameter
         * Sgd sgd = Sgd.builder(params).options(SgdOptions.MOMENTUM).eightBitState().build();   // 1 byte
         * NAdam nadam = NAdam.builder(params).eightBitState().build();   // 2 bytes
         * }</pre>
         */
        public B eightBitState() {
            return eightBitState(QuantizedState.DEFAULT_MIN_SIZE);
        }

        /** As {@link #eightBitState()}, with tensors of fewer than {@code minSize} elements (>= 1) kept in float32. */
        public B eightBitState(int minSize) {
            return eightBitState(EightBitCode.FLOAT_CODES, minSize);
        }

        /**
         * As {@link #eightBitState(int)}, in code {@code code}: {@link EightBitCode#FLOAT_CODES} (the default, vector
         * loops) or {@link EightBitCode#BITSANDBYTES_DYNAMIC} (bitsandbytes' dynamic maps, scalar loops).
         *
         * <pre>{@code
         * AdamW opt = AdamW.builder(params).eightBitState(EightBitCode.BITSANDBYTES_DYNAMIC, 4096).build();
         * }</pre>
         */
        public B eightBitState(EightBitCode code, int minSize) {
            if (code == null) {
                throw new IllegalArgumentException("eightBitState: code must not be null");
            }
            if (minSize < 1) {
                throw new IllegalArgumentException("minSize must be >= 1, got " + minSize);
            }
            this.eightBit = true;
            this.eightBitCode = code;
            this.eightBitMinSize = minSize;
            return self();
        }
    }
}
