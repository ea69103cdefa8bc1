package vecopt.djl;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.Trainer;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import vecopt.optim.Optimizer;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.schedule.Schedule;

/**
 * vecopt's optimizer step for a model trained with Deep Java Library's PyTorch engine: called where DJL's
 * {@link Trainer#step()} would be, it updates the parameters in their own memory (no copy) with any vecopt
 * optimizer (AdamW, SGD, the layer-wise LAMB and LARS, ..., with the groups, global-norm clipping and non-finite
 * policy you built it with), the learning rate from a {@link Schedule}, then zeroes the gradients as DJL's
 * optimizers do, and returns vecopt's {@link StepReport}.
 *
 * <pre>{@code
 * try (Trainer trainer = model.newTrainer(config);   // config's DJL optimizer is not used
 *      VecoptStep step = VecoptStep.builder(trainer)
 *              .optimizer(params -> AdamW.builder(params)
 *                      .options(AdamOptions.LLM_PRETRAINING)
 *                      .group("no_decay", AdamOptions.LLM_PRETRAINING.withWeightDecay(0),
 *                              t -> t.name().endsWith("_bias"))
 *                      .clipGradNorm(1.0)
 *                      .threads(1)
 *                      .build())
 *              .schedule(Schedules.warmupCosine(3e-4, 3e-5, 100, 10_000))
 *              .build()) {
 *     for (Batch batch : trainer.iterateDataset(data)) {
 *         EasyTrain.trainBatch(trainer, batch);   // forward and backward
 *         StepReport report = step.step();        // instead of trainer.step()
 *         batch.close();
 *     }
 * }
 * }</pre>
 *
 * <p><b>Binding.</b> The first {@code step()} binds every parameter that requires a gradient and has one (so it
 * comes after the first backward pass); a parameter without a gradient yet is skipped ({@link #unboundParameters()}),
 * as PyTorch's optimizers skip a parameter whose {@code grad} is None. Each parameter is a vecopt tensor named as in
 * {@code Block.getParameters()} (e.g. {@code "01Linear_bias"}), so optimizer groups select by DJL's names. A
 * parameter that is not float32, not on the CPU, not contiguous, or not a PyTorch array is refused, naming it, before
 * anything is written.
 *
 * <p><b>Rebinding.</b> Every step first checks, per parameter, that the values and the gradient are still where they
 * were bound (one {@code toByteBuffer(true)} each: a few JNI calls, nothing copied; the bridge holds a handle on each
 * gradient, so that check creates no array), and whether a skipped parameter has a gradient now (that check creates
 * and closes one DJL array per skipped parameter). PyTorch swaps a tensor's storage on {@code NDArray.set} and
 * {@code copyTo}; a parameter may also gain a gradient later. Then the model is bound again: the optimizer function
 * builds an optimizer over the new memory, which takes over the old one's moments and step counters
 * ({@link Optimizer#continueFrom}: parameters matched by name, groups by name); the old optimizer is closed. A newly
 * bound parameter starts with zero moments but its group's step counter (vecopt counts steps per group, PyTorch per
 * parameter).
 *
 * <p><b>Lifetime.</b> The bridge never writes to memory it has not just checked is the tensors' own. Closing the
 * model or the trainer is seen by the next {@code step()}, which releases the binding (closes the optimizer) and
 * throws {@link IllegalStateException} naming what was closed; {@link #close()} releases it too. Call
 * {@code close()} before closing the model ({@code try}-with-resources in that order does).
 *
 * <p><b>Layer-wise optimizers.</b> LAMB and LARS need each tensor whole (their trust ratio is per tensor): the
 * bridge binds every DJL parameter as one tensor of its own, so their ratios are per DJL parameter, and groups
 * select by DJL's names ({@code t -> t.name().endsWith("_bias")} for LARS's {@code trustRatio(false)} group).
 *
 * <p><b>Mixed precision, emulated.</b> {@link Builder#precision(Precision)} makes vecopt read bf16 gradients and/or
 * store bf16 parameters while the model stays float32: see {@link Precision}. The conversions are the bridge's
 * ({@link #conversionNanos()}), outside the optimizer's step.
 *
 * <p><b>Threads.</b> One thread at a time, and not while another thread runs the model. On a small machine give the
 * optimizer few threads and PyTorch few ({@code -Dai.djl.pytorch.num_threads}, {@code OMP_NUM_THREADS}, and
 * {@code OMP_WAIT_POLICY=passive} so that idle OpenMP threads do not spin against vecopt's pool).
 */
public final class VecoptStep implements AutoCloseable {
    private final List<Pair<String, Parameter>> parameters;
    private final Function<ParamSet, ? extends Optimizer<?>> build;
    private final Schedule schedule;
    private final Trainer trainer; // null when built from a model
    private final Precision precision;
    private Binding binding;
    private long conversionNanos;
    private long calls;
    private int rebinds;
    private String closedBecause;

    private VecoptStep(Builder b) {
        this.parameters = b.parameters;
        this.build = b.build;
        this.schedule = b.schedule;
        this.trainer = b.trainer;
        this.precision = b.precision;
    }

    /**
     * A bridge for the parameters of {@code trainer}'s model. The trainer must train on one CPU device, so that the
     * arrays its forward pass reads are the parameters' own (DJL's {@code ParameterStore} copies them otherwise).
     */
    public static Builder builder(Trainer trainer) {
        Objects.requireNonNull(trainer, "trainer");
        Device[] devices = trainer.getDevices();
        if (devices.length != 1 || !Device.Type.CPU.equals(devices[0].getDeviceType())) {
            throw new IllegalArgumentException("the trainer trains on " + java.util.Arrays.toString(devices)
                    + ": the vecopt bridge needs exactly one CPU device");
        }
        return new Builder(trainer.getModel().getBlock(), trainer);
    }

    /**
     * A bridge for the parameters of {@code model}, for a training loop that runs the forward and backward passes
     * itself (with a {@code GradientCollector}) instead of through a {@link Trainer}.
     */
    public static Builder builder(Model model) {
        Objects.requireNonNull(model, "model");
        return new Builder(model.getBlock(), null);
    }

    /**
     * Applies one update with the schedule's learning rate for this step ({@code schedule.lr(n)} for the n-th call,
     * counted from 0, skipped steps included, as PyTorch's schedulers count), then zeroes the gradients (also after
     * a skipped step, so that the next backward pass does not add to a bad gradient).
     *
     * @return the optimizer's report, overwritten by the next step
     * @throws IllegalStateException when the model or trainer was closed, this bridge was closed, or no parameter
     *         has a gradient
     */
    public StepReport step() {
        return step(schedule.lr(calls));
    }

    /** {@link #step()} with a learning rate of your own instead of the schedule's (the step is still counted). */
    public StepReport step(double lr) {
        ensureBound();
        StepReport report;
        if (precision.direct()) {
            report = binding.optimizer().step(lr);
        } else {
            long t0 = System.nanoTime();
            binding.narrowGradients();
            long t1 = System.nanoTime();
            report = binding.optimizer().step(lr);
            long t2 = System.nanoTime();
            binding.widenParameters();
            conversionNanos = t1 - t0 + System.nanoTime() - t2;
        }
        calls++;
        binding.zeroGradients();
        return report;
    }

    /**
     * Nanoseconds the last {@link #step()} spent converting between PyTorch's float32 memory and vecopt's 16-bit
     * buffers under a 16-bit {@link Precision} (rounding the gradients, widening the parameters); 0 without one.
     */
    public long conversionNanos() {
        return conversionNanos;
    }

    /**
     * Binds the parameters now, as the first {@link #step()} would, and zeroes their gradients, without updating
     * anything: a step with no update, and not counted. It is there for loading a checkpoint before the first step,
     * which needs the optimizer: run one forward and backward pass (binding needs the gradients to exist), then
     *
     * <pre>{@code
     * Checkpoint.load(file, step.bind());   // parameters (DJL's own memory), moments and step counters
     * }</pre>
     *
     * @return the optimizer now bound
     * @throws IllegalStateException as {@link #step()}
     */
    public Optimizer<?> bind() {
        ensureBound();
        binding.zeroGradients();
        return binding.optimizer();
    }

    private void ensureBound() {
        if (closedBecause != null) {
            throw new IllegalStateException("this VecoptStep is closed (" + closedBecause + ")");
        }
        if (trainer != null && !trainer.getManager().isOpen()) {
            // The trainer's manager is a child of the model's: closing either closes it.
            release("the trainer was closed");
            throw new IllegalStateException("the trainer was closed (or its model): its VecoptStep is released");
        }
        if (binding == null) {
            binding = Binding.bind(parameters, build, null, precision);
            return;
        }
        String closedParameter = binding.released();
        if (closedParameter != null) {
            release("the model was closed");
            throw new IllegalStateException("parameter '" + closedParameter
                    + "' was closed (the model was closed): its VecoptStep is released");
        }
        if (binding.stale()) {
            binding = Binding.bind(parameters, build, binding, precision);
            rebinds++;
        }
    }

    private void release(String why) {
        closedBecause = why;
        if (binding != null) {
            binding.close();
        }
    }

    /** The optimizer now bound (another one after a rebinding); null before the first step. */
    public Optimizer<?> optimizer() {
        return binding == null ? null : binding.optimizer();
    }

    /** DJL's names of the parameters bound to the optimizer; empty before the first step. */
    public List<String> boundParameters() {
        List<String> names = new ArrayList<>();
        if (binding != null) {
            for (BoundTensor t : binding.bound()) {
                names.add(t.name());
            }
        }
        return names;
    }

    /** DJL's names of the parameters that require a gradient but had none when bound; empty before the first step. */
    public List<String> unboundParameters() {
        return binding == null ? List.of() : binding.unboundNames();
    }

    /** How often the model was bound again because memory moved or a parameter gained a gradient. */
    public int rebinds() {
        return rebinds;
    }

    /** Steps called so far (the next one asks the schedule for {@code lr(calls())}). */
    public long calls() {
        return calls;
    }

    /** Releases the binding: closes the optimizer (its state is freed). DJL's tensors are not touched. */
    @Override
    public void close() {
        if (closedBecause == null) {
            release("closed by close()");
        }
    }

    /** Collects the optimizer function and the schedule. */
    public static final class Builder {
        private final List<Pair<String, Parameter>> parameters;
        private final Trainer trainer;
        private Function<ParamSet, ? extends Optimizer<?>> build;
        private Schedule schedule;
        private Precision precision = Precision.FLOAT32;

        private Builder(Block block, Trainer trainer) {
            this.parameters = new ArrayList<>();
            for (Pair<String, Parameter> p : block.getParameters()) {
                parameters.add(p);
            }
            this.trainer = trainer;
        }

        /**
         * How to build the optimizer over the bound parameters, e.g.
         * {@code params -> AdamW.builder(params).clipGradNorm(1.0).threads(1).build()}. Called at the first step and
         * again at each rebinding, so it must build the same kind of optimizer with the same groups every time.
         */
        public Builder optimizer(Function<ParamSet, ? extends Optimizer<?>> build) {
            this.build = Objects.requireNonNull(build, "build");
            return this;
        }

        /**
         * What vecopt reads as gradients and stores as parameters (default {@link Precision#FLOAT32}: PyTorch's own
         * memory); a 16-bit type emulates a bf16 training stack at the optimizer boundary, e.g.
         * {@code .precision(Precision.BFLOAT16)} with {@code AdamW.builder(p).stochasticRounding(42)}.
         */
        public Builder precision(Precision precision) {
            this.precision = Objects.requireNonNull(precision, "precision");
            return this;
        }

        /** The learning rate of each step, e.g. {@code Schedules.warmupCosine(3e-4, 3e-5, 100, 10_000)}. */
        public Builder schedule(Schedule schedule) {
            this.schedule = Objects.requireNonNull(schedule, "schedule");
            return this;
        }

        public VecoptStep build() {
            if (build == null) {
                throw new IllegalStateException("set the optimizer function with optimizer(...)");
            }
            if (schedule == null) {
                throw new IllegalStateException("set the learning-rate schedule with schedule(...)"
                        + " (Schedules.constant(lr) for a fixed one)");
            }
            return new VecoptStep(this);
        }
    }
}
