package vecopt.optim;

import java.util.List;
import vecopt.kernel.AdamStep;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;

/** What {@link AdamW} and {@link Adam} share: one kernel, differing only in where weight decay enters. */
abstract sealed class AdamFamily extends Optimizer<AdamOptions> permits AdamW, Adam {
    private static final List<String> STATE = List.of("exp_avg", "exp_avg_sq", "max_exp_avg_sq");
    private final boolean decoupled;
    private final AdamStep[] steps;

    AdamFamily(Builder<AdamOptions, ?> b, boolean decoupled) {
        super(b);
        this.decoupled = decoupled;
        this.steps = new AdamStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new AdamStep();
        }
    }

    @Override
    protected int stateVariables(List<ParamGroup<AdamOptions>> groups) {
        return groups.stream().anyMatch(g -> g.options().amsgrad() && !g.tensors().isEmpty()) ? 3 : 2;
    }

    @Override
    public List<String> stateNames() {
        return STATE.subList(0, stateVariables(groups()));
    }

    @Override
    protected double lrScale(AdamOptions o) {
        return o.lrScale();
    }

    @Override
    protected void prepare(int group, AdamOptions o, double lr, long t) {
        steps[group].set(lr, o.beta1(), o.beta2(), o.eps(), o.weightDecay(), decoupled, o.amsgrad(), t, 1.0);
    }

    @Override
    protected void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.adam(chunk, steps[chunk.group()], norms);
    }

    @Override
    protected void setGradScale(double scale) {
        for (var s : steps) {
            s.gradScale(scale);
        }
    }
}
