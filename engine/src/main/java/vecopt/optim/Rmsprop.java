package vecopt.optim;

import java.util.ArrayList;
import java.util.List;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.kernel.RmspropStep;
import vecopt.param.ParamSet;

/**
 * RMSprop (Hinton, "Neural Networks for Machine Learning", lecture 6e; the centered form from Graves, "Generating
 * Sequences With Recurrent Neural Networks", 2013) with PyTorch's {@code torch.optim.RMSprop} semantics, as
 * {@code _single_tensor_rmsprop} in {@code torch/optim/rmsprop.py} computes it. Per element:
 * <pre>
 *   g          = -grad if maximize else grad
 *   g         += weight_decay * p                                 (L2)
 *   square_avg = alpha * square_avg + (1 - alpha) * g^2
 *   grad_avg   = alpha * grad_avg + (1 - alpha) * g                (centered)
 *   avg        = sqrt(square_avg - grad_avg^2) + eps   if centered, else   sqrt(square_avg) + eps
 *   buf        = momentum * buf + g / avg;   p -= lr * buf          (momentum > 0)
 *   p         -= lr * g / avg                                      (momentum 0)
 * </pre>
 * eps is added after the root, as PyTorch does (TensorFlow adds it inside). State: {@code square_avg}, and
 * {@code momentum_buffer} (momentum > 0) and {@code grad_avg} (centered) when some group uses them. Bytes per
 * parameter per step: 12, plus 8 for each of momentum and centered (20 or 28). The float operation sequence is in
 * {@code vecopt.kernel.RmspropStep}. {@code trackNorms(true)} is refused: no tracked loop yet.
 *
 * <pre>{@code
 * try (Rmsprop opt = Rmsprop.builder(params).options(RmspropOptions.DEFAULTS.withMomentum(0.9)).build()) {
 *     opt.step(1e-3);
 * }
 * }</pre>
 */
public final class Rmsprop extends Optimizer<RmspropOptions> {
    private final RmspropStep[] steps;
    private final int gradAvg;
    private final int momentumBuffer;

    private Rmsprop(Builder b) {
        super(untracked(b, "RMSprop"));
        this.steps = new RmspropStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new RmspropStep();
        }
        this.gradAvg = stateNames().indexOf("grad_avg");
        this.momentumBuffer = stateNames().indexOf("momentum_buffer");
    }

    /** A builder whose default group has {@link RmspropOptions#DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    @Override
    List<String> stateNames(List<ParamGroup<RmspropOptions>> groups) {
        List<String> names = new ArrayList<>(List.of("square_avg"));
        if (groups.stream().anyMatch(g -> g.options().momentum() > 0 && !g.tensors().isEmpty())) {
            names.add("momentum_buffer");
        }
        if (groups.stream().anyMatch(g -> g.options().centered() && !g.tensors().isEmpty())) {
            names.add("grad_avg");
        }
        return names;
    }

    @Override
    boolean supportsEightBitState() {
        return true;
    }

    @Override
    boolean eightBitRoot(String stateName) {
        return stateName.equals("square_avg");
    }

    @Override
    String eightBitRefusal(RmspropOptions o) {
        // the buffer accumulates g / (sqrt(v) + eps), whose block bound needs each element's own denominator, not
        // the block's largest values
        return o.momentum() != 0 ? "RMSprop with momentum keeps momentum_buffer += g / (sqrt(square_avg) + eps),"
                + " whose block has no bound known before the step (momentum is " + o.momentum() + "; 8-bit state"
                + " takes RMSprop without momentum, centered or not)" : null;
    }

    @Override
    void prepare(int group, RmspropOptions o, double lr, long t, double gradScale) {
        steps[group].prepare(lr, o.alpha(), o.eps(), o.weightDecay(), o.momentum(), o.centered(), gradAvg,
                momentumBuffer, gradScale);
        roundingKeys(steps[group], t);
    }

    @Override
    void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.update(chunk, steps[chunk.group()]);
    }

    public static final class Builder extends Optimizer.Builder<RmspropOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, RmspropOptions.DEFAULTS);
        }

        public Rmsprop build() {
            return new Rmsprop(this);
        }
    }
}
