package vecopt.verification.checkpoint;

import java.util.List;
import java.util.function.BiFunction;
import vecopt.optim.Adadelta;
import vecopt.optim.AdadeltaOptions;
import vecopt.optim.Adagrad;
import vecopt.optim.AdagradOptions;
import vecopt.optim.Adamax;
import vecopt.optim.AdamaxOptions;
import vecopt.optim.Asgd;
import vecopt.optim.AsgdOptions;
import vecopt.optim.Lion;
import vecopt.optim.LionOptions;
import vecopt.optim.NAdam;
import vecopt.optim.NAdamOptions;
import vecopt.optim.RAdam;
import vecopt.optim.RAdamOptions;
import vecopt.optim.Rmsprop;
import vecopt.optim.RmspropOptions;
import vecopt.optim.Rprop;
import vecopt.optim.RpropOptions;
import vecopt.optim.Adam;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * An optimizer configuration under test, built over a {@link Model}'s parameters: two groups (biases and norm
 * scales apart, with their own options and lr scale), gradient clipping on, non-finite gradients skipped.
 */
record Setup(String name, BiFunction<ParamSet, Integer, Optimizer<?>> build) {
    // Options that exercise every state variable and every per-group scalar: Adagrad's initial accumulator, RMSprop
    // centered with momentum, NAdam's mu_product, RAdam past rho_t > 5 within the run (from its 6th update), ASGD
    // averaging from its 6th update (t0 3) with a decaying eta, so the resumed half starts on restored eta and mu.
    static final AdagradOptions ADAGRAD = AdagradOptions.DEFAULTS.withLrDecay(0.01).withWeightDecay(1e-3)
            .withInitialAccumulatorValue(0.1);
    static final RmspropOptions RMSPROP = RmspropOptions.DEFAULTS.withCentered(true).withMomentum(0.9)
            .withWeightDecay(1e-3);
    static final LionOptions LION = LionOptions.DEFAULTS.withWeightDecay(0.1);
    static final AdamaxOptions ADAMAX = AdamaxOptions.DEFAULTS.withWeightDecay(1e-3);
    static final NAdamOptions NADAM = NAdamOptions.DEFAULTS.withWeightDecay(0.01).withDecoupledWeightDecay(true);
    static final RAdamOptions RADAM = RAdamOptions.DEFAULTS.withWeightDecay(1e-3);
    static final AdadeltaOptions ADADELTA = AdadeltaOptions.DEFAULTS.withWeightDecay(1e-3);
    static final RpropOptions RPROP = RpropOptions.DEFAULTS.withStepSizes(1e-6, 1.0);
    static final AsgdOptions ASGD = AsgdOptions.DEFAULTS.withT0(3).withLambd(0.05).withWeightDecay(1e-3);

    static boolean noDecay(Tensor t) {
        return t.name().endsWith(".bias") || t.name().endsWith(".scale");
    }

    static Setup adamW(AdamOptions o) {
        return new Setup("AdamW " + o, (set, threads) -> AdamW.builder(set).options(o)
                .group("no_decay", o.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                .clipGradNorm(1.0).threads(threads).build());
    }

    static Setup adam(AdamOptions o) {
        return new Setup("Adam " + o, (set, threads) -> Adam.builder(set).options(o)
                .group("no_decay", o.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                .clipGradNorm(1.0).threads(threads).build());
    }

    static Setup sgd(SgdOptions o) {
        return new Setup("Sgd " + o, (set, threads) -> Sgd.builder(set).options(o)
                .group("no_decay", o.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                .clipGradNorm(1.0).threads(threads).build());
    }

    /**
     * One of the optimizers after AdamW, Adam and SGD: {@code build} makes its builder with the default group's
     * options and the "no_decay" group's (no weight decay, half the lr).
     */
    static Setup other(String name, Object options, BiFunction<ParamSet, Integer, Optimizer<?>> build) {
        return new Setup(name + " " + options, build);
    }

    /** Every optimizer and the options that change what its state holds. */
    static final List<Setup> ALL = List.of(
            adamW(AdamOptions.LLM_PRETRAINING),
            adamW(AdamOptions.ADAMW_DEFAULTS.withAmsgrad(true)),
            adam(AdamOptions.ADAM_DEFAULTS.withWeightDecay(0.01)),
            adam(AdamOptions.ADAM_DEFAULTS.withAmsgrad(true)),
            sgd(SgdOptions.PLAIN.withWeightDecay(1e-4)),
            sgd(SgdOptions.MOMENTUM.withDampening(0.1)),
            sgd(SgdOptions.MOMENTUM.withNesterov(true).withWeightDecay(5e-4)));

    /** The optimizers after AdamW, Adam and SGD, each with options that use all of its state. */
    static final List<Setup> OTHERS = List.of(
            other("Adagrad", ADAGRAD, (set, threads) -> Adagrad.builder(set).options(ADAGRAD)
                    .group("no_decay", ADAGRAD.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build()),
            other("Rmsprop", RMSPROP, (set, threads) -> Rmsprop.builder(set).options(RMSPROP)
                    .group("no_decay", RMSPROP.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build()),
            other("Lion", LION, (set, threads) -> Lion.builder(set).options(LION)
                    .group("no_decay", LION.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build()),
            other("Adamax", ADAMAX, (set, threads) -> Adamax.builder(set).options(ADAMAX)
                    .group("no_decay", ADAMAX.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build()),
            other("NAdam", NADAM, (set, threads) -> NAdam.builder(set).options(NADAM)
                    .group("no_decay", NADAM.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build()),
            other("RAdam", RADAM, (set, threads) -> RAdam.builder(set).options(RADAM)
                    .group("no_decay", RADAM.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build()),
            other("Adadelta", ADADELTA, (set, threads) -> Adadelta.builder(set).options(ADADELTA)
                    .group("no_decay", ADADELTA.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build()),
            other("Rprop", RPROP, (set, threads) -> Rprop.builder(set).options(RPROP)
                    .group("no_decay", RPROP.withLrScale(0.5), Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build()),
            other("Asgd", ASGD, (set, threads) -> Asgd.builder(set).options(ASGD)
                    .group("no_decay", ASGD.withWeightDecay(0).withLrScale(0.5), Setup::noDecay)
                    .clipGradNorm(1.0).threads(threads).build()));

    @Override
    public String toString() {
        return name;
    }
}
