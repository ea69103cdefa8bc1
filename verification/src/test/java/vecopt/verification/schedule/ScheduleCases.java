package vecopt.verification.schedule;

import java.util.List;
import java.util.function.LongToDoubleFunction;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import vecopt.reference.schedule.GuideSchedules;
import vecopt.reference.schedule.HfLambdas;
import vecopt.reference.schedule.TorchClosedForms;
import vecopt.schedule.DecayShape;
import vecopt.schedule.HuggingFace;
import vecopt.schedule.PyTorch;
import vecopt.schedule.Schedules;

/**
 * Arbitraries of every schedule family, with parameters drawn from realistic ranges and their edges first: warmup 0
 * and 1, a one-step decay, floor 0 and floor = peak, gamma 1, half a cosine cycle. Step counts stay below a few
 * thousand so that properties may walk every step of a schedule.
 */
final class ScheduleCases {
    /**
     * Slack, in ULPs of the lr, where the source's own arithmetic rounds {@code k} times between the exact value and
     * the lr it returns at a peak, a floor or a phase boundary (where the exact values meet). Each rounding is at
     * most u = 2^-53 of a value no larger than the peak: a sum or difference of values in [0, peak], or a multiplier
     * in [0, 1] (a product or quotient by the step count, a sum) that the lr is then multiplied by (Higham, ch. 2-3).
     * Together that is at most {@code k u peak}, and an ULP of the peak is more than {@code u peak}, so at most k ULPs.
     * At a boundary the two sides' counts add: two doubles near the peak at most {@code k u peak} apart are at most k
     * ULPs of the larger apart. Each case counts its roundings where it uses this. The engine reproduces the source's
     * arithmetic bit for bit (equalsItsClosedFormFromTheReference); this slack is the source's, not a tolerance of
     * the comparison.
     */
    static int roundings(int k) {
        return k;
    }

    /**
     * Slack, in ULPs of the peak, where a source writes {@code floor + (peak - floor) * w} (the optimizer guide's
     * cosine, PyTorch's {@code eta_min + (base_lr - eta_min) * ...}): at {@code w = 1} the subtraction rounds by at
     * most half an ULP of the peak and the addition by another half, so the peak is met within one ULP, not exactly.
     */
    static final int RANGE_ULPS = 1;

    private ScheduleCases() {
    }

    static Arbitrary<ScheduleCase> all() {
        return Arbitraries.oneOf(List.of(guides(), torch(), huggingFace()));
    }

    // ---- parameters ----

    static Arbitrary<Double> lr() {
        return Arbitraries.oneOf(List.of(Arbitraries.of(1.0, 3e-4, 0.1, 5e-5, 1e-3),
                // log-uniform over eight decades: 1e-7 .. 10
                Arbitraries.doubles().between(-7, 1).ofScale(6).map(e -> Math.pow(10, e))));
    }

    static Arbitrary<Long> warmups() {
        return Arbitraries.longs().between(0, 300).edgeCases(c -> c.add(0L, 1L, 2L));
    }

    static Arbitrary<Long> spans() {
        return Arbitraries.longs().between(1, 2000).edgeCases(c -> c.add(1L, 2L, 3L));
    }

    static Arbitrary<Double> fractions() {
        return Arbitraries.doubles().between(0, 1).ofScale(6).edgeCases(c -> c.add(0.0, 1.0, 0.1));
    }

    static Arbitrary<Double> gammas() {
        return Arbitraries.oneOf(List.of(Arbitraries.of(1.0, 0.1, 0.5, 0.9, 0.999),
                Arbitraries.doubles().between(1e-3, 1.0).ofScale(6)));
    }

    static Arbitrary<DecayShape> shapes() {
        return Arbitraries.of(DecayShape.class);
    }

    private static String hf(DecayShape s) {
        return switch (s) {
            case LINEAR -> "linear";
            case COSINE -> "cosine";
            case ONE_MINUS_SQRT -> "1-sqrt";
        };
    }

    // ---- the warmup guide and the optimizer guide ----

    static Arbitrary<ScheduleCase> guides() {
        Arbitrary<ScheduleCase> linearWarmup = Combinators.combine(lr(), warmups()).as((lr, w) -> new ScheduleCase(
                "Schedules.linearWarmup(" + lr + ", " + w + ")", () -> Schedules.linearWarmup(lr, w),
                t -> GuideSchedules.linearWarmup(t, w, lr), Math.max(w, 1), lr, 0, w, 0, true, 1, true));
        Arbitrary<ScheduleCase> expWarmup = Combinators.combine(lr(), warmups()).as((lr, w) -> new ScheduleCase(
                "Schedules.exponentialWarmup(" + lr + ", " + w + ")", () -> Schedules.exponentialWarmup(lr, w),
                t -> GuideSchedules.exponentialWarmup(t, w, lr), Math.max(w, 1), lr, 0, w, 0,
                false /* 1 - e^-5 at the end of the ramp, then the target: the source jumps */, 1, true));
        Arbitrary<ScheduleCase> warmupCosine = Combinators.combine(lr(), fractions(), warmups(), spans())
                .as((lr, f, w, d) -> {
                    double min = lr * f;
                    return new ScheduleCase("Schedules.warmupCosine(" + lr + ", " + min + ", " + w + ", " + (w + d)
                            + ")", () -> Schedules.warmupCosine(lr, min, w, w + d),
                            t -> GuideSchedules.warmupCosine(t, w, lr, min, w + d), w + d, lr, min, w, RANGE_ULPS,
                            true, 1, true);
                });
        Arbitrary<ScheduleCase> linearDecay = Combinators.combine(lr(), spans()).as((lr, n) -> new ScheduleCase(
                "Schedules.linearDecay(" + lr + ", " + n + ")", () -> Schedules.linearDecay(lr, n),
                t -> GuideSchedules.linearDecay(t, lr, n), n, lr, 0, 0, 0, true, 1, true));
        Arbitrary<ScheduleCase> cosineDecay = Combinators.combine(lr(), fractions(), spans()).as((lr, f, n) -> {
            double min = lr * f;
            return new ScheduleCase("Schedules.cosineDecay(" + lr + ", " + min + ", " + n + ")",
                    () -> Schedules.cosineDecay(lr, min, n), t -> GuideSchedules.cosineDecay(t, lr, min, n), n, lr,
                    min, 0, RANGE_ULPS, true, 1, true);
        });
        Arbitrary<ScheduleCase> stepDecay = Combinators.combine(lr(), gammas(), spans()).as((lr, g, k) ->
                new ScheduleCase("Schedules.stepDecay(" + lr + ", " + g + ", " + k + ")",
                        // the guide names step decay without a formula: its reference is PyTorch's StepLR
                        () -> Schedules.stepDecay(lr, g, k), t -> TorchClosedForms.stepLR(t, lr, k, g), 4 * k, lr, 0,
                        0, 0, true, 1, true));
        Arbitrary<ScheduleCase> wsd = Combinators.combine(lr(), fractions(), warmups(), spans(), spans(), shapes())
                .as((lr, f, w, s, d, shape) -> {
                    double min = lr * f;
                    long stable = s - 1; // 0 included
                    return new ScheduleCase("Schedules.warmupStableDecay(" + lr + ", " + min + ", " + w + ", "
                            + stable + ", " + d + ", " + shape + ")",
                            () -> Schedules.warmupStableDecay(lr, min, w, stable, d, shape),
                            t -> GuideSchedules.warmupStableDecay(t, lr, min, w, stable, d, hf(shape)),
                            w + stable + d, lr, min, w, RANGE_ULPS, true, 1, true);
                });
        return Arbitraries.oneOf(List.of(linearWarmup, expWarmup, warmupCosine, linearDecay, cosineDecay, stepDecay,
                wsd));
    }

    // ---- PyTorch ----

    static Arbitrary<ScheduleCase> torch() {
        Arbitrary<ScheduleCase> lambda = Combinators.combine(lr(), spans()).as((lr, n) -> {
            LongToDoubleFunction f = e -> 1.0 / (1 + e / (double) n); // a pure user function
            return new ScheduleCase("PyTorch.lambdaLR(" + lr + ", 1/(1+e/" + n + "))", () -> PyTorch.lambdaLR(lr, f),
                    t -> TorchClosedForms.lambdaLR(t, lr, f), 2 * n, lr, 0, 0, 0, true, 1, true);
        });
        Arbitrary<ScheduleCase> step = Combinators.combine(lr(), spans(), gammas()).as((lr, k, g) ->
                new ScheduleCase("PyTorch.stepLR(" + lr + ", " + k + ", " + g + ")", () -> PyTorch.stepLR(lr, k, g),
                        t -> TorchClosedForms.stepLR(t, lr, k, g), 4 * k, lr, 0, 0, 0, true, 1, true));
        Arbitrary<ScheduleCase> multiStep = Combinators.combine(lr(), Arbitraries.longs().between(0, 500).set()
                .ofMaxSize(5), gammas()).as((lr, set, g) -> {
                    long[] m = set.stream().mapToLong(Long::longValue).sorted().toArray();
                    return new ScheduleCase("PyTorch.multiStepLR(" + lr + ", " + java.util.Arrays.toString(m) + ", "
                            + g + ")", () -> PyTorch.multiStepLR(lr, m, g),
                            t -> TorchClosedForms.multiStepLR(t, lr, m, g), 600, lr, 0, 0, 0, true, 1, true);
                });
        Arbitrary<ScheduleCase> constant = Combinators.combine(lr(), fractions(), warmups()).as((lr, f, n) ->
                new ScheduleCase("PyTorch.constantLR(" + lr + ", " + f + ", " + n + ")",
                        () -> PyTorch.constantLR(lr, f, n), t -> TorchClosedForms.constantLR(t, lr, f, n),
                        Math.max(1, n), lr, lr * f, f < 1 ? n : 0, 0, true, 1, true));
        Arbitrary<Double> startFactors = Arbitraries.doubles().between(1e-3, 1).ofScale(6).edgeCases(c -> c.add(1.0, 0.1));
        Arbitrary<ScheduleCase> linear = Combinators.combine(lr(), startFactors, fractions(), spans())
                .as((lr, a, b, n) -> new ScheduleCase("PyTorch.linearLR(" + lr + ", " + a + ", " + b + ", " + n + ")",
                        () -> PyTorch.linearLR(lr, a, b, n), t -> TorchClosedForms.linearLR(t, lr, a, b, n), n,
                        lr * Math.max(a, b), lr * Math.min(a, b), a < b ? n : 0,
                        // a + ((b - a) * t) / n: b - a, * t, / n, a + (within 4u of the multiplier), times lr
                        roundings(5), true, 1, true));
        Arbitrary<ScheduleCase> exponential = Combinators.combine(lr(), gammas()).as((lr, g) -> new ScheduleCase(
                "PyTorch.exponentialLR(" + lr + ", " + g + ")", () -> PyTorch.exponentialLR(lr, g),
                t -> TorchClosedForms.exponentialLR(t, lr, g), 1000, lr, 0, 0, 0, true, 1, true));
        Arbitrary<ScheduleCase> poly = Combinators.combine(lr(), spans(), Arbitraries.doubles().between(0, 4).ofScale(4)
                .edgeCases(c -> c.add(0.0, 1.0, 0.9))).as((lr, n, p) -> new ScheduleCase(
                        "PyTorch.polynomialLR(" + lr + ", " + n + ", " + p + ")", () -> PyTorch.polynomialLR(lr, n, p),
                        t -> TorchClosedForms.polynomialLR(t, lr, n, p), n, lr, 0, 0, 0, true, 1, true));
        Arbitrary<ScheduleCase> cosine = Combinators.combine(lr(), spans(), fractions()).as((lr, n, f) -> {
            double eta = lr * f;
            return new ScheduleCase("PyTorch.cosineAnnealingLR(" + lr + ", " + n + ", " + eta + ")",
                    () -> PyTorch.cosineAnnealingLR(lr, n, eta), t -> TorchClosedForms.cosineAnnealingLR(t, lr, n, eta),
                    n, lr, eta, 0, RANGE_ULPS, true, 1, true);
        });
        Arbitrary<ScheduleCase> sequential = Combinators.combine(lr(), startFactors, Arbitraries.longs().between(1,
                300).edgeCases(c -> c.add(1L)), spans(), fractions()).as((lr, a, w, d, f) -> {
                    double eta = lr * f;
                    LongToDoubleFunction[] refs = {
                        e -> TorchClosedForms.linearLR(e, lr, a, 1.0, w),
                        e -> TorchClosedForms.cosineAnnealingLR(e, lr, d, eta)};
                    return new ScheduleCase("PyTorch.sequentialLR([linearLR(" + lr + ", " + a + ", 1, " + w
                            + "), cosineAnnealingLR(" + lr + ", " + d + ", " + eta + ")], " + w + ")",
                            () -> PyTorch.sequentialLR(List.of(PyTorch.linearLR(lr, a, 1.0, w),
                                    PyTorch.cosineAnnealingLR(lr, d, eta)), w),
                            t -> TorchClosedForms.sequentialLR(t, refs, new long[] {w}), w + d,
                            lr, Math.min(lr * a, eta), a < 1 ? w : 0,
                            // LinearLR's end: its multiplier's 4 roundings and the product (as above); the cosine
                            // below it. At the milestone the cosine's start adds lr - eta and + eta (cos(0) = 1 and
                            // the halving are exact): 7 apart. Seen: 2.9 ULPs (lr 5e-5, start factor 0.001003, 21
                            // steps), when this said 2 ("the multiplier within one ULP": it is within 4u)
                            roundings(5), true, roundings(5 + 2), true);
                });
        return Arbitraries.oneOf(List.of(lambda, step, multiStep, constant, linear, exponential, poly, cosine,
                sequential));
    }

    // ---- Hugging Face ----

    static Arbitrary<ScheduleCase> huggingFace() {
        Arbitrary<ScheduleCase> constant = Combinators.combine(lr(), warmups()).as((lr, w) -> new ScheduleCase(
                "HuggingFace.constantScheduleWithWarmup(" + lr + ", " + w + ")",
                () -> HuggingFace.constantScheduleWithWarmup(lr, w),
                t -> HfLambdas.lr(lr, HfLambdas.constantWithWarmup(t, w)), Math.max(w, 1), lr, 0, w, 0, true, 1,
                true));
        Arbitrary<ScheduleCase> linear = Combinators.combine(lr(), warmups(), spans()).as((lr, w, d) ->
                new ScheduleCase("HuggingFace.linearScheduleWithWarmup(" + lr + ", " + w + ", " + (w + d) + ")",
                        () -> HuggingFace.linearScheduleWithWarmup(lr, w, w + d),
                        t -> HfLambdas.lr(lr, HfLambdas.linearWithWarmup(t, w, w + d)), w + d, lr, 0, w, 0, true, 1,
                        true));
        Arbitrary<Double> cycles = Arbitraries.doubles().between(0.05, 4).ofScale(4).edgeCases(c -> c.add(0.5, 1.0, 0.25));
        Arbitrary<ScheduleCase> cosine = Combinators.combine(lr(), warmups(), spans(), cycles).as((lr, w, d, c) ->
                new ScheduleCase("HuggingFace.cosineScheduleWithWarmup(" + lr + ", " + w + ", " + (w + d) + ", " + c
                        + ")", () -> HuggingFace.cosineScheduleWithWarmup(lr, w, w + d, c),
                        t -> HfLambdas.lr(lr, HfLambdas.cosineWithWarmup(t, w, w + d, c)), w + d, lr, 0, w, 0,
                        true, 1, c <= 0.5));
        Arbitrary<ScheduleCase> restarts = Combinators.combine(lr(), warmups(), spans(), Arbitraries.longs()
                .between(1, 6)).as((lr, w, d, c) -> new ScheduleCase(
                        "HuggingFace.cosineWithHardRestartsScheduleWithWarmup(" + lr + ", " + w + ", " + (w + d) + ", "
                                + c + ")", () -> HuggingFace.cosineWithHardRestartsScheduleWithWarmup(lr, w, w + d, c),
                        t -> HfLambdas.lr(lr, HfLambdas.cosineWithHardRestartsWithWarmup(t, w, w + d, c)), w + d, lr, 0,
                        w, 0, true, 1, c == 1));
        Arbitrary<ScheduleCase> poly = Combinators.combine(lr(), warmups(), spans(), Arbitraries.doubles()
                .between(0, 0.99).ofScale(6).edgeCases(c -> c.add(0.0)), Arbitraries.doubles().between(0.1, 4).ofScale(4)
                .edgeCases(c -> c.add(1.0, 2.0))).as((lr, w, d, f, p) -> {
                    double end = lr * f;
                    return new ScheduleCase("HuggingFace.polynomialDecayScheduleWithWarmup(" + lr + ", " + w + ", "
                            + (w + d) + ", " + end + ", " + p + ")",
                            () -> HuggingFace.polynomialDecayScheduleWithWarmup(lr, w, w + d, end, p),
                            t -> HfLambdas.lr(lr, HfLambdas.polynomialDecayWithWarmup(t, w, w + d, end, p, lr)), w + d,
                            lr, end, w,
                            // ((lr_init - lr_end) * 1 + lr_end) / lr_init * lr_init at the decay's start (pow(1, p)
                            // is exactly 1): subtracting, adding, dividing, and LambdaLR multiplying it back; the
                            // warmup's end (w / w = 1, times lr) is exact
                            roundings(4), true, roundings(4), true);
                });
        Arbitrary<ScheduleCase> wsd = Combinators.combine(lr(), warmups(), spans(), spans(), shapes(), shapes(),
                fractions(), cycles).as((lr, w, s, d, wt, dt, r, c) -> {
                    long stable = s - 1;
                    boolean halfCosine = dt != DecayShape.COSINE || c == 0.5;
                    return new ScheduleCase("HuggingFace.wsdSchedule(" + lr + ", " + w + ", " + stable + ", " + d + ", "
                            + wt + ", " + dt + ", " + r + ", " + c + ")",
                            () -> HuggingFace.wsdSchedule(lr, w, stable, d, wt, dt, r, c),
                            t -> HfLambdas.lr(lr, HfLambdas.wsd(t, w, stable, d, hf(wt), hf(dt), r, c)),
                            w + stable + d, lr, lr * r, w,
                            // factor = g (1 - r) + r, at g = 1 (the warmup's end, the decay's start): 1 - r and
                            // the sum, then times lr; the stable phase is lr exactly
                            roundings(3), halfCosine /* other cycle counts end the decay off the floor, then jump */,
                            roundings(3), halfCosine);
                });
        return Arbitraries.oneOf(List.of(constant, linear, cosine, restarts, poly, wsd));
    }
}
