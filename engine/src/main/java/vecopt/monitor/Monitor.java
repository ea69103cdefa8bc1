package vecopt.monitor;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import vecopt.check.Require;
import vecopt.optim.Optimizer;
import vecopt.optim.StepReport;

/**
 * The optimizer guide's debugging table as a live monitor: it reads each step's {@link StepReport} (and the loss, when
 * the trainer passes it) and recognises the guide's symptoms (gradients zero or vanishing, gradient norm spiking or
 * growing, clipping on most steps, repeated non-finite skips, updates negligible or too large relative to the
 * weights, loss NaN, spiking or flat, lr still ramping late, a fine-tuning lr in the pre-training range). Each
 * {@link Finding} names the numbers that triggered it, its steps, the likely causes and the guide's remedies, those
 * this run's configuration does not already follow (no "add clipping" to a run that clips). A symptom is reported
 * once per episode: an episode ends after {@value #QUIET} steps without it.
 *
 * <pre>{@code
 * Monitor monitor = Monitor.builder(opt).totalSteps(steps).build();
 * for (int step = 0; step < steps; step++) {
 *     double loss = model.forwardBackward(batch);
 *     monitor.observe(opt.step(schedule.lr(step)), loss);
 * }
 * monitor.findings().forEach(System.out::println);
 * }</pre>
 *
 * <p>Findings go to the {@link System.Logger} named {@code vecopt.monitor} at {@code WARNING} (or the one the builder
 * is given), to an optional listener, and to {@link #findings()}. {@link #observe} allocates nothing unless it
 * reports a finding; the update/weight ratio needs the optimizer's {@code trackNorms(true)}. One monitor serves one
 * trainer thread.
 *
 * <p>Thresholds (the constants below): a gradient-norm spike is {@value #SPIKE_FACTOR}x the median of the previous
 * {@value #WINDOW} finite norms; a loss spike {@value #LOSS_SPIKE_FACTOR}x the median of the previous {@value #WINDOW}
 * losses and at least {@value #LOSS_SPIKE_FLOOR} of the first loss above it; growth is {@value #GROWTH_FACTOR}x between
 * consecutive windows of {@value #GROWTH_WINDOW}; updates are negligible below {@value #RATIO_LOW} and too large above
 * {@value #RATIO_HIGH} (median of {@value #RATIO_WINDOW} steps, against the usual band around 1e-3), negligible only
 * while the lr is at least {@value #DECAYED} of its peak so far (the end of a decay to 0 makes updates vanish by
 * design). Sources: the debugging table ("loss not decreasing", "loss explodes (NaN)", "fine-tuning destroys the
 * model") and the "when this matters" table of the optimizer guide in the project's seed material.
 */
public final class Monitor {
    /** Steps of history the running medians use. */
    public static final int WINDOW = 50;
    /** Earlier finite values a spike needs to be judged against. */
    public static final int MIN_HISTORY = 1;
    /** A gradient norm this many times its running median is a spike. */
    public static final double SPIKE_FACTOR = 10;
    /** A loss this many times its running median (and {@link #LOSS_SPIKE_FLOOR} above it) is a spike. */
    public static final double LOSS_SPIKE_FACTOR = 5;
    /** A loss spike rises at least this fraction of the first loss above the running median (ignores tiny losses). */
    public static final double LOSS_SPIKE_FLOOR = 0.1;
    /** Consecutive steps of a zero gradient norm that report zero gradients. */
    public static final int ZERO_STEPS = 3;
    /** Steps whose median gradient norm is the reference for vanishing gradients. */
    public static final int EARLY = 20;
    /** Below this fraction of the early median, the gradient norm has vanished. */
    public static final double VANISHING_FRACTION = 1e-4;
    /** Consecutive steps of vanished gradients that report it. */
    public static final int VANISHING_STEPS = 20;
    /** Steps per window of the growth test. */
    public static final int GROWTH_WINDOW = 25;
    /** The later window's median gradient norm this many times the earlier one's is growth. */
    public static final double GROWTH_FACTOR = 4;
    /** Steps whose clipping is counted: long enough that the clipping of the first steps alone is not "most". */
    public static final int CLIP_WINDOW = 200;
    /** Steps whose skips are counted. */
    public static final int SKIP_WINDOW = 100;
    /** Skipped (non-finite) steps within {@link #SKIP_WINDOW} that report repeated skips. */
    public static final int SKIP_COUNT = 3;
    /** Steps whose median update/weight ratio is judged. */
    public static final int RATIO_WINDOW = 20;
    /** Median update/weight ratio below which updates are negligible (1e-3 is the usual band). */
    public static final double RATIO_LOW = 1e-5;
    /** Median update/weight ratio above which updates are too large. */
    public static final double RATIO_HIGH = 1e-1;
    /** Negligible updates are not judged while the lr is below this fraction of its peak so far. */
    public static final double DECAYED = 0.1;
    /** Losses seen before a flat loss can be reported. */
    public static final int FLAT_STEPS = 200;
    /** The recent median loss above this fraction of the first {@link #WINDOW} losses' median is flat. */
    public static final double FLAT_FRACTION = 0.99;
    /** The lr rising after this fraction of the declared run length is a warmup still going on. */
    public static final double RAMP_FRACTION = 0.25;
    /** A fine-tuning lr less than this factor below the pre-training lr is in the pre-training range. */
    public static final double FINE_TUNING_RATIO = 10;
    /** Without a pre-training lr, a fine-tuning lr above this is in the pre-training range. */
    public static final double FINE_TUNING_MAX = 1e-4;
    /** Steps without a symptom that end its episode. */
    public static final int QUIET = 20;

    private static final Symptom[] SYMPTOMS = Symptom.values();

    private final double clipBound;
    private final long declaredWarmup; // -1: not declared
    private final long totalSteps; // 0: not declared
    private final boolean fineTuning;
    private final double pretrainingLr; // NaN: unknown
    private final Logger logger;
    private final Consumer<Finding> listener;

    private final Window gradNorms = new Window(WINDOW);
    private final Window growth = new Window(2 * GROWTH_WINDOW);
    private final Window early = new Window(EARLY);
    private final Window ratios = new Window(RATIO_WINDOW);
    private final Window losses = new Window(WINDOW);
    private final Window firstLosses = new Window(WINDOW);
    private final boolean[] clipped = new boolean[CLIP_WINDOW];
    private final boolean[] skips = new boolean[SKIP_WINDOW];
    private long observed;
    private long lossCount;
    private int clippedCount;
    private int skipCount;
    private int zeroRun;
    private int vanishedRun;
    private double earlyMedian = Double.NaN;
    private double firstLoss = Double.NaN;
    private double previousLr = Double.NaN;
    private double peakLr;
    private boolean lrRose;

    private final boolean[] active = new boolean[SYMPTOMS.length];
    private final long[] lastSeen = new long[SYMPTOMS.length];
    private final int[] episode = new int[SYMPTOMS.length]; // index into found of the current episode
    private final List<Finding> found = new ArrayList<>();
    private long[] foundLast = new long[16];

    private Monitor(Builder b) {
        this.clipBound = b.clipBound;
        this.declaredWarmup = b.warmupSteps;
        this.totalSteps = b.totalSteps;
        this.fineTuning = b.fineTuning;
        this.pretrainingLr = b.pretrainingLr;
        this.logger = b.logger;
        this.listener = b.listener;
    }

    /** A monitor for a run that declares nothing about itself (no clipping, warmup inferred from the lr). */
    public static Builder builder() {
        return new Builder();
    }

    /** A monitor for a run of {@code optimizer}: its clipping bound is taken from it. */
    public static Builder builder(Optimizer<?> optimizer) {
        return new Builder().clipGradNorm(optimizer.clipGradNorm());
    }

    /** Reads a step's report when the trainer does not pass the loss. */
    public void observe(StepReport report) {
        observe(report, Double.NaN, false);
    }

    /** Reads a step's report and the training loss of the batch it was computed on. */
    public void observe(StepReport report, double loss) {
        observe(report, loss, true);
    }

    private void observe(StepReport r, double loss, boolean withLoss) {
        double lr = r.lr(0);
        for (int g = 1; g < r.groups(); g++) {
            lr = Math.max(lr, r.lr(g));
        }
        observe(r.step(), lr, r.gradNormComputed(), r.gradNorm(), r.clipCoef(), r.skipped(),
                r.normsTracked() ? r.updateRatio() : Double.NaN, withLoss, loss);
    }

    /** The signals of one step (package-private so tests can build streams without an optimizer). */
    void observe(long step, double lr, boolean normComputed, double gradNorm, double clipCoef, boolean skipped,
                 double updateRatio, boolean withLoss, double loss) {
        observed++;
        lrSignals(step, lr);
        gradientSignals(step, normComputed, gradNorm, clipCoef, skipped);
        if (!skipped && Double.isFinite(updateRatio)) {
            ratioSignals(step, lr, updateRatio);
        }
        if (withLoss) {
            lossSignals(step, loss);
        }
        for (int s = 0; s < SYMPTOMS.length; s++) { // episodes end after QUIET steps without their symptom
            if (active[s] && step - lastSeen[s] >= QUIET) {
                active[s] = false;
            }
        }
    }

    private void lrSignals(long step, double lr) {
        boolean rising = !Double.isNaN(previousLr) && lr > previousLr;
        if (rising) {
            lrRose = true;
        }
        previousLr = lr;
        peakLr = Math.max(peakLr, lr);
        if (totalSteps > 0 && seen(Symptom.LR_STILL_RAMPING, step, rising && step > RAMP_FRACTION * totalSteps)) {
            report(Symptom.LR_STILL_RAMPING, step, String.format(Locale.ROOT,
                    "lr %.3g at step %d is still rising, %.0f%% into a run of %d steps", lr, step,
                    100.0 * step / totalSteps, totalSteps));
        }
        if (fineTuning) {
            boolean high = Double.isNaN(pretrainingLr) ? lr > FINE_TUNING_MAX : lr * FINE_TUNING_RATIO > pretrainingLr;
            if (seen(Symptom.FINE_TUNING_LR_HIGH, step, high)) {
                report(Symptom.FINE_TUNING_LR_HIGH, step, Double.isNaN(pretrainingLr)
                        ? String.format(Locale.ROOT, "fine-tuning lr %.3g at step %d is above %.0e", lr, step,
                                FINE_TUNING_MAX)
                        : String.format(Locale.ROOT, "fine-tuning lr %.3g at step %d is only %.1fx below the"
                                + " pre-training lr %.3g (the guide: 10-100x smaller)", lr, step, pretrainingLr / lr,
                                pretrainingLr));
            }
        }
    }

    private void gradientSignals(long step, boolean normComputed, double norm, double clipCoef, boolean skipped) {
        int slot = (int) ((observed - 1) % SKIP_WINDOW);
        skipCount += (skipped ? 1 : 0) - (skips[slot] ? 1 : 0);
        skips[slot] = skipped;
        if (seen(Symptom.NON_FINITE_SKIPS, step, skipCount >= SKIP_COUNT)) {
            report(Symptom.NON_FINITE_SKIPS, step, String.format(Locale.ROOT,
                    "%d of the last %d steps skipped on non-finite gradients (step %d)", skipCount,
                    Math.min(observed, SKIP_WINDOW), step));
        }
        boolean clip = !skipped && clipCoef < 1;
        int c = (int) ((observed - 1) % CLIP_WINDOW);
        clippedCount += (clip ? 1 : 0) - (clipped[c] ? 1 : 0);
        clipped[c] = clip;
        // Still clipping now, and on most steps of a long window: gradients are largest in the first steps, and
        // clipping that stopped once they fell is the bound doing its job, not a symptom.
        if (seen(Symptom.CLIPPING_MOSTLY, step, observed >= CLIP_WINDOW && clip && 2 * clippedCount > CLIP_WINDOW)) {
            report(Symptom.CLIPPING_MOSTLY, step, String.format(Locale.ROOT,
                    "clipping to %.3g scaled the gradients on %d of the last %d steps (median grad norm %.3g)",
                    clipBound, clippedCount, CLIP_WINDOW, gradNorms.count() > 0 ? gradNorms.median() : Double.NaN));
        }
        if (!normComputed || skipped || !Double.isFinite(norm)) {
            return;
        }
        zeroRun = norm == 0 ? zeroRun + 1 : 0;
        if (seen(Symptom.ZERO_GRADIENTS, step, zeroRun >= ZERO_STEPS)) {
            report(Symptom.ZERO_GRADIENTS, step, String.format(Locale.ROOT,
                    "gradient norm exactly 0 on %d consecutive steps (to step %d)", zeroRun, step));
        }
        if (gradNorms.count() >= MIN_HISTORY) {
            double median = gradNorms.median();
            if (seen(Symptom.GRAD_NORM_SPIKE, step, median > 0 && norm >= SPIKE_FACTOR * median)) {
                report(Symptom.GRAD_NORM_SPIKE, step, String.format(Locale.ROOT,
                        "grad norm %.3g at step %d, %.0fx its running median %.3g%s", norm, step, norm / median,
                        median, configuration()));
            }
        }
        gradNorms.add(norm);
        if (!early.full()) {
            early.add(norm);
            if (early.full()) {
                earlyMedian = early.median();
            }
        }
        vanishedRun = earlyMedian > 0 && norm > 0 && norm < VANISHING_FRACTION * earlyMedian ? vanishedRun + 1 : 0;
        if (seen(Symptom.VANISHING_GRADIENTS, step, vanishedRun >= VANISHING_STEPS)) {
            report(Symptom.VANISHING_GRADIENTS, step, String.format(Locale.ROOT,
                    "grad norm %.3g at step %d, below %.0e of its early median %.3g for %d steps", norm, step,
                    VANISHING_FRACTION, earlyMedian, vanishedRun));
        }
        growth.add(norm);
        if (growth.full()) {
            double before = growth.median(0, GROWTH_WINDOW), after = growth.median(GROWTH_WINDOW, 2 * GROWTH_WINDOW);
            if (seen(Symptom.GRAD_NORM_GROWING, step, before > 0 && after >= GROWTH_FACTOR * before)) {
                report(Symptom.GRAD_NORM_GROWING, step, String.format(Locale.ROOT,
                        "median grad norm %.3g over the %d steps to %d, %.1fx the %.3g of the %d before%s", after,
                        GROWTH_WINDOW, step, after / before, before, GROWTH_WINDOW, configuration()));
            }
        }
    }

    private void ratioSignals(long step, double lr, double ratio) {
        ratios.add(ratio);
        if (!ratios.full()) {
            return;
        }
        double median = ratios.median();
        if (seen(Symptom.UPDATES_NEGLIGIBLE, step, median < RATIO_LOW && lr >= DECAYED * peakLr)) {
            report(Symptom.UPDATES_NEGLIGIBLE, step, String.format(Locale.ROOT,
                    "median update/weight ratio %.2g over the %d steps to %d (lr %.3g), under %.0e (usual: ~1e-3)",
                    median, RATIO_WINDOW, step, lr, RATIO_LOW));
        }
        if (seen(Symptom.UPDATES_TOO_LARGE, step, median > RATIO_HIGH)) {
            report(Symptom.UPDATES_TOO_LARGE, step, String.format(Locale.ROOT,
                    "median update/weight ratio %.2g over the %d steps to %d (lr %.3g), over %.0e (usual: ~1e-3)%s",
                    median, RATIO_WINDOW, step, lr, RATIO_HIGH, configuration()));
        }
    }

    private void lossSignals(long step, double loss) {
        if (seen(Symptom.LOSS_NAN, step, !Double.isFinite(loss))) {
            report(Symptom.LOSS_NAN, step, String.format(Locale.ROOT, "loss %s at step %d%s", loss, step,
                    configuration()));
        }
        if (!Double.isFinite(loss)) {
            return;
        }
        if (Double.isNaN(firstLoss)) {
            firstLoss = loss;
        }
        if (losses.count() >= MIN_HISTORY) {
            double median = losses.median();
            boolean spike = median > 0 && loss >= LOSS_SPIKE_FACTOR * median
                    && loss - median >= LOSS_SPIKE_FLOOR * Math.abs(firstLoss);
            if (seen(Symptom.LOSS_SPIKE, step, spike)) {
                report(Symptom.LOSS_SPIKE, step, String.format(Locale.ROOT,
                        "loss %.4g at step %d, %.1fx its running median %.4g%s", loss, step, loss / median, median,
                        configuration()));
            }
        }
        losses.add(loss);
        if (!firstLosses.full()) {
            firstLosses.add(loss);
        }
        lossCount++;
        if (lossCount >= FLAT_STEPS) {
            double start = firstLosses.median(), now = losses.median();
            if (seen(Symptom.LOSS_FLAT, step, now > FLAT_FRACTION * start)) {
                report(Symptom.LOSS_FLAT, step, String.format(Locale.ROOT,
                        "median loss %.4g over the %d steps to %d against %.4g over the first %d%s", now, WINDOW,
                        step, start, WINDOW, warmupNote()));
            }
        }
    }

    /** Whether the run warms up: declared, or seen (the lr rose at some step so far). */
    private boolean warmsUp() {
        return declaredWarmup >= 0 ? declaredWarmup > 0 : lrRose;
    }

    private String configuration() {
        boolean clips = clipBound > 0;
        if (clips && warmsUp()) {
            return "; warmup and clipping at " + fmt(clipBound) + " are configured";
        }
        if (clips) {
            return "; clipping at " + fmt(clipBound) + " is configured, no warmup";
        }
        return warmsUp() ? "; warmup is configured, no clipping" : "; no warmup and no clipping are configured";
    }

    private String warmupNote() {
        return declaredWarmup > 0 ? "; warmup " + declaredWarmup + " steps" : "";
    }

    private static String fmt(double x) {
        return String.format(Locale.ROOT, "%.3g", x);
    }

    /**
     * Notes that {@code symptom} is ({@code present}) or is not seen at {@code step}; true when this starts a new
     * episode, which the caller then reports.
     */
    private boolean seen(Symptom symptom, long step, boolean present) {
        int s = symptom.ordinal();
        if (!present) {
            return false;
        }
        lastSeen[s] = step;
        if (active[s]) {
            foundLast[episode[s]] = step;
            return false;
        }
        active[s] = true;
        return true;
    }

    private void report(Symptom symptom, long step, String detail) {
        boolean clips = clipBound > 0, warms = warmsUp();
        List<String> causes = new ArrayList<>(), remedies = new ArrayList<>();
        for (Symptom.Advice a : symptom.causeAdvice()) {
            if (!(a.unlessClipping() && clips) && !(a.unlessWarmup() && warms)) {
                causes.add(a.text());
            }
        }
        for (Symptom.Advice a : symptom.remedyAdvice()) {
            if (!(a.unlessClipping() && clips) && !(a.unlessWarmup() && warms)) {
                remedies.add(a.text());
            }
        }
        Finding f = new Finding(symptom, step, step, detail, causes, remedies);
        episode[symptom.ordinal()] = found.size();
        if (found.size() == foundLast.length) {
            foundLast = Arrays.copyOf(foundLast, 2 * foundLast.length);
        }
        foundLast[found.size()] = step;
        found.add(f);
        if (logger.isLoggable(Level.WARNING)) {
            logger.log(Level.WARNING, f.toString());
        }
        if (listener != null) {
            listener.accept(f);
        }
    }

    /** Every finding so far, oldest first, with the last step each episode was seen so far. */
    public List<Finding> findings() {
        List<Finding> out = new ArrayList<>(found.size());
        for (int i = 0; i < found.size(); i++) {
            Finding f = found.get(i);
            out.add(new Finding(f.symptom(), f.firstStep(), foundLast[i], f.detail(), f.causes(), f.remedies()));
        }
        return out;
    }

    /** How many findings so far: cheap to poll after every step. */
    public int findingCount() {
        return found.size();
    }

    /** What the monitor knows about the run: everything is optional. */
    public static final class Builder {
        private double clipBound;
        private long warmupSteps = -1;
        private long totalSteps;
        private boolean fineTuning;
        private double pretrainingLr = Double.NaN;
        private Logger logger = System.getLogger("vecopt.monitor");
        private Consumer<Finding> listener;

        private Builder() {
        }

        /** The global-norm clipping bound the optimizer applies, 0 for none (taken from the optimizer if given). */
        public Builder clipGradNorm(double maxNorm) {
            this.clipBound = Require.nonNegative("maxNorm", maxNorm);
            return this;
        }

        /** The run's warmup length; without it, a run warms up if its lr has risen at some step. */
        public Builder warmupSteps(long steps) {
            this.warmupSteps = Require.nonNegative("warmupSteps", steps);
            return this;
        }

        /** The run's length in steps, which the late-warmup finding needs. */
        public Builder totalSteps(long steps) {
            this.totalSteps = Require.positive("totalSteps", steps);
            return this;
        }

        /**
         * Declares a fine-tuning run: its lr should be 10-100x below the pre-training lr (NaN when unknown: then
         * above {@value Monitor#FINE_TUNING_MAX} is reported).
         */
        public Builder fineTuning(double pretrainingLr) {
            if (!Double.isNaN(pretrainingLr) && !(pretrainingLr > 0 && pretrainingLr < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("pretrainingLr must be positive and finite, or NaN when unknown,"
                        + " got " + pretrainingLr);
            }
            this.fineTuning = true;
            this.pretrainingLr = pretrainingLr;
            return this;
        }

        /** Where findings are logged (default: the logger {@code vecopt.monitor}). */
        public Builder logger(Logger logger) {
            this.logger = Objects.requireNonNull(logger, "logger");
            return this;
        }

        /** Called with each finding as it is made, on the thread that calls {@link #observe}. */
        public Builder listener(Consumer<Finding> listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        public Monitor build() {
            return new Monitor(this);
        }
    }
}
