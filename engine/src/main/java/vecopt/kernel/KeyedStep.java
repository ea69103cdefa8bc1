package vecopt.kernel;

/**
 * A prepared step that carries the keys of its stochastic roundings: one for bfloat16 parameters kept without a
 * master copy, one per state variable for bfloat16 state. The keys are hashes of the run's seed and the step number
 * (the reference's {@code StochasticRounding}), set once per step by the optimizer when it prepares the step; the
 * vector loops and their scalar twins read them as {@code k.roundingKey} and {@code k.stateKeys[j]}, so an element
 * rounds the same way whatever thread, chunk or loop handles it.
 *
 * <pre>{@code
 * step.roundingKeys(paramSeed, stateSeed, t, stochasticParams, bfloat16State);
 * }</pre>
 */
public abstract class KeyedStep {
    /** The stochastic rounding's key for this step (bfloat16 parameters without a master copy). */
    int roundingKey;
    /** The keys of bfloat16 state's stochastic rounding for this step, one per state variable ({@code c.state[j]}). */
    final int[] stateKeys = new int[3];

    KeyedStep() {
    }

    /**
     * Sets this step's keys for update {@code t}: the parameters' from {@code paramSeed} when {@code params} (bfloat16
     * parameters with stochastic rounding), the state variables' from {@code stateSeed} when {@code state}
     * (bfloat16 state). Keys not asked for keep their values, which no loop reads.
     */
    public final void roundingKeys(long paramSeed, long stateSeed, long t, boolean params, boolean state) {
        if (params) {
            roundingKey = MixedScalar.roundingKey(paramSeed, t);
        }
        if (state) {
            MixedScalar.stateKeys(stateKeys, stateSeed, t);
        }
    }
}
