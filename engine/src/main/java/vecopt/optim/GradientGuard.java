package vecopt.optim;

import vecopt.clip.Clip;
import vecopt.clip.NonFinite;
import vecopt.clip.NonFiniteGradientException;
import vecopt.clip.NonFiniteParameterException;
import vecopt.exec.NormPass;
import vecopt.exec.WorkerPool;
import vecopt.kernel.Kernels;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * What a step does with the gradients before the update: the norm pass (one read of every gradient, when clipping is
 * on or the non-finite policy needs it), the policy for a NaN or infinity, and the clipping coefficient
 * {@code min(1, maxNorm / (norm + 1e-6))} the update kernel then multiplies each gradient by.
 */
final class GradientGuard {
    private final ParamSet params;
    private final NormPass pass;
    private final double maxNorm; // 0: no clipping
    private final NonFinite policy;
    private final boolean checkParams;
    private double norm = Double.NaN;
    private double coef = 1.0;
    private boolean paramsFinite = true;
    private boolean ran;
    private boolean foundInf;

    GradientGuard(ParamSet params, Kernels kernels, double maxNorm, NonFinite policy, boolean checkParams) {
        this.params = params;
        this.pass = new NormPass(params.tensors(), kernels, checkParams);
        this.maxNorm = maxNorm;
        this.policy = policy;
        this.checkParams = checkParams;
    }

    /**
     * Runs the norm pass if this guard needs one and decides: true to update with {@link #coefficient()}, false to
     * skip the step (policy SKIP and a non-finite gradient).
     *
     * @throws NonFiniteGradientException for a non-finite gradient under policy THROW
     */
    boolean admit(WorkerPool pool) {
        return admit(pool, 1.0, false);
    }

    /**
     * {@link #admit(WorkerPool)} for gradients scaled by {@code 1 / unscale} (loss scaling): the norm is of the
     * unscaled gradients, and with {@code lossScaled} a non-finite gradient skips the step whatever the policy (the
     * loss scaler's found-inf), which {@link #foundInf()} then tells.
     */
    boolean admit(WorkerPool pool, double unscale, boolean lossScaled) {
        norm = Double.NaN;
        coef = 1.0;
        paramsFinite = true;
        ran = false;
        foundInf = false;
        if (maxNorm == 0 && policy == NonFinite.PROCEED && !checkParams && !lossScaled) { // no read pass needed
            return true;
        }
        ran = true;
        // Scaling by a power of two (a loss scale's reciprocal) is exact, in the gradients' squares' double sum too.
        norm = Math.sqrt(pass.sumOfSquares(pool)) * unscale;
        paramsFinite = !checkParams || Double.isFinite(pass.paramSumOfSquares());
        if (!paramsFinite) {
            if (policy == NonFinite.THROW) {
                throw firstNonFiniteParameter();
            }
            if (policy == NonFinite.SKIP) {
                return false;
            }
        }
        if (!Double.isFinite(norm) && lossScaled) {
            foundInf = true;
            return false;
        }
        if (!Double.isFinite(norm)) {
            if (policy == NonFinite.THROW) {
                throw firstNonFinite();
            }
            if (policy == NonFinite.SKIP) {
                return false;
            }
        }
        if (maxNorm > 0) {
            coef = Clip.coefficient(maxNorm, norm);
        }
        return true;
    }

    /** Whether the last loss-scaled admission found a NaN or infinite gradient. */
    boolean foundInf() {
        return foundInf;
    }

    /** Clipping's maximum norm, 0 when not clipping. */
    double maxNorm() {
        return maxNorm;
    }

    NonFinite policy() {
        return policy;
    }

    boolean checksParams() {
        return checkParams;
    }

    /** The global gradient norm of the last {@link #admit}, NaN when it ran no norm pass. */
    double norm() {
        return norm;
    }

    /** True when the last {@link #admit} ran the norm pass. */
    boolean ran() {
        return ran;
    }

    /** False when the last {@link #admit} found a NaN or infinite parameter (only with parameter checks on). */
    boolean paramsFinite() {
        return paramsFinite;
    }

    /** The factor the update multiplies gradients by (1 when not clipping). */
    double coefficient() {
        return coef;
    }

    /** The sum of squared gradients on {@code pool}: what a data-parallel rank contributes to the global norm. */
    double sumOfSquares(WorkerPool pool) {
        return pass.sumOfSquares(pool);
    }

    private NonFiniteParameterException firstNonFiniteParameter() {
        long[] at = firstNonFinite(true);
        Tensor t = params.tensors().get((int) at[0]);
        return new NonFiniteParameterException(t.name(), at[1], t.params().get(t.offset() + at[1]));
    }

    private NonFiniteGradientException firstNonFinite() {
        long[] at = firstNonFinite(false);
        Tensor t = params.tensors().get((int) at[0]);
        return new NonFiniteGradientException(t.name(), at[1], t.grads().get(t.offset() + at[1]));
    }

    /**
     * Tensor and element index of the first NaN or infinity among the parameters or the gradients. The norm pass
     * found one, so there is one: a norm that overflowed on finite values would need more than 10^231 of the largest
     * floats, more than any buffer holds.
     */
    private long[] firstNonFinite(boolean inParams) {
        for (int k = 0; k < params.tensors().size(); k++) {
            Tensor t = params.tensors().get(k);
            for (long i = 0; i < t.length(); i++) {
                if (!Float.isFinite((inParams ? t.params() : t.grads()).get(t.offset() + i))) {
                    return new long[] {k, i};
                }
            }
        }
        throw new IllegalStateException("the norm pass found a non-finite value that a second look did not");
    }
}
