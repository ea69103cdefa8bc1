package vecopt.zero;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.function.Function;
import vecopt.clip.Clip;
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
    private final MemorySegment flat; // the padded flat space: gradients out, parameters back
    private final MemorySegment slice; // this rank's block: reduced gradients in, parameters out
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
        List<Tensor> tensors = model.tensors();
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            MemorySegment.copy(t.grads().segment(), t.offset() * Float.BYTES, flat,
                    slices.flatOffset(i) * Float.BYTES, t.length() * Float.BYTES);
        }
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
        shard.putParams(slice);
        comm.allGather(slice, flat, slices.sliceLength());
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            MemorySegment.copy(flat, slices.flatOffset(i) * Float.BYTES, t.params().segment(),
                    t.offset() * Float.BYTES, t.length() * Float.BYTES);
        }
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
        shard.putParams(slice);
        comm.allGather(slice, flat, slices.sliceLength());
        List<Tensor> tensors = model.tensors();
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            MemorySegment.copy(flat, slices.flatOffset(i) * Float.BYTES, t.params().segment(),
                    t.offset() * Float.BYTES, t.length() * Float.BYTES);
        }
    }

    /**
     * Bytes of optimizer state this rank holds: state variables times the shard's floats (its slice, plus the grid
     * padding of {@link RankShard}), about 1/N of a single process's.
     */
    public long stateBytes() {
        return optimizer.stateNames().size() * shard.bufferFloats() * Float.BYTES;
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
