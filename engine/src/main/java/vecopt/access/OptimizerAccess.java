package vecopt.access;

import java.lang.foreign.MemorySegment;
import vecopt.clip.NonFinite;
import vecopt.memory.Storage;
import vecopt.optim.Optimizer;
import vecopt.param.Tensor;

/**
 * What the checkpoint code needs of an optimizer beyond its public API: the counters to save and restore, the state
 * buffers to stream, the guard's settings, and the optimizer's one-thread-at-a-time guard. Implemented inside
 * {@code vecopt.optim} and handed over through {@link Access}, the way the JDK's {@code SharedSecrets} lets one of its
 * packages reach another's internals: this package is not exported, so no program outside the engine can call these
 * methods, and {@code vecopt.optim} gains no public method that would let a trainer set a step counter by hand.
 */
public interface OptimizerAccess {
    /** The optimizer's kind as saved in a checkpoint: "AdamW", "Adam", "Sgd", or its class's simple name. */
    String kind(Optimizer<?> optimizer);

    /**
     * Takes the optimizer's one-thread-at-a-time guard (throws {@link IllegalStateException}, naming both threads,
     * when another thread is inside it) and then checks it is usable: open, not broken by a failed step, buffers
     * alive. On a failed check the guard is released before the exception propagates.
     */
    void enter(Optimizer<?> optimizer);

    /** Releases the guard {@link #enter} took. */
    void leave(Optimizer<?> optimizer);

    /**
     * The state buffers of parameter buffer {@code params}, in {@link #bufferStateNames} order (every variable of
     * {@link Optimizer#stateNames()} but 8-bit moments and Adafactor's factored state, kept elsewhere).
     */
    Storage[] state(Optimizer<?> optimizer, Storage params);

    /** The names of the per-element state buffers {@link #state} returns, in its order. */
    java.util.List<String> bufferStateNames(Optimizer<?> optimizer);

    /** With 8-bit block-quantized moments, the size threshold (bitsandbytes' {@code min_8bit_size}); else 0. */
    int eightBitMinSize(Optimizer<?> optimizer);

    /** With 8-bit state, its variables in state order (every state variable but a master copy); else empty. */
    java.util.List<String> eightBitVariables(Optimizer<?> optimizer);

    /** With 8-bit state, per variable of {@link #eightBitVariables} whether it is coded as its square root. */
    boolean[] eightBitRoots(Optimizer<?> optimizer);

    /**
     * With 8-bit state, tensor {@code t}'s variables (in {@link #eightBitVariables} order), live: the codes (one byte
     * per element; a variable coded as its square root as codes of that) and their block scales (one float each),
     * or for a tensor below the threshold the float32 values and no scales.
     */
    EightBit eightBit(Optimizer<?> optimizer, Tensor t);

    /** One tensor's 8-bit moments; {@code scales} null when {@code quantized} is false (float32 values). */
    record EightBit(boolean quantized, MemorySegment[] values, MemorySegment[] scales) {
    }

    /**
     * State of tensor {@code t} kept outside the per-element buffers, live, as floats by Hugging Face's names:
     * Adafactor's {@code exp_avg_sq_row} and {@code exp_avg_sq_col} (a factored tensor) or {@code exp_avg_sq}, and
     * {@code RMS} (one float); empty for the other optimizers.
     */
    java.util.Map<String, MemorySegment> factoredState(Optimizer<?> optimizer, Tensor t);

    /** The seed of the 16-bit parameters' stochastic rounding ({@code stochasticRounding}), or null when off. */
    Long stochasticRoundingSeed(Optimizer<?> optimizer);

    /** The seed of bfloat16 state's stochastic rounding ({@code bfloat16State}), or null when the state is float32. */
    Long bfloat16StateSeed(Optimizer<?> optimizer);

    /** Steps skipped so far (non-finite gradients or parameters under the SKIP policy). */
    long skippedSteps(Optimizer<?> optimizer);

    NonFinite nonFinite(Optimizer<?> optimizer);

    boolean checkParams(Optimizer<?> optimizer);

    /**
     * PyTorch's names of the scalar state the optimizer keeps per group (NAdam's {@code mu_product}, ASGD's
     * {@code eta} and {@code mu}); empty for most optimizers.
     */
    java.util.List<String> scalarStateNames(Optimizer<?> optimizer);

    /** Group {@code group}'s value of scalar state {@code name}. */
    double scalarState(Optimizer<?> optimizer, int group, String name);

    /** Sets group {@code group}'s scalar state, {@code values} in {@link #scalarStateNames} order. */
    void restoreScalarState(Optimizer<?> optimizer, int group, double[] values);

    /**
     * Sets the counters a checkpoint restores: updates applied, steps skipped, and each group's update count (in
     * group order). Called with the guard held, after every tensor has been validated and copied.
     */
    void restoreCounters(Optimizer<?> optimizer, long steps, long skippedSteps, long[] groupSteps);
}
