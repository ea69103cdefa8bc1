package vecopt.djl.train;

import java.util.Arrays;
import java.util.List;
import vecopt.monitor.Finding;

/**
 * Everything one recipe's run recorded, per step and per held-out evaluation, plus where the time went.
 *
 * <pre>{@code
 * RunLog log = TrainingRun.run(cfg, Recipe.named("warmup"), data, TrainingRun.Listener.SILENT);
 * double loss = log.finalHeldOutLoss();
 * }</pre>
 */
public final class RunLog {
    final Recipe recipe;
    final int steps;
    final long warmupSteps;
    final double[] trainLoss;
    final double[] lr;
    final double[] gradNorm;
    final double[] clipCoef;
    final boolean[] skipped;
    final double[] updateRatio;
    final int[] evalStep;
    final double[] evalLoss;
    final double[] modelMillis;
    final double[] optimizerMillis;
    /** Per step: the bridge's float32/16-bit conversions (within optimizerMillis; 0 without a 16-bit precision). */
    final double[] conversionMillis;
    /**
     * Per step: a 64-bit fingerprint of every parameter's bits as the step's forward pass reads them, and of the
     * step's batch (its token ids). With the losses and gradient norms they tell where two runs that should agree
     * first part: in the parameters (the optimizer or a resume) or in the forward and backward pass on equal inputs.
     */
    final long[] paramHash;
    final long[] batchHash;
    /** Optimizer state per parameter, in bytes (master copy included), as bound at the first step. */
    double stateBytesPerParameter;
    int evals;
    final double[] skippedAsDouble; // mirrors of skipped and evalStep, for saving the history in a checkpoint
    final double[] evalStepAsDouble;
    float[] finalParams;
    /** What the health monitor found in this run, oldest first. */
    List<Finding> findings = List.of();

    RunLog(Recipe recipe, int steps, long warmupSteps, int maxEvals) {
        this.recipe = recipe;
        this.steps = steps;
        this.warmupSteps = warmupSteps;
        trainLoss = new double[steps];
        lr = new double[steps];
        gradNorm = new double[steps];
        clipCoef = new double[steps];
        skipped = new boolean[steps];
        updateRatio = new double[steps];
        modelMillis = new double[steps];
        optimizerMillis = new double[steps];
        conversionMillis = new double[steps];
        paramHash = new long[steps];
        batchHash = new long[steps];
        evalStep = new int[maxEvals];
        evalLoss = new double[maxEvals];
        skippedAsDouble = new double[steps];
        evalStepAsDouble = new double[maxEvals];
    }

    void addEval(int step, double loss) {
        evalStep[evals] = step;
        evalLoss[evals] = loss;
        evals++;
    }

    public Recipe recipe() {
        return recipe;
    }

    /** Every parameter after the last step, concatenated in DJL's parameter order, for comparing runs bit for bit. */
    public float[] finalParams() {
        return finalParams.clone();
    }

    /** Training (mini-batch) loss of each step, before its update. */
    public double[] trainLoss() {
        return trainLoss.clone();
    }

    /** Held-out losses, one per evaluation. */
    public double[] heldOutLoss() {
        return Arrays.copyOf(evalLoss, evals);
    }

    /** What the health monitor found. */
    public List<Finding> findings() {
        return findings;
    }

    public double finalHeldOutLoss() {
        return evalLoss[evals - 1];
    }

    /** Index of the evaluation with the lowest held-out loss (NaN counts as worst). */
    int bestEval() {
        int best = 0;
        for (int i = 1; i < evals; i++) {
            if (evalLoss[i] < evalLoss[best] || Double.isNaN(evalLoss[best])) {
                best = i;
            }
        }
        return best;
    }

    int skippedSteps() {
        int n = 0;
        for (boolean s : skipped) {
            n += s ? 1 : 0;
        }
        return n;
    }

    @Override
    public String toString() {
        return "RunLog[" + recipe.name() + ", " + steps + " steps, held-out losses "
                + Arrays.toString(heldOutLoss()) + "]";
    }
}
