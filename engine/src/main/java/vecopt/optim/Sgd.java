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
    private final SgdStep.Hyper[] hyper;

    private Sgd(Builder b) {
        super(b);
        this.steps = new SgdStep[groups().size()];
        this.hyper = new SgdStep.Hyper[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            SgdOptions o = groups().get(i).options();
            steps[i] = new SgdStep();
            hyper[i] = new SgdStep.Hyper(o.momentum(), o.dampening(), o.weightDecay(), o.nesterov());
        }
    }

    /** A builder whose default group is plain SGD ({@link SgdOptions#PLAIN}). */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    @Override
    List<String> stateNames(List<ParamGroup<SgdOptions>> groups) {
        boolean momentum = groups.stream().anyMatch(g -> g.options().momentum() != 0 && !g.tensors().isEmpty());
        return momentum ? STATE : List.of();
    }

    @Override
    boolean supportsEightBitState() {
        return true;
    }

    @Override
    String eightBitRefusal(SgdOptions o) {
        return o.momentum() == 0 ? "SGD without momentum keeps no state to quantize (momentum is " + o.momentum()
                + "; bitsandbytes' SGD8bit refuses it too)" : null;
    }

    @Override
    void prepare(int group, SgdOptions o, double lr, long t, double gradScale) {
        steps[group].prepare(hyper[group], lr, t, gradScale);
        roundingKeys(steps[group], t);
    }

    @Override
    void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.sgd(chunk, steps[chunk.group()], norms);
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
