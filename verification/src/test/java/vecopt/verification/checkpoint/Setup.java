package vecopt.verification.checkpoint;

import java.util.List;
import java.util.function.BiFunction;
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

    /** Every optimizer and the options that change what its state holds. */
    static final List<Setup> ALL = List.of(
            adamW(AdamOptions.LLM_PRETRAINING),
            adamW(AdamOptions.ADAMW_DEFAULTS.withAmsgrad(true)),
            adam(AdamOptions.ADAM_DEFAULTS.withWeightDecay(0.01)),
            adam(AdamOptions.ADAM_DEFAULTS.withAmsgrad(true)),
            sgd(SgdOptions.PLAIN.withWeightDecay(1e-4)),
            sgd(SgdOptions.MOMENTUM.withDampening(0.1)),
            sgd(SgdOptions.MOMENTUM.withNesterov(true).withWeightDecay(5e-4)));

    @Override
    public String toString() {
        return name;
    }
}
