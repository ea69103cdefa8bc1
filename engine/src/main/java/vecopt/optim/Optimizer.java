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
import vecopt.kernel.Chunk;
import vecopt.kernel.KernelProvider;
import vecopt.kernel.Kernels;
import vecopt.memory.Storage;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;
import vecopt.parallel.ChunkGrid;

/**
 * An optimizer over a {@link ParamSet}: parameter groups, state buffers with the layout of the parameters, and the
 * chunk grid the kernels run on, all built once; {@link #step(double)} then updates every parameter in place in one
 * pass over memory and allocates nothing.
 *
 * <p>State is allocated up front, one buffer per state variable and per parameter buffer, of that buffer's length and
 * kind: on the heap for heap parameters, off-heap (64-byte aligned) for off-heap ones, from the arena given to the
 * builder or from one the optimizer owns and frees in {@link #close()}.
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
    private long steps;
    private boolean closed;

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
        for (Storage p : params.paramBuffers()) {
            Storage[] s = new Storage[nState];
            for (int i = 0; i < nState; i++) {
                s[i] = p.allocateLike(arena, p.length());
            }
            state.put(p, s);
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
                        nState > 2 ? s[2].segment() : null, r.start(), r.length(), g));
            }
        }
        this.chunks = cs.toArray(new Chunk[0]);
        this.report = new StepReport(groups.size());
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

    /** Runs the kernel on one chunk with the scalars prepared for its group. */
    protected abstract void run(Kernels kernels, Chunk chunk);

    /**
     * Applies one update with learning rate {@code lr} (times each group's {@code lrScale}).
     *
     * <p>Everything is checked before the first element is written: {@code lr} must be finite and >= 0, and every
     * buffer open, writable and accessible from this thread.
     *
     * @return this optimizer's report, overwritten by the next step
     */
    public final StepReport step(double lr) {
        if (!(lr >= 0) || lr == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("lr must be finite and >= 0, got " + lr);
        }
        if (closed) {
            throw new IllegalStateException("optimizer is closed");
        }
        Thread self = Thread.currentThread();
        for (int i = 0; i < buffersToCheck.length; i++) {
            buffersToCheck[i].checkUsable(bufferRoles[i], self);
        }
        for (int g = 0; g < groupArray.length; g++) {
            ParamGroup<O> group = groupArray[g];
            double groupLr = lr * lrScale(group.options());
            report.groupLr[g] = groupLr;
            prepare(g, group.options(), groupLr, group.steps + 1);
        }
        for (Chunk c : chunks) {
            run(kernels, c);
        }
        for (ParamGroup<O> group : groupArray) {
            group.steps++;
        }
        report.step = ++steps;
        return report;
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

    /** Frees the state this optimizer allocated (if it owns its arena); the optimizer cannot step afterwards. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
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
