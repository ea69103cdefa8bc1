package vecopt.optim;

import java.util.List;
import vecopt.kernel.LarsStep;
import vecopt.kernel.TrustRatioStep;
import vecopt.param.ParamSet;

/**
 * LARS (You, Gitman and Ginsburg, "Large Batch Training of Convolutional Networks", 2017) with the semantics of
 * optax's {@code lars} ({@code optax/_src/alias.py}: {@code add_decayed_weights}, {@code scale_by_trust_ratio}
 * under {@code trust_ratio_mask}, the learning rate, then {@code trace}). Per tensor:
 * <pre>
 *   g      = -grad if maximize else grad                (times the clipping coefficient)
 *   u      = g + weight_decay * p
 *   ratio  = 1 if ||p|| == 0 or ||u|| == 0, else trust_coefficient * ||p|| / (||u|| + eps)
 *            (1 for a group with trustRatio false: optax's trust_ratio_mask)
 *   u      = -lr * ratio * u
 *   trace  = u + momentum * trace
 *   p     += nesterov ? u + momentum * trace : trace
 * </pre>
 * The learning rate is inside the trace, as in optax (PyTorch-style SGD multiplies the buffer by the lr instead:
 * the two differ when the lr changes). The norms are over the whole tensor, in double. Two passes
 * ({@code Layerwise}): pass 1 reads p and g of the adapted groups' tensors (8 bytes per parameter) and sums each
 * chunk's {@code u^2} and {@code p^2}; pass 2 reads p, g, trace and writes p, trace (20 bytes): 28 bytes per
 * parameter, against 40 for the naive three passes (u to scratch, a norm pass, the apply). The float operations
 * and the roundings that differ from optax's are in {@code vecopt.kernel.LarsStep}. Beyond optax: {@code maximize}
 * and {@code lrScale}. State: {@code trace} (optax's name), kept for every group (optax keeps it at momentum 0
 * too). {@code trackNorms(true)} is refused; the last update's ratio and norms per tensor are
 * {@link #trustRatio(String)}, {@link #updateNorm(String)}, {@link #paramNorm(String)}. Checkpoints hold it:
 * {@code trace} and the options under optax's names. Parameters and gradients may be bfloat16 or float16 (a float32
 * master copy, {@code master_param}, which both passes read) or bfloat16 with {@code stochasticRounding(seed)}, as
 * for the elementwise optimizers. With {@code bfloat16State(seed)} {@code trace} is stored as bfloat16, rounded
 * stochastically, and the parameters move by the new trace as computed in float32, as SGD's by its momentum buffer
 * (pass 1 reads no state): the step is bit for bit the float32 step on the trace it read (24 bytes per parameter).
 * With {@code eightBitState()} {@code trace} is coded in 8 bits per block of 256 against a scale set in pass 2, once
 * the trust ratio is known ({@code |momentum| T + |lr ratio| (G + |wd| P)}: the block's largest decoded trace,
 * gradient and parameter), and the parameters move by the new trace as computed (22 bytes per parameter).
 *
 * <pre>{@code
 * LarsOptions o = LarsOptions.DEFAULTS.withWeightDecay(1e-4);
 * try (Lars opt = Lars.builder(params).options(o)
 *         .group("no_adapt", o.withWeightDecay(0).withTrustRatio(false),
 *                 t -> t.name().endsWith(".bias") || t.name().contains("norm"))
 *         .build()) {
 *     opt.step(schedule.lr(step));
 * }
 * }</pre>
 */
public final class Lars extends Layerwise<LarsOptions> {
    private static final List<String> STATE = List.of("trace");
    private final LarsStep[] steps;

    private Lars(Builder b) {
        super(b);
        this.steps = new LarsStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new LarsStep();
        }
    }

    /** A builder whose default group has {@link LarsOptions#DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    @Override
    List<String> stateNames(List<ParamGroup<LarsOptions>> groups) {
        return STATE;
    }

    @Override
    TrustRatioStep step(int group) {
        return steps[group];
    }

    @Override
    boolean adapts(LarsOptions options) {
        return options.trustRatio();
    }

    @Override
    double trustRatio(LarsOptions o, double paramNorm, double updateNorm) {
        return paramNorm == 0 || updateNorm == 0 ? 1 : o.trustCoefficient() * paramNorm / (updateNorm + o.eps());
    }

    @Override
    boolean supportsEightBitState() {
        return true;
    }

    @Override
    void prepareStep(int group, LarsOptions o, long t, double gradScale) {
        steps[group].prepare(o.weightDecay(), o.momentum(), o.nesterov(), gradScale);
        roundingKeys(steps[group], t);
    }

    public static final class Builder extends Optimizer.Builder<LarsOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, LarsOptions.DEFAULTS);
        }

        public Lars build() {
            return new Lars(this);
        }
    }
}
