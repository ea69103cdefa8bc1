package vecopt.bench;

/**
 * The regression rule of {@code compare}: a figure regressed when it fell by more than {@code threshold} beyond its
 * error, that is when even the favourable end of the error bar of new/old is below {@code 1 - threshold}.
 *
 * <p>Errors are JMH's 99.9% half-widths, combined for the ratio as relative errors in quadrature:
 * {@code err(b/a) = (b/a) * sqrt((ea/a)^2 + (eb/b)^2)}. Higher is better (throughput, or a ratio such as x native).
 *
 * <pre>{@code
 * Regression.Verdict v = Regression.judge(100, 2, 85, 3, 0.10);  // v.regressed() == true
 * }</pre>
 */
final class Regression {
    /** Default threshold: a 10% drop beyond the error. */
    static final double DEFAULT_THRESHOLD = 0.10;

    /**
     * @param ratio    new / old
     * @param error    the ratio's error
     * @param regressed ratio + error < 1 - threshold
     * @param improved  ratio - error > 1 + threshold
     */
    record Verdict(double ratio, double error, boolean regressed, boolean improved) {
        String label() {
            return regressed ? "REGRESSED" : improved ? "improved" : "ok";
        }
    }

    private Regression() {
    }

    static Verdict judge(double old, double oldError, double now, double nowError, double threshold) {
        if (!(old > 0) || !Double.isFinite(old)) {
            throw new IllegalArgumentException("old must be a finite positive figure, got " + old);
        }
        if (!(now >= 0) || !Double.isFinite(now)) {
            throw new IllegalArgumentException("now must be a finite figure >= 0, got " + now);
        }
        if (!(oldError >= 0) || !(nowError >= 0)) {
            throw new IllegalArgumentException("errors must be >= 0, got " + oldError + " and " + nowError);
        }
        if (!(threshold >= 0 && threshold < 1)) {
            throw new IllegalArgumentException("threshold must be in [0, 1), got " + threshold);
        }
        double ratio = now / old;
        double relNow = now > 0 ? nowError / now : 0;
        double error = ratio * Math.sqrt(Math.pow(oldError / old, 2) + relNow * relNow);
        return new Verdict(ratio, error, ratio + error < 1 - threshold, ratio - error > 1 + threshold);
    }
}
