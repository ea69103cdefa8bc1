package vecopt.optim;

import java.util.List;
import vecopt.kernel.LambStep;
import vecopt.kernel.TrustRatioStep;
import vecopt.param.ParamSet;

/**
 * LAMB (You et al., "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes", 2019, Algorithm 2)
 * with the semantics of optax's {@code lamb} ({@code optax/_src/alias.py}: {@code scale_by_adam}, then
 * {@code add_decayed_weights}, {@code scale_by_trust_ratio()}, the learning rate). Per tensor, at step {@code t} of
 * the group:
 * <pre>
 *   g     = -grad if maximize else grad                 (times the clipping coefficient)
 *   mu    = b1 * mu + (1 - b1) * g
 *   nu    = b2 * nu + (1 - b2) * g^2
 *   u     = (mu / (1 - b1^t)) / (sqrt(nu / (1 - b2^t) + eps_root) + eps) + weight_decay * p
 *   w     = min(||p||, maxWeightNorm)                   (no clamp by default, as optax)
 *   ratio = 1 if w == 0 or ||u|| == 0, else w / ||u||   (scale_by_trust_ratio: trust_coefficient 1, eps 0)
 *   p    -= lr * ratio * u
 * </pre>
 * The norms are over the whole tensor (a tensor larger than a chunk has its norm summed over its chunks), in double.
 * Two passes ({@code Layerwise}): pass 1 reads p, g, mu, nu and writes mu, nu (24 bytes per parameter), summing
 * each chunk's {@code u^2} and {@code p^2}; pass 2 reads p, mu, nu, recomputes {@code u} bit for bit and writes p
 * (16 bytes): 40 bytes per parameter, against 48 for the naive three passes (the update to scratch, a norm pass,
 * the apply). The float operations and the roundings that differ from optax's are in {@code vecopt.kernel.LambStep}.
 * Beyond optax: {@code maxWeightNorm} (torch-optimizer's {@code clamp_value}), {@code maximize} and
 * {@code lrScale}. State: {@code mu}, {@code nu} (optax's names). {@code trackNorms(true)} is refused; the last
 * update's ratio and norms per tensor are {@link #trustRatio(String)}, {@link #updateNorm(String)},
 * {@link #paramNorm(String)} (the report's norms are those of the applied change and the new parameters, which the
 * two passes do not compute). Checkpoints hold it: {@code mu}, {@code nu} and the options under optax's names.
 * Parameters and gradients may be bfloat16 or float16 (a float32 master copy, {@code master_param}, which both
 * passes read) or bfloat16 with {@code stochasticRounding(seed)}, as for the elementwise optimizers. With
 * {@code bfloat16State(seed)} {@code mu} and {@code nu} are stored as bfloat16, rounded stochastically, and the update
 * takes them as stored, as AdamW's does (and PyTorch's when its state is bfloat16): pass 1 computes {@code u} from the
 * rounded moments it stores, pass 2 reads them back, so the update applied is bitwise the one whose norm the trust
 * ratio holds (28 bytes per parameter with float32 parameters and gradients). Taking the unrounded moments, as the
 * other optimizers do with bfloat16 state, would need pass 2 to recompute them from the gradient and the old state.
 * With {@code eightBitState()} {@code mu} is coded in 8 bits as itself and {@code nu} as its square root, per block of
 * 256 against a scale from Adam's bounds known before pass 1 (the checkpoint's {@code mu} and {@code sqrt_nu}); the
 * update takes the moments as stored here too (the codes decoded), so the ratio is that of the update applied
 * (22 bytes per parameter with float32 parameters and gradients, 40 with float32 state).
 *
 * <pre>{@code
 * try (Lamb opt = Lamb.builder(params)
 *         .options(LambOptions.DEFAULTS.withWeightDecay(0.01))
 *         .group("no_decay", LambOptions.DEFAULTS, t -> t.name().endsWith(".bias"))
 *         .build()) {
 *     opt.step(schedule.lr(step));
 * }
 * Lamb lean = Lamb.builder(params).bfloat16State(7).build();   // mu and nu in 2 bytes each
 * Lamb leaner = Lamb.builder(params).eightBitState().build();   // mu and nu in 1 byte each (+ a scale per 256)
 * }</pre>
 */
public final class Lamb extends Layerwise<LambOptions> {
    private static final List<String> STATE = List.of("mu", "nu");
    private final LambStep[] steps;

    private Lamb(Builder b) {
        super(b);
        this.steps = new LambStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new LambStep();
        }
    }

    /** A builder whose default group has {@link LambOptions#DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    @Override
    List<String> stateNames(List<ParamGroup<LambOptions>> groups) {
        return STATE;
    }

    @Override
    TrustRatioStep step(int group) {
        return steps[group];
    }

    @Override
    boolean adapts(LambOptions options) {
        return true;
    }

    @Override
    double trustRatio(LambOptions o, double paramNorm, double updateNorm) {
        double w = Math.min(paramNorm, o.maxWeightNorm()); // NaN stays NaN, as optax's norms would be
        return w == 0 || updateNorm == 0 ? 1 : w / updateNorm;
    }

    @Override
    boolean supportsEightBitState() {
        return true;
    }

    @Override
    boolean eightBitRoot(String stateName) {
        return stateName.equals("nu"); // exp_avg_sq, non-negative: coded as its square root
    }

    @Override
    void prepareStep(int group, LambOptions o, long t, double gradScale) {
        steps[group].prepare(o.b1(), o.b2(), o.eps(), o.epsRoot(), o.weightDecay(), t, gradScale);
        roundingKeys(steps[group], t);
    }

    public static final class Builder extends Optimizer.Builder<LambOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, LambOptions.DEFAULTS);
        }

        public Lamb build() {
            return new Lamb(this);
        }
    }
}
