package vecopt.optim;

import java.util.List;
import vecopt.kernel.AsgdStep;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.param.ParamSet;

/**
 * ASGD, averaged stochastic gradient descent (Polyak and Juditsky, "Acceleration of Stochastic Approximation by
 * Averaging", SIAM J. Control Optim. 30(4), 1992), with PyTorch's {@code torch.optim.ASGD} semantics, as
 * {@code _single_tensor_asgd} in {@code torch/optim/asgd.py} computes it. Per element, at step {@code t} of the group:
 * <pre>
 *   g   = -grad if maximize else grad
 *   g  += weight_decay * p                          (L2)
 *   p  *= 1 - lambd * eta
 *   p  -= eta * g
 *   ax += (p - ax) * mu          (ax = p while mu == 1: through step t0 + 2)
 *   eta = lr / (1 + lambd * lr * t)^alpha;   mu = 1 / max(1, t - t0)      (for the next step)
 * </pre>
 * The parameters follow SGD with a decaying step; {@code ax}, the running average of the parameters since step
 * {@code t0}, is the averaged iterate the method is named for ({@code state("w", "ax")}; PyTorch leaves it to the
 * user too). State: {@code ax} per element; 16 bytes per parameter per step while {@code mu == 1} (read p, g; write
 * p, ax), 20 once averaging starts (ax read too); per group the scalars {@code eta} and {@code mu} ({@link #eta},
 * {@link #mu}; PyTorch keeps them per tensor, equal within a group, as float32 tensors, kept here as floats). The
 * lr of {@link #step(double)} is used as PyTorch uses the group's {@code lr}: the first step's is eta's starting
 * value, and each step's sets the next step's eta (so a schedule reaches the update one step late, as in PyTorch).
 * The float operation sequence is in {@code vecopt.kernel.AsgdStep}. {@code trackNorms(true)} is refused: no
 * tracked loop yet.
 *
 * <pre>{@code
 * try (Asgd opt = Asgd.builder(params).options(AsgdOptions.DEFAULTS.withT0(1000)).build()) {
 *     opt.step(1e-2);
 *     MemorySegment averaged = opt.state("w", "ax");
 * }
 * }</pre>
 */
public final class Asgd extends Optimizer<AsgdOptions> {
    private static final List<String> STATE = List.of("ax");
    private static final List<String> SCALARS = List.of("eta", "mu");
    private final AsgdStep[] steps;

    private Asgd(Builder b) {
        super(untracked(b, "ASGD"));
        this.steps = new AsgdStep[groups().size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = new AsgdStep();
        }
    }

    /** A builder whose default group has {@link AsgdOptions#DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    /** PyTorch's state {@code eta} of the group called {@code group}: the next step's; 0 before its first step. */
    public double eta(String group) {
        return steps[groups().indexOf(group(group))].eta();
    }

    /** PyTorch's state {@code mu} of the group called {@code group}: the next step's; 1 before its first step. */
    public double mu(String group) {
        return steps[groups().indexOf(group(group))].mu();
    }

    @Override
    List<String> stateNames(List<ParamGroup<AsgdOptions>> groups) {
        return STATE;
    }

    @Override
    List<String> scalarStateNames() {
        return SCALARS;
    }

    @Override
    double scalarState(int group, String name) {
        return switch (name) {
            case "eta" -> steps[group].eta();
            case "mu" -> steps[group].mu();
            default -> super.scalarState(group, name);
        };
    }

    @Override
    void restoreScalarState(int group, double[] values) {
        steps[group].restore((float) values[0], (float) values[1]);
    }

    @Override
    String eightBitNever() {
        return "ax is the average of the parameters, what ASGD returns: a block bound exists (max(|ax|, |new p|)),"
                + " but 8 bits (3 of mantissa) would hold the averaged parameters to about 6% each";
    }

    @Override
    void prepare(int group, AsgdOptions o, double lr, long t, double gradScale) {
        steps[group].prepare(lr, o.lambd(), o.alpha(), o.t0(), o.weightDecay(), t, gradScale);
        roundingKeys(steps[group], t);
    }

    @Override
    void run(Kernels kernels, Chunk chunk, double[] norms) {
        kernels.update(chunk, steps[chunk.group()]);
    }

    public static final class Builder extends Optimizer.Builder<AsgdOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, AsgdOptions.DEFAULTS);
        }

        public Asgd build() {
            return new Asgd(this);
        }
    }
}
