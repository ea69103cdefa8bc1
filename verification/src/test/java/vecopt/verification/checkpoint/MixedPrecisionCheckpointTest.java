package vecopt.verification.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import vecopt.amp.GradScaler;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.Extras;
import vecopt.checkpoint.Restored;
import vecopt.checkpoint.SafetensorsFile;
import vecopt.checkpoint.TensorEntry;
import vecopt.memory.Dtype;
import vecopt.optim.Adadelta;
import vecopt.optim.AdadeltaOptions;
import vecopt.optim.Adagrad;
import vecopt.optim.AdagradOptions;
import vecopt.optim.Adam;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Adamax;
import vecopt.optim.AdamaxOptions;
import vecopt.optim.Asgd;
import vecopt.optim.AsgdOptions;
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.optim.Lars;
import vecopt.optim.LarsOptions;
import vecopt.optim.Lion;
import vecopt.optim.LionOptions;
import vecopt.optim.NAdam;
import vecopt.optim.NAdamOptions;
import vecopt.optim.Optimizer;
import vecopt.optim.RAdam;
import vecopt.optim.RAdamOptions;
import vecopt.optim.Rmsprop;
import vecopt.optim.RmspropOptions;
import vecopt.optim.Rprop;
import vecopt.optim.RpropOptions;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * Bitwise resume of what format version 2 added: 16-bit parameters (bfloat16 and float16) with their float32 master
 * copy, bfloat16 parameters with stochastic rounding (no master), bfloat16 optimizer state (AdamW's and, spread over
 * the cases, SGD's, RMSprop's, ASGD's, Rprop's, Lion's, LAMB's and LARS's), a GradScaler's state,
 * LAMB and LARS, and each other optimizer that takes 16-bit parameters (one case per optimizer, the storage
 * options spread over them). As {@link CheckpointRoundTripTest}: N steps uninterrupted against K steps, a save, a new model
 * whose parameters start elsewhere, a new optimizer (and scaler), the load, N - K more steps; parameters (their
 * bits), every state variable (its bits, bfloat16 or float32), the counters (NAdam's mu_product and ASGD's eta and
 * mu through the steps after the load, which use them), and the scaler's scale and growth
 * tracker must be the same. Each case runs on heap and off-heap memory with 1 and 2 threads and resumes on the
 * other memory kind and the other thread count.
 */
class MixedPrecisionCheckpointTest {
    static final int N = 12;
    static final int K = 6;
    static final long[] NAN_STEPS = {3, 9};

    @TempDir
    Path dir;

    /**
     * A configuration: its parameter and gradient type, and whether it steps through a GradScaler (initial scale
     * 2^4, growth 2, backoff 0.5, interval 3: with NaN at steps 3 and 9 the scale grows at steps 2 and 6, backs off at
     * 3 and 9, and the growth tracker is 2 when the checkpoint is taken after step 5).
     */
    record Case(String name, Dtype dtype, boolean amp, BiFunction<ParamSet, Integer, Optimizer<?>> build) {
        @Override
        public String toString() {
            return name;
        }

        GradScaler scaler() {
            return new GradScaler(16.0, 2.0, 0.5, 3);
        }
    }

    static final AdamOptions ADAM = AdamOptions.LLM_PRETRAINING;
    // LAMB with the clamp in one group (a finite max_weight_norm) and optax's none (infinite) in the other
    static final LambOptions LAMB = LambOptions.DEFAULTS.withWeightDecay(0.01);
    static final LarsOptions LARS = LarsOptions.DEFAULTS.withWeightDecay(1e-4).withNesterov(true)
            .withTrustCoefficient(0.02);

    static Case adamW(String name, Dtype dtype, boolean amp, Stochastic extra) {
        return new Case(name, dtype, amp, (set, threads) -> extra.apply(AdamW.builder(set).options(ADAM)
                .group("no_decay", ADAM.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                .clipGradNorm(1.0).threads(threads)).build());
    }

    interface Stochastic {
        AdamW.Builder apply(AdamW.Builder b);
    }

    static final List<Case> CASES = List.of(
            adamW("AdamW bf16 params + fp32 master", Dtype.BFLOAT16, false, b -> b),
            adamW("AdamW fp16 params + fp32 master", Dtype.FLOAT16, false, b -> b),
            adamW("AdamW bf16 params, stochastic rounding", Dtype.BFLOAT16, false, b -> b.stochasticRounding(42)),
            adamW("AdamW fp32 params, bf16 state", Dtype.FLOAT32, false, b -> b.bfloat16State(7)),
            adamW("AdamW bf16 params + master + GradScaler", Dtype.BFLOAT16, true, b -> b),
            new Case("Adam amsgrad bf16 params + master + bf16 state", Dtype.BFLOAT16, false,
                    (set, threads) -> Adam.builder(set).options(AdamOptions.ADAM_DEFAULTS.withAmsgrad(true))
                            .group("no_decay", AdamOptions.ADAM_DEFAULTS.withAmsgrad(true).withLrScale(0.5),
                                    Setup::noDecay)
                            .bfloat16State(11).clipGradNorm(1.0).threads(threads).build()),
            new Case("Sgd Nesterov bf16 params + fp32 master + bf16 state", Dtype.BFLOAT16, false, (set, threads) ->
                    Sgd.builder(set).options(SgdOptions.MOMENTUM.withNesterov(true).withWeightDecay(1e-3))
                            .group("no_decay", SgdOptions.MOMENTUM.withDampening(0.1).withLrScale(0.5), Setup::noDecay)
                            .bfloat16State(31).clipGradNorm(1.0).threads(threads).build()),
            new Case("Adagrad fp16 params + fp32 master", Dtype.FLOAT16, false, (set, threads) ->
                    Adagrad.builder(set).options(AdagradOptions.DEFAULTS.withInitialAccumulatorValue(0.1))
                            .group("no_decay", AdagradOptions.DEFAULTS.withLrScale(0.5), Setup::noDecay)
                            .clipGradNorm(1.0).threads(threads).build()),
            new Case("Rmsprop centered momentum bf16 params, stochastic rounding, bf16 state", Dtype.BFLOAT16, false,
                    (set, threads) -> Rmsprop.builder(set).options(RmspropOptions.DEFAULTS.withCentered(true)
                                    .withMomentum(0.9))
                            .group("no_decay", RmspropOptions.DEFAULTS.withLrScale(0.5), Setup::noDecay)
                            .stochasticRounding(5).bfloat16State(17).clipGradNorm(1.0).threads(threads).build()),
            new Case("Adamax bf16 params + fp32 master + GradScaler", Dtype.BFLOAT16, true, (set, threads) ->
                    Adamax.builder(set).options(AdamaxOptions.DEFAULTS.withWeightDecay(0.01))
                            .group("no_decay", AdamaxOptions.DEFAULTS.withLrScale(0.5), Setup::noDecay)
                            .clipGradNorm(1.0).threads(threads).build()),
            new Case("NAdam fp16 params + fp32 master", Dtype.FLOAT16, false, (set, threads) ->
                    NAdam.builder(set).options(NAdamOptions.DEFAULTS.withWeightDecay(0.01)
                                    .withDecoupledWeightDecay(true))
                            .group("no_decay", NAdamOptions.DEFAULTS.withLrScale(0.5), Setup::noDecay)
                            .clipGradNorm(1.0).threads(threads).build()),
            // RAdam's rectified update starts at step 6: the run crosses from the un-adapted to the rectified update
            new Case("RAdam bf16 params, stochastic rounding", Dtype.BFLOAT16, false, (set, threads) ->
                    RAdam.builder(set).options(RAdamOptions.DEFAULTS.withWeightDecay(0.01))
                            .group("no_decay", RAdamOptions.DEFAULTS.withLrScale(0.5), Setup::noDecay)
                            .stochasticRounding(9).clipGradNorm(1.0).threads(threads).build()),
            // t0 = 2: averaging starts at step 4, before the checkpoint
            new Case("Asgd bf16 params + fp32 master + bf16 state", Dtype.BFLOAT16, false, (set, threads) ->
                    Asgd.builder(set).options(AsgdOptions.DEFAULTS.withT0(2).withWeightDecay(1e-3))
                            .group("no_decay", AsgdOptions.DEFAULTS.withT0(2).withLrScale(0.5), Setup::noDecay)
                            .bfloat16State(19).clipGradNorm(1.0).threads(threads).build()),
            // the first step's loop before the checkpoint, the later steps' after it
            new Case("Rprop fp16 params + fp32 master + bf16 state", Dtype.FLOAT16, false, (set, threads) ->
                    Rprop.builder(set).options(RpropOptions.DEFAULTS.withStepSizes(1e-4, 0.5))
                            .group("no_decay", RpropOptions.DEFAULTS.withLrScale(0.5), Setup::noDecay)
                            .bfloat16State(23).clipGradNorm(1.0).threads(threads).build()),
            new Case("Adadelta bf16 params, stochastic rounding", Dtype.BFLOAT16, false, (set, threads) ->
                    Adadelta.builder(set).options(AdadeltaOptions.DEFAULTS.withWeightDecay(1e-3))
                            .group("no_decay", AdadeltaOptions.DEFAULTS.withLrScale(0.5), Setup::noDecay)
                            .stochasticRounding(13).clipGradNorm(1.0).threads(threads).build()),
            new Case("Lion bf16 params + fp32 master + GradScaler + bf16 state", Dtype.BFLOAT16, true, (set, threads) ->
                    Lion.builder(set).options(LionOptions.DEFAULTS.withWeightDecay(0.1))
                            .group("no_decay", LionOptions.DEFAULTS.withLrScale(0.5), Setup::noDecay)
                            .bfloat16State(29).clipGradNorm(1.0).threads(threads).build()),
            new Case("Lamb", Dtype.FLOAT32, false, (set, threads) -> Lamb.builder(set).options(LAMB)
                    .group("no_decay", LAMB.withWeightDecay(0).withLrScale(0.5).withMaxWeightNorm(10), Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build()),
            new Case("Lars", Dtype.FLOAT32, false, (set, threads) -> Lars.builder(set).options(LARS)
                    .group("no_adapt", LARS.withWeightDecay(0).withTrustRatio(false).withLrScale(0.5), Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build()),
            new Case("Lamb fp16 params + fp32 master", Dtype.FLOAT16, false, (set, threads) -> Lamb.builder(set)
                    .options(LAMB).group("no_decay", LAMB.withWeightDecay(0).withLrScale(0.5).withMaxWeightNorm(10),
                            Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build()),
            new Case("Lamb bf16 params, stochastic rounding", Dtype.BFLOAT16, false, (set, threads) -> Lamb.builder(set)
                    .options(LAMB).group("no_decay", LAMB.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                    .stochasticRounding(17).clipGradNorm(1.0).threads(threads).build()),
            new Case("Lars bf16 params + fp32 master + GradScaler", Dtype.BFLOAT16, true, (set, threads) -> Lars
                    .builder(set).options(LARS).group("no_adapt", LARS.withWeightDecay(0).withTrustRatio(false)
                            .withLrScale(0.5), Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build()),
            new Case("Lars bf16 params, stochastic rounding", Dtype.BFLOAT16, false, (set, threads) -> Lars
                    .builder(set).options(LARS).group("no_adapt", LARS.withWeightDecay(0).withTrustRatio(false)
                            .withLrScale(0.5), Setup::noDecay)
                    .stochasticRounding(19).clipGradNorm(1.0).threads(threads).build()),
            new Case("Lamb fp32 params, bf16 state", Dtype.FLOAT32, false, (set, threads) -> Lamb.builder(set)
                    .options(LAMB).group("no_decay", LAMB.withWeightDecay(0).withLrScale(0.5).withMaxWeightNorm(10),
                            Setup::noDecay)
                    .bfloat16State(37).clipGradNorm(1.0).threads(threads).build()),
            new Case("Lamb bf16 params + fp32 master + GradScaler + bf16 state", Dtype.BFLOAT16, true, (set, threads) ->
                    Lamb.builder(set).options(LAMB).group("no_decay", LAMB.withWeightDecay(0).withLrScale(0.5),
                                    Setup::noDecay)
                            .bfloat16State(41).clipGradNorm(1.0).threads(threads).build()),
            new Case("Lars bf16 params, stochastic rounding, bf16 state", Dtype.BFLOAT16, false, (set, threads) -> Lars
                    .builder(set).options(LARS).group("no_adapt", LARS.withWeightDecay(0).withTrustRatio(false)
                            .withLrScale(0.5), Setup::noDecay)
                    .stochasticRounding(43).bfloat16State(47).clipGradNorm(1.0).threads(threads).build()));

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Case c : CASES) {
            for (boolean offHeap : new boolean[] {false, true}) {
                for (int threads = 1; threads <= 2; threads++) {
                    out.add(Arguments.of(c, offHeap, threads));
                }
            }
        }
        return out.stream();
    }

    /** safetensors' name of a buffer type, spelled out here (not the engine's mapping, which a test must check). */
    static String safetensorsName(Dtype d) {
        return switch (d) {
            case FLOAT32 -> "F32";
            case BFLOAT16 -> "BF16";
            case FLOAT16 -> "F16";
        };
    }

    static double lr(long step) {
        return 1e-2 * (step + 1) / N;
    }

    /** Runs steps [from, to), through {@code scaler} when it is not null; returns the last report. */
    static StepReport run(Model m, Optimizer<?> opt, GradScaler scaler, long from, long to) {
        StepReport last = null;
        for (long step = from; step < to; step++) {
            if (scaler == null) {
                m.gradients(step);
                last = opt.step(lr(step));
            } else {
                m.gradients(step, scaler.scale());
                last = opt.step(lr(step), scaler);
            }
        }
        return last;
    }

    @ParameterizedTest(name = "{0}, offHeap={1}, threads={2}")
    @MethodSource("cases")
    void resumeIsBitwiseTheUninterruptedRun(Case c, boolean offHeap, int threads) throws IOException {
        Model.Image expected;
        GradScaler expectedScaler = c.amp() ? c.scaler() : null;
        try (Model m = new Model(offHeap, 7, c.dtype(), NAN_STEPS); Optimizer<?> opt = c.build().apply(m.set, threads)) {
            StepReport r = run(m, opt, expectedScaler, 0, N);
            expected = Model.image(opt);
            assertEquals(NAN_STEPS.length, r.skippedSteps(), "the NaN steps were skipped");
        }
        Path file = dir.resolve("ckpt.safetensors");
        Model.Image atK;
        GradScaler saved = c.amp() ? c.scaler() : null;
        Map<String, String> dtypes = new LinkedHashMap<>(); // what each tensor must be in the file, by safetensors' name
        try (Model m = new Model(offHeap, 7, c.dtype(), NAN_STEPS); Optimizer<?> opt = c.build().apply(m.set, threads)) {
            run(m, opt, saved, 0, K);
            atK = Model.image(opt);
            for (Tensor t : m.set.tensors()) {
                dtypes.put("param/" + t.name(), safetensorsName(c.dtype()));
                for (String v : opt.stateNames()) {
                    dtypes.put("state/" + t.name() + "/" + v, safetensorsName(opt.stateType(v)));
                }
            }
            if (c.amp()) {
                assertEquals(2, saved.growthTracker(), "the case saves a growth tracker that is not 0");
                Checkpoint.save(file, opt, K, Extras.none(), saved);
            } else {
                Checkpoint.save(file, opt, K);
            }
        }
        assertTrue(Checkpoint.describe(file).contains("format 3"));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> written = new LinkedHashMap<>();
            for (TensorEntry e : f.tensors()) {
                written.put(e.name(), e.dtype().name());
            }
            assertEquals(dtypes, written, "each tensor written in its buffer's type");
        }
        // a fresh scaler at another scale and tracker: the load must set both
        GradScaler resumed = c.amp() ? new GradScaler(65536.0, 2.0, 0.5, 3) : null;
        try (Model m = new Model(!offHeap, 99, c.dtype(), NAN_STEPS);
             Optimizer<?> opt = c.build().apply(m.set, 3 - threads)) {
            Restored r = c.amp() ? Checkpoint.load(file, opt, resumed) : Checkpoint.load(file, opt);
            Model.image(opt).assertSameAs(atK, "just after the load");
            assertTrue(r.differences().isEmpty(), r.differences().toString());
            if (c.amp()) {
                assertEquals(saved.scale(), resumed.scale(), "scale restored");
                assertEquals(saved.growthTracker(), resumed.growthTracker(), "growth tracker restored");
            }
            run(m, opt, resumed, r.globalStep(), N);
            Model.image(opt).assertSameAs(expected, "after resuming");
            if (c.amp()) {
                assertEquals(expectedScaler.scale(), resumed.scale(), "scale after resuming");
                assertEquals(expectedScaler.growthTracker(), resumed.growthTracker(), "growth tracker after resuming");
            }
        }
    }
}
