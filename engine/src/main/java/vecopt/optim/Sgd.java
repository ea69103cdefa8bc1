package vecopt.optim;

import java.util.List;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.kernel.SgdStep;
import vecopt.param.ParamSet;

/**
 * Stochastic gradient descent with PyTorch's {@code torch.optim.SGD} semantics: L2 weight decay, momentum whose
 * buffer is set to the gradient on a group's first step, dampening, Nesterov; plain SGD when momentum is 0.
 *
 * <pre>{@code
 * try (Sgd opt = Sgd.builder(params).options(SgdOptions.MOMENTUM.withNesterov(true)).build()) {
 *     opt.step(0.1);
 * }
 * }</pre>
 */
public final class Sgd extends Optimizer<SgdOptions> {
    private static final List<String> STATE = List.of("momentum_buffer");
    private final SgdStep[] steps;

    private Sgd(Builder b) {
        super(b);
        this.steps = new SgdStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new SgdStep();
        }
    }

    /** A builder whose default group is plain SGD ({@link SgdOptions#PLAIN}). */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    @Override
    protected int stateVariables(List<ParamGroup<SgdOptions>> groups) {
        return groups.stream().anyMatch(g -> g.options().momentum() != 0 && !g.tensors().isEmpty()) ? 1 : 0;
    }

    @Override
    public List<String> stateNames() {
        return STATE.subList(0, stateVariables(groups()));
    }

    @Override
    protected double lrScale(SgdOptions o) {
        return o.lrScale();
    }

    @Override
    protected void prepare(int group, SgdOptions o, double lr, long t) {
        steps[group].set(lr, o.momentum(), o.dampening(), o.weightDecay(), o.nesterov(), t == 1, 1.0);
    }

    @Override
    protected void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.sgd(chunk, steps[chunk.group()], norms);
    }

    @Override
    protected void setGradScale(double scale) {
        for (var s : steps) {
            s.gradScale(scale);
        }
    }

    public static final class Builder extends Optimizer.Builder<SgdOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, SgdOptions.PLAIN);
        }

        public Sgd build() {
            return new Sgd(this);
        }
    }
}
