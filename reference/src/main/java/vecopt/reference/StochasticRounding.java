package vecopt.reference;

/**
 * Stochastic rounding of a float to bfloat16, as torchao's {@code _fp32_to_bf16_sr} defines it
 * ({@code torchao/optim/quant_utils.py}): round toward zero to a bfloat16, then move one bfloat16 unit away from zero
 * when a uniform 16-bit random number is smaller than the 16 bits that were dropped. The chance of moving is the
 * dropped fraction of a unit, so the expected result is the float itself.
 *
 * <p>The random number is vecopt's choice (torchao draws it from the device's generator): a hash of the step's
 * key and the element's index, written out here in plain arithmetic. The key of step {@code t} for seed
 * {@code seed} is SplitMix64's finalizer of {@code seed + t * 0x9E3779B97F4A7C15}, truncated to 32 bits; the number
 * of element {@code index} is the top 16 bits of {@code index * 0x9E3779B9 + key} in 32-bit arithmetic (the key
 * is uniform over steps, so each element's number is too).
 * A NaN becomes bfloat16's quiet NaN {@code 0x7FC0}.
 */
public final class StochasticRounding {
    private StochasticRounding() {
    }

    /** The key of step {@code t} of a run seeded with {@code seed}. */
    public static int key(long seed, long t) {
        long z = seed + t * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (int) z;
    }

    /**
     * The key of state variable {@code variable} (0 exp_avg, 1 exp_avg_sq, 2 max_exp_avg_sq) at step {@code t}: the
     * key of the seed moved by {@code (variable + 1) * 0x5851F42D4C957F2D}, so each variable draws its own numbers.
     * Schedule-free AdamW's moves of bfloat16 parameters between y and x draw theirs as variables 3 (to eval) and 4
     * (to train), {@code t} the group's steps so far.
     */
    public static int stateKey(long seed, long t, int variable) {
        return key(seed + 0x5851F42D4C957F2DL * (variable + 1), t);
    }

    /** The 16-bit random number, in [0, 65535], of element {@code index} under step key {@code key}. */
    public static int random(int key, long index) {
        int h = (int) index * 0x9E3779B9 + key; // wraps, as 32-bit integer arithmetic does
        return h >>> 16;
    }

    /** {@code x} rounded to bfloat16 with random number {@code r} in [0, 65535] (bits). */
    public static int bfloat16(float x, int r) {
        if (Float.isNaN(x)) {
            return 0x7FC0;
        }
        int bits = Float.floatToRawIntBits(x);
        int towardZero = bits >>> 16;            // sign, exponent and the 7 kept fraction bits
        int dropped = bits & 0xFFFF;
        int away = towardZero + 1;               // one unit further from zero (into the next binade, or infinity)
        return r < dropped ? away & 0xFFFF : towardZero;
    }
}
