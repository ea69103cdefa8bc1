package vecopt.optim;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import vecopt.clip.Clip;
import vecopt.clip.NonFinite;
import vecopt.clip.NonFiniteGradientException;
import vecopt.kernel.Chunk;
import vecopt.kernel.KernelProvider;
import vecopt.kernel.Kernels;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;
import vecopt.parallel.ChunkGrid;
import vecopt.parallel.WorkerPool;

/**
 * An optimizer over a {@link ParamSet}: parameter groups, state buffers with the layout of the parameters, and the
 * chunk grid the kernels run on, all built once; {@link #step(double)} then updates every parameter in place in one
 * pass over memory and allocates nothing.
 *
 * <p>State is allocated up front, one buffer per state variable and per parameter buffer, of that buffer's length and
 * kind: on the heap for heap parameters, off-heap (64-byte aligned) for off-heap ones, from the arena given to the
 * builder or from one the optimizer owns and frees in {@link #close()}.
 *
 * <p>One step, as data flows: a read pass over the gradients for their global norm (when clipping is on or the
 * non-finite policy needs it), the policy for a NaN or infinity, then the fused update pass, in which each gradient is
 * multiplied by the clipping coefficient inside the kernel. Both passes run on the optimizer's persistent
 * {@link WorkerPool} over the fixed chunk grid; partial sums are combined in grid order, so parameters, state, norms
 * and reports are bitwise identical for any pool size and for heap or off-heap buffers.
 *
 * <p><b>Fused clipping leaves the gradient buffers unscaled</b>: the coefficient is applied inside the update. Use
 * {@link vecopt.clip.Clip#byNorm} when you need the clipped gradients themselves.
 *
 * @param <O> the options type of a parameter group
 */
public abstract class Optimizer<O> implements AutoCloseable {
    private final ParamSet params;
    private final List<ParamGroup<O>> groups;
    private final ParamGroup<O>[] groupArray;
    private final Kernels kernels;
    private final Arena ownedArena;
    private final Map<Storage, Storage[]> state; // per parameter buffer, one buffer per state variable
    private final Storage[] buffersToCheck;
    private final String[] bufferRoles;
    private final Chunk[] chunks;
    private final StepReport report;
    private final WorkerPool pool;
    private final double maxNorm; // 0: no clipping
    private final NonFinite nonFinite;
    private final boolean trackNorms;
    private final double[] gradSums; // per chunk: sum of squared gradients
    private final double[] updateSums; // per chunk: sum of squared updates, sum of squared new params
    private final WorkerPool.Task normTask;
    private final WorkerPool.Task updateTask;
    private long steps;
    private boolean closed;
    private RuntimeException broken; // a kernel failed part-way through an update: state is no longer consistent

    @SuppressWarnings("unchecked")
    protected Optimizer(Builder<O, ?> b) {
        this.params = b.params;
        this.kernels = b.kernels != null ? b.kernels : KernelProvider.kernels();
        this.groups = List.copyOf(b.assignGroups());
        this.groupArray = groups.toArray(new ParamGroup[0]);
        int nState = stateVariables(groups);
        this.ownedArena = b.stateArena == null && params.paramBuffers().stream().anyMatch(Storage::isNative)
                ? Arena.ofShared() : null;
        Arena arena = b.stateArena != null ? b.stateArena : ownedArena;
        this.state = new IdentityHashMap<>();
        try {
            for (Storage p : params.paramBuffers()) {
                Storage[] s = new Storage[nState];
                for (int i = 0; i < nState; i++) {
                    s[i] = p.allocateLike(arena, p.length());
                }
                state.put(p, s);
            }
        } catch (RuntimeException | OutOfMemoryError e) { // e.g. too little memory for the state: free what we took
            if (ownedArena != null) {
                ownedArena.close();
            }
            throw e;
        }
        List<Storage> check = new ArrayList<>();
        List<String> roles = new ArrayList<>();
        for (Tensor t : params.tensors()) {
            if (!containsIdentity(check, t.params())) {
                check.add(t.params());
                roles.add("params of '" + t.name() + "'");
                check.add(t.grads());
                roles.add("grads of '" + t.name() + "'");
                Storage[] s = state.get(t.params());
                for (int i = 0; i < s.length; i++) {
                    check.add(s[i]);
                    roles.add(stateNames().get(i) + " of '" + t.name() + "'");
                }
            }
        }
        this.buffersToCheck = check.toArray(new Storage[0]);
        this.bufferRoles = roles.toArray(new String[0]);
        List<Chunk> cs = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            for (ChunkGrid.Range r : ChunkGrid.cut(groups.get(g).tensors(), ChunkGrid.CHUNK)) {
                Storage[] s = state.get(r.tensor().params());
                cs.add(new Chunk(r.tensor().params().segment(), r.tensor().grads().segment(),
                        nState > 0 ? s[0].segment() : null, nState > 1 ? s[1].segment() : null,
                        nState > 2 ? s[2].segment() : null, r.start(), r.length(), g, cs.size()));
            }
        }
        this.chunks = cs.toArray(new Chunk[0]);
        this.report = new StepReport(groups.size());
        this.maxNorm = b.maxNorm;
        this.nonFinite = b.nonFinite;
        this.trackNorms = b.trackNorms;
        this.gradSums = new double[chunks.length];
        this.updateSums = trackNorms ? new double[Kernels.NORM_SLOTS * chunks.length] : null;
        final Kernels k = kernels;
        this.normTask = i -> gradSums[i] = k.sumOfSquares(chunks[i].grads(), chunks[i].start(), chunks[i].length());
        this.updateTask = i -> run(k, chunks[i], updateSums);
        this.pool = new WorkerPool(b.threads);
    }

    private static boolean containsIdentity(List<Storage> list, Storage s) {
        for (Storage x : list) {
            if (x == s) {
                return true;
            }
        }
        return false;
    }

    /** How many state buffers each parameter buffer needs for these groups (e.g. 2 for Adam, 3 with AMSGrad). */
    protected abstract int stateVariables(List<ParamGroup<O>> groups);

    /** PyTorch's names of the state variables, in buffer order (e.g. {@code exp_avg}, {@code exp_avg_sq}). */
    public abstract List<String> stateNames();

    /** Computes group {@code group}'s per-step scalars for learning rate {@code lr} and update number {@code t}. */
    protected abstract void prepare(int group, O options, double lr, long t);

    /** Runs the kernel on one chunk with the scalars prepared for its group; {@code norms} as in {@link Kernels#adam}. */
    protected abstract void run(Kernels kernels, Chunk chunk, double[] norms);

    /** Sets the gradient scale (clipping coefficient) of every group's prepared scalars. */
    protected abstract void setGradScale(double scale);

    /**
     * Applies one update with learning rate {@code lr} (times each group's {@code lrScale}), with the clipping and
     * non-finite policy this optimizer was built with.
     *
     * <p>Everything is checked before the first element is written: {@code lr} must be finite and >= 0, and every
     * buffer open, writable and accessible from the threads that will touch it.
     *
     * @return this optimizer's report, overwritten by the next step
     * @throws NonFiniteGradientException when a gradient is NaN or infinite and the policy is {@code THROW}
     * @throws WorkerPool.WorkerException when a kernel failed (with its cause). Input errors are all caught before
     *         this point; a kernel failure is a bug, the update may be partly applied, and the optimizer refuses
     *         further steps.
     */
    public final StepReport step(double lr) {
        checkReady(lr);
        double norm = Double.NaN;
        double coef = 1.0;
        if (maxNorm > 0 || nonFinite != NonFinite.PROCEED) {
            pool.run(chunks.length, normTask);
            norm = Math.sqrt(sumInOrder(gradSums));
            if (!Double.isFinite(norm)) {
                if (nonFinite == NonFinite.THROW) {
                    throw firstNonFinite();
                }
                if (nonFinite == NonFinite.SKIP) {
                    return skip(lr, norm);
                }
            }
            if (maxNorm > 0) {
                coef = Clip.coefficient(maxNorm, norm);
            }
        }
        return update(lr, norm, coef);
    }

    /**
     * Applies one update with the gradients multiplied by {@code gradScale}, computed elsewhere: the second half of
     * a data-parallel step, where each rank contributes {@link #localGradSumOfSquares()} to a global norm and every
     * rank then applies the same coefficient ({@link Clip#coefficient}). No norm pass and no non-finite check is made
     * here: that decision belongs with the global norm.
     */
    public final StepReport step(double lr, double gradScale) {
        checkReady(lr);
        if (!(gradScale >= 0) || gradScale == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("gradScale must be finite and >= 0, got " + gradScale);
        }
        return update(lr, Double.NaN, gradScale);
    }

    /**
     * The sum of squared gradients over this optimizer's parameters (this rank's shards), computed on the pool with
     * the same grid and order as a step's norm pass. For data parallelism: add the ranks' sums, check the total is
     * finite (skip the step everywhere if not), take the square root, and pass {@link Clip#coefficient} of it to
     * every rank's {@link #step(double, double)}.
     */
    public final double localGradSumOfSquares() {
        checkReady(0.0);
        pool.run(chunks.length, normTask);
        return sumInOrder(gradSums);
    }

    private void checkReady(double lr) {
        if (!(lr >= 0) || lr == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("lr must be finite and >= 0, got " + lr);
        }
        if (closed) {
            throw new IllegalStateException("optimizer is closed");
        }
        if (broken != null) {
            throw new IllegalStateException("an earlier step failed part-way through the update (" + broken
                    + "): parameters and state are no longer consistent; rebuild the optimizer from a checkpoint",
                    broken);
        }
        Thread self = Thread.currentThread();
        for (int i = 0; i < buffersToCheck.length; i++) {
            buffersToCheck[i].checkUsable(bufferRoles[i], self);
            for (int w = 0; w < pool.workers(); w++) {
                buffersToCheck[i].checkUsable(bufferRoles[i], pool.worker(w));
            }
        }
    }

    private StepReport update(double lr, double norm, double coef) {
        setGroupLrs(lr);
        for (int g = 0; g < groupArray.length; g++) {
            ParamGroup<O> group = groupArray[g];
            prepare(g, group.options(), report.groupLr[g], group.steps + 1);
        }
        setGradScale(coef);
        try {
            pool.run(chunks.length, updateTask);
        } catch (WorkerPool.WorkerException e) {
            broken = e; // some chunks were updated and some not: refuse to step on top of that
            throw e;
        }
        for (ParamGroup<O> group : groupArray) {
            group.steps++;
        }
        report.step = ++steps;
        report.skipped = false;
        report.gradNorm = norm;
        report.clipCoef = coef;
        report.updateNorm = trackNorms ? Math.sqrt(sumSlots(updateSums, 0)) : Double.NaN;
        report.paramNorm = trackNorms ? Math.sqrt(sumSlots(updateSums, Kernels.NORM_SLOTS / 2)) : Double.NaN;
        return report;
    }

    /** Each group's lr (step lr times its lrScale) into the report; throws, writing nothing else, if one overflows. */
    private void setGroupLrs(double lr) {
        for (int g = 0; g < groupArray.length; g++) {
            double groupLr = lr * lrScale(groupArray[g].options());
            if (!(groupLr <= Float.MAX_VALUE)) { // the kernels compute in float: an lr that overflows it is not an lr
                throw new IllegalArgumentException("lr * lrScale of group '" + groupArray[g].name()
                        + "' must fit a float, got " + groupLr);
            }
        }
        for (int g = 0; g < groupArray.length; g++) {
            report.groupLr[g] = lr * lrScale(groupArray[g].options());
        }
    }

    private StepReport skip(double lr, double norm) {
        setGroupLrs(lr);
        report.skipped = true;
        report.skippedSteps++;
        report.gradNorm = norm;
        report.clipCoef = Double.NaN;
        report.updateNorm = Double.NaN;
        report.paramNorm = Double.NaN;
        return report;
    }

    private static double sumInOrder(double[] values) {
        double s = 0;
        for (double v : values) {
            s += v;
        }
        return s;
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

    private NonFiniteGradientException firstNonFinite() {
        for (Tensor t : params.tensors()) {
            for (long i = 0; i < t.length(); i++) {
                float v = t.grads().get(t.offset() + i);
                if (!Float.isFinite(v)) {
                    return new NonFiniteGradientException(t.name(), i, v);
                }
            }
        }
        return new NonFiniteGradientException("?", -1, Float.NaN); // the norm overflowed no finite input can
    }

    /** Threads this optimizer steps with (the caller included). */
    public int threads() {
        return pool.size();
    }

    /** The group's multiplier of the step's lr. */
    protected abstract double lrScale(O options);

    /** Updates applied so far. */
    public long steps() {
        return steps;
    }

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

    /** The kernels this optimizer runs. */
    public Kernels kernels() {
        return kernels;
    }

    /**
     * A read-only view of state variable {@code stateName} (one of {@link #stateNames()}) for tensor
     * {@code tensorName}: the tensor's range of the state buffer, as floats.
     */
    public MemorySegment state(String tensorName, String stateName) {
        Tensor t = params.tensor(tensorName);
        int i = stateNames().indexOf(stateName);
        if (i < 0) {
            throw new IllegalArgumentException("stateName must be one of " + stateNames() + ", got '" + stateName + "'");
        }
        return state.get(t.params())[i].segment().asSlice(t.offset() * Float.BYTES, t.length() * Float.BYTES)
                .asReadOnly();
    }

    /** Stops the worker pool and frees the state this optimizer allocated (if it owns its arena). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            pool.close();
            if (ownedArena != null) {
                ownedArena.close();
            }
        }
    }

    /**
     * Collects the parameter set, the default options and any extra groups. A tensor goes to the one group whose
     * selector matches it, or to the group named "default" (always group 0) when none does.
     */
    public abstract static class Builder<O, B extends Builder<O, B>> {
        private final ParamSet params;
        private O defaults;
        private final Map<String, Selector<O>> extra = new LinkedHashMap<>();
        private Arena stateArena;
        private Kernels kernels;
        private int threads = Runtime.getRuntime().availableProcessors();
        private double maxNorm;
        private NonFinite nonFinite = NonFinite.SKIP;
        private boolean trackNorms;

        private record Selector<O>(O options, Predicate<Tensor> matches, String description) {
        }

        protected Builder(ParamSet params, O defaults) {
            this.params = Objects.requireNonNull(params, "params");
            this.defaults = defaults;
        }

        @SuppressWarnings("unchecked")
        private B self() {
            return (B) this;
        }

        /** The options of the default group. */
        public B options(O options) {
            this.defaults = Objects.requireNonNull(options, "options");
            return self();
        }

        /** A group with its own options for the tensors {@code which} selects, e.g. {@code t -> t.name().endsWith("bias")}. */
        public B group(String name, O options, Predicate<Tensor> which) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(options, "options");
            Objects.requireNonNull(which, "which");
            if (name.equals("default") || extra.containsKey(name)) {
                throw new IllegalArgumentException("group name '" + name + "' is already taken");
            }
            extra.put(name, new Selector<>(options, which, name));
            return self();
        }

        /** A group with its own options for the named tensors. */
        public B group(String name, O options, String... tensorNames) {
            List<String> names = List.of(tensorNames);
            for (String n : names) {
                params.tensor(n); // throws, naming it, when there is no such tensor
            }
            return group(name, options, t -> names.contains(t.name()));
        }

        /** Allocate off-heap state from this arena (which must outlive the optimizer) instead of an owned one. */
        public B stateArena(Arena arena) {
            this.stateArena = Objects.requireNonNull(arena, "arena");
            return self();
        }

        /** Run these kernels instead of {@link KernelProvider#kernels()} (e.g. the scalar ones, to compare). */
        public B kernels(Kernels kernels) {
            this.kernels = Objects.requireNonNull(kernels, "kernels");
            return self();
        }

        /** Threads a step runs on, the caller's included (default: available processors; 1 runs inline). */
        public B threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1, got " + threads);
            }
            this.threads = threads;
            return self();
        }

        /**
         * Clip gradients by their global L2 norm, fused into the update: coefficient
         * {@code min(1, maxNorm / (norm + 1e-6))} as in PyTorch's {@code clip_grad_norm_}. The gradient buffers are
         * left unscaled.
         */
        public B clipGradNorm(double maxNorm) {
            Clip.checkMaxNorm(maxNorm);
            this.maxNorm = maxNorm;
            return self();
        }

        /** What to do with NaN or infinite gradients (default {@link NonFinite#SKIP}). */
        public B onNonFinite(NonFinite policy) {
            this.nonFinite = Objects.requireNonNull(policy, "policy");
            return self();
        }

        /** Also compute the update norm and the parameter norm, in the update pass, for the report. */
        public B trackNorms(boolean track) {
            this.trackNorms = track;
            return self();
        }

        List<ParamGroup<O>> assignGroups() {
            Map<String, List<Tensor>> members = new LinkedHashMap<>();
            members.put("default", new ArrayList<>());
            extra.keySet().forEach(k -> members.put(k, new ArrayList<>()));
            for (Tensor t : params.tensors()) {
                String owner = "default";
                for (Map.Entry<String, Selector<O>> e : extra.entrySet()) {
                    if (e.getValue().matches().test(t)) {
                        if (!owner.equals("default")) {
                            throw new IllegalArgumentException("tensor '" + t.name() + "' is selected by groups '"
                                    + owner + "' and '" + e.getKey() + "'");
                        }
                        owner = e.getKey();
                    }
                }
                members.get(owner).add(t);
            }
            List<ParamGroup<O>> out = new ArrayList<>();
            out.add(new ParamGroup<>("default", defaults, members.get("default")));
            extra.forEach((name, sel) -> out.add(new ParamGroup<>(name, sel.options(), members.get(name))));
            return out;
        }
    }
}
