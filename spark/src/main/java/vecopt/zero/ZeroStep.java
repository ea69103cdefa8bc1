package vecopt.zero;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.Function;
import vecopt.clip.Clip;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.Adafactor;
import vecopt.optim.Lamb;
import vecopt.optim.Lars;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * One data-parallel rank's optimizer step with the optimizer state sharded as in ZeRO stage 1 (Rajbhandari et al.,
 * "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models", SC 2020): each of the N ranks keeps the
 * master parameters and the optimizer state of one slice of the flat parameter space ({@link RankSlices}) and
 * updates only that slice; the full parameters are put back together on every rank after each step.
 *
 * <p>One step, on every rank with its own gradients in the model's gradient buffers:
 * <ol>
 * <li>reduce-scatter of the gradients: rank r receives the sum of every rank's gradients over its slice, and
 *     divides it by N (the mean, as a single process training on the mean of the ranks' gradients sees it);</li>
 * <li>the global norm: each rank's sum of squares over its slice ({@link Optimizer#localGradSumOfSquares()}), the N
 *     partial sums exchanged and added in rank order, so every rank has the same bits;</li>
 * <li>one decision for all: a norm that is not finite (a NaN or infinity anywhere, on any rank) skips the step on
 *     every rank, parameters and state untouched, as the engine's {@code NonFinite.SKIP}; otherwise the clipping
 *     coefficient of the rank optimizer's {@code clipGradNorm} bound (same bits everywhere);</li>
 * <li>the fused update of the owned slice only ({@link Optimizer#step(double, double)});</li>
 * <li>all-gather of the parameters into the model's parameter buffers.</li>
 * </ol>
 * With one rank this is, bit for bit, the single-process optimizer with {@code onNonFinite(SKIP)}.
 *
 * <p><b>16-bit parameters</b> (bfloat16 or float16 model buffers, one type for all tensors): the rank's optimizer,
 * built over a slice of the same type, keeps the float32 master of its slice only ({@code master_param}, as the
 * engine's mixed precision does in one process), updates it and writes the slice's parameters rounded to nearest
 * even; the all-gather moves those 2-byte parameters. Gradients, float32 or 16-bit, are widened (exactly) into a
 * float32 buffer and reduce-scattered in float32: the sum of N ranks' gradients is accumulated in float32, as the
 * accurate choice (Gloo's ring would add bfloat16 in bfloat16, rounding to 8 bits at every hop), at 4 bytes per
 * gradient on the wire instead of 2. So the master is the single-process mixed-precision step's master fed the
 * float32 mean gradient, and the parameters are that master rounded.
 *
 * <p>The rank's optimizer is built by the caller, over the slice's {@link ParamSet} (pieces named as the tensors
 * they belong to, so selectors by name or suffix put them in the right groups; a group naming a tensor that is not in
 * this slice fails, so select by predicate). Its own non-finite policy is not used: the decision above is shared.
 *
 * <pre>{@code
 * try (ZeroStep zero = ZeroStep.create(model, comm, slice -> AdamW.builder(slice)
 *         .options(AdamOptions.LLM_PRETRAINING).clipGradNorm(1.0).build())) {
 *     for (long step = 0; step < steps; step++) {
 *         // ... forward and backward into model's gradient buffers ...
 *         ZeroReport r = zero.step(schedule.lr(step));
 *     }
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one thread steps one rank, like the engine's optimizers. The gradient buffers are only read;
 * the model's parameter buffers are written by the all-gather.
 */
public final class ZeroStep implements AutoCloseable {
    private final ParamSet model;
    private final Communicator comm;
    private final RankSlices slices;
    private final Arena arena;
    private final RankShard shard;
    private final Optimizer<?> optimizer;
    private final MemorySegment flat; // the padded flat space of float32 gradients, out
    private final MemorySegment slice; // this rank's block of it: reduced gradients in
    private final Dtype paramType; // the model's parameters: float32, or 16-bit with the master in the shard
    private final MemorySegment paramFlat; // the padded flat space of parameters, back (flat itself for float32)
    private final MemorySegment paramSlice; // this rank's parameters, out (slice itself for float32)
    private final double[] partial = new double[1]; // this rank's sum of squares, sent
    private final double[] partials; // every rank's, received
    private final ZeroReport report = new ZeroReport(); // overwritten by each step: a step allocates nothing
    private long steps;
    private long skipped;
    private boolean closed;

    private ZeroStep(ParamSet model, Communicator comm, RankSlices slices, Arena arena, RankShard shard,
                     Optimizer<?> optimizer) {
        this.model = model;
        this.comm = comm;
        this.slices = slices;
        this.arena = arena;
        this.shard = shard;
        this.optimizer = optimizer;
        // Off-heap, as transports that hand buffers to native code need.
        this.flat = arena.allocate(slices.paddedTotal() * Float.BYTES, 64);
        this.slice = arena.allocate(slices.sliceLength() * Float.BYTES, 64);
        this.paramType = shard.paramType();
        boolean narrow = paramType != Dtype.FLOAT32;
        this.paramFlat = narrow ? arena.allocate(slices.paddedTotal() * paramType.bytes(), 64) : flat;
        this.paramSlice = narrow ? arena.allocate(slices.sliceLength() * paramType.bytes(), 64) : slice;
        this.partials = new double[comm.size()];
    }

    /**
     * Slices {@code model} among {@code comm.size()} ranks and builds this rank's shard and optimizer.
     *
     * @param model     the whole model's parameters and gradients, the same layout on every rank
     * @param comm      this rank's communicator (not closed by {@link #close()})
     * @param optimizer builds the rank's optimizer over the {@link ParamSet} it is given (this rank's slice)
     */
    public static ZeroStep create(ParamSet model, Communicator comm,
                                  Function<ParamSet, ? extends Optimizer<?>> optimizer) {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        if (comm == null) {
            throw new IllegalArgumentException("comm must not be null");
        }
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        RankSlices slices = RankSlices.of(model, comm.size());
        if (slices.owned(comm.rank()) == 0) {
            throw new IllegalArgumentException("rank " + comm.rank() + " of " + comm.size() + " would own no element of "
                    + slices.total() + " (slices of " + slices.sliceLength() + "): use at most "
                    + ((slices.total() + RankSlices.ALIGN - 1) / RankSlices.ALIGN) + " ranks for this model, fewer in practice");
        }
        Arena arena = Arena.ofShared();
        try {
            RankShard shard = new RankShard(slices, comm.rank(), arena);
            Optimizer<?> opt = optimizer.apply(shard.params());
            if (opt == null || opt.params() != shard.params()) {
                if (opt != null) {
                    opt.close();
                }
                throw new IllegalArgumentException("optimizer must build an optimizer over the ParamSet it is given"
                        + " (this rank's slice), got " + (opt == null ? "null" : "one over another set"));
            }
            if (shard.paramType() != Dtype.FLOAT32 && !opt.stateNames().contains(Optimizer.MASTER)) {
                // Without a master the 16-bit parameters are rounded stochastically with random numbers keyed by the
                // element's index in its buffer, which in a shard is not the model's: not the unsharded run.
                opt.close();
                throw new IllegalArgumentException("optimizer must keep a float32 master copy (" + Optimizer.MASTER
                        + ") of the " + shard.paramType().torchName() + " parameters: stochasticRounding is not"
                        + " supported under ZeRO sharding (its random numbers are keyed by the shard's indices)");
            }
            if (opt instanceof Lamb || opt instanceof Lars || opt instanceof Adafactor) {
                // Their trust ratios (Adafactor: its RMS and row and column means) are norms of whole tensors; a rank
                // holds slices of tensors, whose norms are not the tensor's, so the step would silently differ from the
                // unsharded one.
                String name = opt.getClass().getSimpleName();
                opt.close();
                throw new IllegalArgumentException(name + " scales each tensor by its norms, and a rank holds slices"
                        + " of tensors: ZeRO sharding does not support it yet (it needs the ranks' per-tensor sums"
                        + " reduced before the second pass)");
            }
            return new ZeroStep(model, comm, slices, arena, shard, opt);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * One sharded step with learning rate {@code lr} (times each group's {@code lrScale}); a collective call: every
     * rank calls it with the same {@code lr}. Allocates nothing (given a communicator that allocates nothing:
     * see the README's "Scaling out" for what each transport allocates per call).
     *
     * @return this step's report, overwritten by the next step (keep a {@link ZeroReport#copy()})
     * @throws IllegalArgumentException for an {@code lr} that is not finite and >= 0, before anything is sent
     * @throws CommunicatorException    when a peer is dead, stuck or gone; this rank's parameters may then be partly
     *                                  gathered, and the job restarts from a checkpoint
     */
    public ZeroReport step(double lr) {
        if (closed) {
            throw new IllegalStateException("this ZeroStep is closed");
        }
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("lr must be finite and >= 0, got " + lr);
        }
        long t0 = System.nanoTime();
        packGradients();
        comm.reduceScatter(flat, slice, slices.sliceLength());
        shard.takeMeanGradients(slice, comm.size());
        long t1 = System.nanoTime();
        partial[0] = optimizer.localGradSumOfSquares();
        comm.allGather(partial, partials);
        double total = partials[0];
        for (int q = 1; q < partials.length; q++) { // rank order: every rank adds the same numbers the same way
            total += partials[q];
        }
        double norm = Math.sqrt(total);
        long t2 = System.nanoTime();
        if (!Double.isFinite(norm)) { // every rank has these bits, so every rank skips
            skipped++;
            return report(true, norm, Double.NaN, t1 - t0, t2 - t1, 0, 0);
        }
        double coef = optimizer.clipGradNorm() > 0 ? Clip.coefficient(optimizer.clipGradNorm(), norm) : 1.0;
        optimizer.step(lr, coef);
        steps++;
        long t3 = System.nanoTime();
        gatherParams();
        long t4 = System.nanoTime();
        return report(false, norm, coef, t1 - t0, t2 - t1, t3 - t2, t4 - t3);
    }

    private ZeroReport report(boolean skip, double norm, double coef, long rs, long nrm, long upd, long ag) {
        report.step = steps;
        report.skipped = skip;
        report.gradNorm = norm;
        report.clipCoef = coef;
        report.reduceScatterNanos = rs;
        report.normNanos = nrm;
        report.updateNanos = upd;
        report.allGatherNanos = ag;
        return report;
    }

    /** This rank's optimizer (over {@link #slice()}). */
    public Optimizer<?> optimizer() {
        return optimizer;
    }

    /** This rank's slice: the pieces it owns, over its own master buffers. */
    public ParamSet slice() {
        return shard.params();
    }

    public RankSlices slices() {
        return slices;
    }

    /** Steps skipped for a non-finite global norm. */
    public long skippedSteps() {
        return skipped;
    }

    Communicator comm() {
        return comm;
    }

    /**
     * After this rank's shard was restored from a checkpoint: the counters continue from the checkpoint's, and the
     * model's parameter buffers get the restored parameters of every rank (one all-gather, a collective call).
     */
    void restored(long skippedSteps) {
        if (closed) {
            throw new IllegalStateException("this ZeroStep is closed");
        }
        steps = optimizer.steps();
        skipped = skippedSteps;
        gatherParams();
    }

    /**
     * The model's gradients into the flat float32 space: copied, or widened (exactly) from 16-bit ones, so the
     * reduce-scatter sums in float32 whatever the gradients' type (a ring summing bfloat16 in bfloat16 would round
     * to 8 bits at every hop).
     */
    private void packGradients() {
        List<Tensor> tensors = model.tensors();
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            Storage g = t.grads();
            long to = slices.flatOffset(i);
            if (g.dtype() == Dtype.FLOAT32) {
                MemorySegment.copy(g.segment(), t.offset() * Float.BYTES, flat, to * Float.BYTES,
                        t.length() * Float.BYTES);
            } else {
                long from = t.offset();
                for (long k = 0; k < t.length(); k++) {
                    flat.setAtIndex(ValueLayout.JAVA_FLOAT, to + k, g.get(from + k));
                }
            }
        }
    }

    /**
     * This rank's updated parameters to every rank, into the model's parameter buffers: in the parameters' type, so
     * 16-bit parameters (the master's values rounded by the optimizer) move 2 bytes each.
     */
    private void gatherParams() {
        shard.putParams(paramSlice);
        if (paramType == Dtype.FLOAT32) {
            comm.allGather(paramSlice, paramFlat, slices.sliceLength());
        } else {
            comm.allGather16(paramSlice, paramFlat, slices.sliceLength());
        }
        long bytes = paramType.bytes();
        List<Tensor> tensors = model.tensors();
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            MemorySegment.copy(paramFlat, slices.flatOffset(i) * bytes, t.params().segment(), t.offset() * bytes,
                    t.length() * bytes);
        }
    }

    /**
     * Bytes of optimizer state this rank holds: each state variable's element size (the float32 master of 16-bit
     * parameters, {@code master_param}, included) times the shard's elements (its slice, plus the grid padding of
     * {@link RankShard}), about 1/N of a single process's. AdamW over bfloat16 parameters: 12 bytes per element of the
     * slice (exp_avg, exp_avg_sq, master_param).
     */
    public long stateBytes() {
        long bytes = 0;
        for (String name : optimizer.stateNames()) {
            bytes += (long) optimizer.stateType(name).bytes() * shard.bufferFloats();
        }
        return bytes;
    }

    /** Closes the optimizer and frees the shard and the staging buffers; the communicator stays open. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                optimizer.close();
            } finally {
                arena.close();
            }
        }
    }
}
