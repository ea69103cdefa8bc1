package vecopt.djl.train;

import java.util.Objects;
import vecopt.djl.Precision;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;

/**
 * Which vecopt optimizer a training run steps with, over what precision, and what it must do around a held-out
 * evaluation. The recipe ({@link Recipe}) says schedule shape and clipping; this says the optimizer; the
 * {@link TrainConfig} says batch, steps and peak lr.
 *
 * <p>An optimizer whose parameters for evaluation differ from those it trains (schedule-free AdamW evaluates at its
 * averaged iterate) is a setup whose {@link #beforeEvaluation} calls its {@code eval()} and whose
 * {@link #afterEvaluation} calls {@code train()} ({@link ScheduleFree}); {@link TrainingRun} calls both around every
 * held-out evaluation and every checkpoint (so a checkpoint holds the evaluated parameters), and before the first
 * step of a resumed run (the final evaluation, whose parameters are the run's {@code finalParams}, stays in eval
 * mode). For example:
 *
 * <pre>{@code
 * OptimizerSetup sgd = OptimizerSetup.of("sgd", (params, clip, threads) -> Sgd.builder(params)
 *         .options(SgdOptions.MOMENTUM).threads(threads).build());
 * OptimizerSetup scheduleFree = new OptimizerSetup() {       // a recipe of a few lines
 *     public String name() { return "schedule-free"; }
 *     public Optimizer<?> build(ParamSet p, double clip, int threads) { return ScheduleFreeAdamW.builder(p)...build(); }
 *     public void beforeEvaluation(Optimizer<?> o) { ((ScheduleFreeAdamW) o).eval(); }
 *     public void afterEvaluation(Optimizer<?> o) { ((ScheduleFreeAdamW) o).train(); }
 * };
 * }</pre>
 */
public interface OptimizerSetup {
    /** Short name, shown in tables and charts. */
    String name();

    /**
     * Builds the optimizer over the bound parameters ({@code clipNorm} 0: no clipping), on {@code threads} threads.
     * Called at the first step and again at each rebinding: the same kind and groups every time.
     */
    Optimizer<?> build(ParamSet params, double clipNorm, int threads);

    /** What vecopt reads as gradients and stores as parameters ({@link Precision#FLOAT32}: PyTorch's memory). */
    default Precision precision() {
        return Precision.FLOAT32;
    }

    /**
     * Before a held-out evaluation or a checkpoint, on the bound optimizer (not called before the first step binds
     * one).
     */
    default void beforeEvaluation(Optimizer<?> optimizer) {
    }

    /**
     * After a held-out evaluation (but the final one) or a checkpoint, and before the first step of a run resumed from
     * a checkpoint, on the bound optimizer.
     */
    default void afterEvaluation(Optimizer<?> optimizer) {
    }

    /** A setup named {@code name} that builds with {@code build} (clip norm, threads), on float32. */
    static Simple of(String name, Builder build) {
        return new Simple(name, build, Precision.FLOAT32);
    }

    /** How a setup builds its optimizer. */
    @FunctionalInterface
    interface Builder {
        Optimizer<?> build(ParamSet params, double clipNorm, int threads);
    }

    /** A setup without evaluation hooks. */
    record Simple(String name, Builder builder, Precision precision) implements OptimizerSetup {
        public Simple {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(builder, "builder");
            Objects.requireNonNull(precision, "precision");
        }

        @Override
        public Optimizer<?> build(ParamSet params, double clipNorm, int threads) {
            return builder.build(params, clipNorm, threads);
        }

        /** The same optimizer under {@code p}, named {@code newName}. */
        public Simple precision(String newName, Precision p) {
            return new Simple(newName, builder, p);
        }
    }
}
