package vecopt.optim;

import java.util.List;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.kernel.LionStep;
import vecopt.param.ParamSet;

/**
 * Lion, "evoLved sIgn mOmeNtum" (Chen et al., "Symbolic Discovery of Optimization Algorithms", 2023, Program 1),
 * with decoupled weight decay, as lion-pytorch writes it ({@code lion_pytorch/lion_pytorch.py}, {@code update_fn}).
 * Per element:
 * <pre>
 *   g        = -grad if maximize else grad
 *   p       *= 1 - lr * weight_decay
 *   p       -= lr * sign(beta1 * exp_avg + (1 - beta1) * g)
 *   exp_avg  = beta2 * exp_avg + (1 - beta2) * g
 * </pre>
 * One state variable, {@code exp_avg} (half of Adam's state); 20 bytes per parameter per step (read p, g, exp_avg;
 * write p, exp_avg). The float operation sequence is in {@code vecopt.kernel.LionStep}. Not carried over from
 * lion-pytorch: {@code decoupled_weight_decay} (which divides the decay by the initial lr: vecopt has no initial lr,
 * pass {@code weightDecay / lr0} yourself), {@code use_triton}. {@code trackNorms(true)} is refused: no tracked loop
 * yet.
 *
 * <pre>{@code
 * try (Lion opt = Lion.builder(params).options(LionOptions.DEFAULTS.withWeightDecay(1.0)).build()) {
 *     opt.step(1e-4);
 * }
 * }</pre>
 */
public final class Lion extends Optimizer<LionOptions> {
    private static final List<String> STATE = List.of("exp_avg");
    private final LionStep[] steps;

    private Lion(Builder b) {
        super(untracked(b, "Lion"));
        this.steps = new LionStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new LionStep();
        }
    }

    /** A builder whose default group has {@link LionOptions#DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    @Override
    List<String> stateNames(List<ParamGroup<LionOptions>> groups) {
        return STATE;
    }

    @Override
    boolean supportsEightBitState() {
        return true;
    }

    @Override
    void prepare(int group, LionOptions o, double lr, long t, double gradScale) {
        steps[group].prepare(lr, o.beta1(), o.beta2(), o.weightDecay(), gradScale);
        roundingKeys(steps[group], t);
    }

    @Override
    void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.update(chunk, steps[chunk.group()]);
    }

    public static final class Builder extends Optimizer.Builder<LionOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, LionOptions.DEFAULTS);
        }

        public Lion build() {
            return new Lion(this);
        }
    }
}
