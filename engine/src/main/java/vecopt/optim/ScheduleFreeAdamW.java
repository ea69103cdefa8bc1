package vecopt.optim;

import java.util.List;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.kernel.ScheduleFreeStep;
import vecopt.param.ParamSet;

/**
 * Schedule-free AdamW (Defazio, Yang, Mehta, Mishchenko, Khaled and Cutkosky, "The Road Less Scheduled", 2024), with
 * the semantics of {@code facebookresearch/schedule_free}'s {@code AdamWScheduleFree}
 * ({@code schedulefree/adamw_schedulefree.py}; its {@code adamw_schedulefree_reference.py} states the same method
 * with x and y kept explicitly). No lr schedule is needed: the method averages its iterates itself. Per element, at
 * the group's step {@code k + 1}, with {@code y} the parameters in train mode:
 * <pre>
 *   g   = -grad if maximize else grad
 *   z   = y                                       (first step: the original's state['z'] = clone(p))
 *   v   = beta2 * v + (1 - beta2) * g^2           (exp_avg_sq)
 *   u   = g / (sqrt(v / (1 - beta2^(k+1))) + eps)
 *   u  += weight_decay * y
 *   y   = lerp(y, z, ckp1) + lr * (beta1 * (1 - ckp1) - 1) * u
 *   z  -= lr * u
 * </pre>
 * with {@code lr} the step's lr times a linear warmup over {@code warmupSteps}, and {@code ckp1 = weight /
 * weight_sum}, {@code weight = (k+1)^r * lr_max^weight_lr_power} (per-step scalars in double, as the original's
 * Python floats: {@code vecopt.kernel.ScheduleFreeStep}). One fused pass: read p, g, z, v; write p, z, v: 28 bytes per
 * parameter, as AdamW. State: {@code z} and {@code exp_avg_sq} per element; per group the original's scalars
 * {@code k} (the group's step count), {@code lr_max}, {@code weight_sum} and {@code train_mode}.
 *
 * <p><b>Train and eval.</b> As the original, the optimizer starts in eval mode and must be switched with
 * {@link #train()} before stepping (a step in eval mode throws {@link IllegalStateException}, as the original raises)
 * and with {@link #eval()} before evaluating the model or saving a checkpoint. {@code eval()} moves every parameter
 * from y to the average x, {@code p = lerp(p, z, 1 - 1/beta1)}; {@code train()} moves it back,
 * {@code p = lerp(p, z, 1 - beta1)}: one pass each, read p and z, write p (12 bytes per parameter). A group that has
 * not stepped has no z yet, and its parameters do not move (the original moves only parameters with a z). The round
 * trip {@code eval(); train()} is exact in real arithmetic ({@code (1 - w_train) (1 - w_eval) = 1}) but not in float:
 * it returns y to within a few roundings of {@code |y| + |z|}, exactly only where {@code z == y} (tested).
 *
 * <p><b>Checkpoints</b> are saved in eval mode only, as the original advises, so that the saved parameters are x,
 * the model one evaluates: {@code Checkpoint.save} refuses this optimizer in train mode. A checkpoint holds x, z,
 * {@code exp_avg_sq} and the group scalars; loading puts the optimizer in eval mode, and {@code train()} then
 * recomputes y from x and z. A resumed run is bitwise the uninterrupted run that made the same {@code eval()} and
 * {@code train()} calls (a run that never left train mode differs from it by the round trip's roundings).
 *
 * <p><b>16-bit parameters.</b> On bfloat16 or float16 parameters with a float32 master copy ({@code master_param}, the
 * last state variable) the master holds what float32 parameters would: y in train mode, x in eval mode. The step
 * and both switches read and write the master and store its value rounded to nearest even into the parameters,
 * which they never read; so the master is bitwise the float32 optimizer's parameters through any sequence of steps,
 * {@code eval()} and {@code train()} calls, and the round trip {@code eval(); train()} is on the master exactly the
 * float32 one (no 16-bit rounding enters it: the parameters are x or y rounded, never the start of the next move).
 * A checkpoint, saved in eval mode, holds x in the master and x rounded in the parameters. Without a master copy
 * ({@code stochasticRounding(seed)}, bfloat16 parameters) each step and each switch reads the parameters and rounds
 * its result stochastically, the switches with numbers of their own (keyed by seed, the group's steps and the
 * direction); there every switch is a rounding, so a round trip moves the parameters by up to a bfloat16 unit per
 * switch, unbiased. 16-bit gradients are widened exactly: the step is the float32 step on the
 * widened values.
 *
 * <p>Not carried over: the original's {@code inner_momentum} (a later option, off by default) and {@code foreach}
 * (an implementation choice). Added: {@code maximize}, as PyTorch's optimizers have it. {@code trackNorms(true)} is
 * refused: no tracked loop yet. 8-bit state is refused by name: {@code z} is an iterate on the weights' scale (the
 * parameters are interpolated toward it), which 3 mantissa bits would hold to about 6%; bfloat16 state is offered.
 *
 * <pre>{@code
 * try (ScheduleFreeAdamW opt = ScheduleFreeAdamW.builder(params)
 *         .options(ScheduleFreeAdamWOptions.DEFAULTS.withWarmupSteps(100)).build()) {
 *     opt.train();
 *     for (int step = 0; step < steps; step++) {
 *         // forward, backward
 *         opt.step(ScheduleFreeAdamWOptions.DEFAULT_LR);
 *     }
 *     opt.eval();                                    // the parameters are now x: evaluate, or save
 *     Checkpoint.save(path, opt, steps);
 * }
 * }</pre>
 */
public final class ScheduleFreeAdamW extends Optimizer<ScheduleFreeAdamWOptions> {
    private static final List<String> STATE = List.of("z", "exp_avg_sq");
    private static final List<String> SCALARS = List.of("k", "lr_max", "weight_sum", "train_mode");
    private final ScheduleFreeStep[] steps;
    private boolean trainMode; // the original's group['train_mode'], equal in every group: it starts False

    private ScheduleFreeAdamW(Builder b) {
        super(untracked(b, "ScheduleFreeAdamW"));
        this.steps = new ScheduleFreeStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new ScheduleFreeStep();
        }
    }

    /** A builder whose default group has {@link ScheduleFreeAdamWOptions#DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    /** True in train mode (the parameters are y and steps are allowed), false in eval mode (they are x). */
    public boolean trainMode() {
        return trainMode;
    }

    /**
     * Switches to train mode: each parameter that has a z moves from x to y, {@code p = lerp(p, z, 1 - beta1)}.
     * Nothing happens in train mode already.
     */
    public void train() {
        switchTo(true);
    }

    /**
     * Switches to eval mode: each parameter that has a z moves from y to x, {@code p = lerp(p, z, 1 - 1/beta1)}.
     * Nothing happens in eval mode already. Call it before evaluating the model and before saving a checkpoint.
     */
    public void eval() {
        switchTo(false);
    }

    private void switchTo(boolean train) {
        enter();
        try {
            checkReady();
            if (trainMode == train) {
                return;
            }
            for (int g = 0; g < steps.length; g++) {
                ParamGroup<ScheduleFreeAdamWOptions> group = groups().get(g);
                double beta1 = group.options().beta1();
                steps[g].prepareSwitch(train ? 1 - beta1 : 1 - 1 / beta1, group.steps > 0);
                if (stochastic) {
                    steps[g].switchRoundingKey(roundingSeed, group.steps, train);
                }
            }
            runPass();
            trainMode = train;
        } finally {
            leave();
        }
    }

    /** The original's {@code lr_max} of group {@code group}: the largest warmed-up lr so far, -1 before a step. */
    public double lrMax(String group) {
        return steps[groups().indexOf(group(group))].lrMax();
    }

    /** The original's {@code weight_sum} of group {@code group}. */
    public double weightSum(String group) {
        return steps[groups().indexOf(group(group))].weightSum();
    }

    /** The original's {@code scheduled_lr} of group {@code group}: its last step's lr after warmup. */
    public double scheduledLr(String group) {
        return steps[groups().indexOf(group(group))].scheduledLr();
    }

    @Override
    void checkStep() {
        if (!trainMode) {
            throw new IllegalStateException("ScheduleFreeAdamW is in eval mode: call train() before step (the"
                    + " parameters are x, the averaged iterate, until then)");
        }
    }

    @Override
    List<String> stateNames(List<ParamGroup<ScheduleFreeAdamWOptions>> groups) {
        return STATE;
    }

    @Override
    List<String> scalarStateNames() {
        return SCALARS;
    }

    @Override
    double scalarState(int group, String name) {
        return switch (name) {
            case "k" -> groups().get(group).steps;
            case "lr_max" -> steps[group].lrMax();
            case "weight_sum" -> steps[group].weightSum();
            case "train_mode" -> trainMode ? 1 : 0;
            default -> super.scalarState(group, name);
        };
    }

    /** {@code k} is the group's step count, restored with the counters; the mode is the optimizer's. */
    @Override
    void restoreScalarState(int group, double[] values) {
        steps[group].restore(values[1], values[2]);
        trainMode = values[3] != 0;
    }

    @Override
    String eightBitNever() {
        return "z is the iterate the parameters are interpolated toward (y = lerp(y, z, ckp1)), on the scale of the"
                + " weights: 8 bits (3 of mantissa) would hold it to about 6% each, as ASGD's ax; bfloat16State(seed)"
                + " keeps z and exp_avg_sq in 16 bits";
    }

    @Override
    void prepare(int group, ScheduleFreeAdamWOptions o, double lr, long t, double gradScale) {
        steps[group].prepare(lr, o.beta1(), o.beta2(), o.eps(), o.weightDecay(), o.warmupSteps(), o.r(),
                o.weightLrPower(), t - 1, gradScale);
        roundingKeys(steps[group], t);
    }

    @Override
    void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.update(chunk, steps[chunk.group()]);
    }

    public static final class Builder extends Optimizer.Builder<ScheduleFreeAdamWOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, ScheduleFreeAdamWOptions.DEFAULTS);
        }

        public ScheduleFreeAdamW build() {
            return new ScheduleFreeAdamW(this);
        }
    }
}
