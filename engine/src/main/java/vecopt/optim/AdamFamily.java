package vecopt.optim;

import java.util.List;
import vecopt.kernel.AdamStep;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;

/** What {@link AdamW} and {@link Adam} share: one kernel, differing only in where weight decay enters. */
abstract sealed class AdamFamily extends Optimizer<AdamOptions> permits AdamW, Adam {
    private static final List<String> STATE = List.of("exp_avg", "exp_avg_sq", "max_exp_avg_sq");
    private final AdamStep[] steps;
    private final AdamStep.Hyper[] hyper;

    AdamFamily(Builder<AdamOptions, ?> b, boolean decoupled) {
        super(b);
        this.steps = new AdamStep[groups().size()];
        this.hyper = new AdamStep.Hyper[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            AdamOptions o = groups().get(i).options();
            steps[i] = new AdamStep();
            hyper[i] = new AdamStep.Hyper(o.beta1(), o.beta2(), o.eps(), o.weightDecay(), decoupled, o.amsgrad());
        }
    }

    @Override
    List<String> stateNames(List<ParamGroup<AdamOptions>> groups) {
        boolean amsgrad = groups.stream().anyMatch(g -> g.options().amsgrad() && !g.tensors().isEmpty());
        return STATE.subList(0, amsgrad ? 3 : 2);
    }

    @Override
    boolean supportsEightBitState() {
        return true;
    }

    @Override
    boolean eightBitRoot(String stateName) {
        return stateName.equals("exp_avg_sq");
    }

    @Override
    void prepare(int group, AdamOptions o, double lr, long t, double gradScale) {
        steps[group].prepare(hyper[group], lr, t, gradScale);
        roundingKeys(steps[group], t);
    }

    @Override
    void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.adam(chunk, steps[chunk.group()], norms);
    }
}
