package vecopt.schedule;

/**
 * The shape of a decay (or, mirrored, a warmup) phase as a function of the phase's progress {@code p} in [0, 1]:
 * the fraction of the way from the floor to the peak that remains. Names and formulas are the {@code decay_type}
 * values of Hugging Face {@code transformers.optimization}'s {@code get_wsd_schedule}.
 *
 * <pre>{@code
 * Schedule wsd = Schedules.warmupStableDecay(3e-4, 3e-5, 1_000, 80_000, 19_000, DecayShape.ONE_MINUS_SQRT);
 * }</pre>
 */
public enum DecayShape {
    /** {@code 1 - p}. */
    LINEAR,
    /** {@code 0.5 * (1 + cos(pi * 2 * num_cycles * p))}; with the default 0.5 cycles, {@code 0.5 * (1 + cos(pi p))}. */
    COSINE,
    /** {@code 1 - sqrt(p)} (Hägele et al. 2024, "1-sqrt" cooldown). */
    ONE_MINUS_SQRT;

    /** The remaining fraction at progress {@code p} for a half cosine (num_cycles 0.5). */
    double remaining(double p) {
        return switch (this) {
            case LINEAR -> 1.0 - p;
            case COSINE -> 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * p));
            case ONE_MINUS_SQRT -> 1.0 - Math.sqrt(p);
        };
    }
}
