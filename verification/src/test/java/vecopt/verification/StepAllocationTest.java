package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import vecopt.monitor.Monitor;
import vecopt.optim.Adadelta;
import vecopt.optim.AdadeltaOptions;
import vecopt.optim.Adagrad;
import vecopt.optim.AdagradOptions;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Adamax;
import vecopt.optim.Asgd;
import vecopt.optim.AsgdOptions;
import vecopt.optim.AdamaxOptions;
import vecopt.optim.Lamb;
import vecopt.optim.ScheduleFreeAdamW;
import vecopt.optim.ScheduleFreeAdamWOptions;
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
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.optim.StepReport;

/**
 * The step hot path allocates nothing: measured with the JVM's per-thread allocation counter on the calling thread,
 * after the kernels are JIT-compiled (the Vector API boxes vectors until C2 compiles a loop, so early steps do
 * allocate). This counts bytes, it does not time anything.
 *
 * <p>Before anything is measured, every variant of every kernel runs once, tracked and untracked, so that the JIT's
 * profiles have seen all of them (this found a tracked plain-SGD step reading a state buffer it does not have). The
 * test runs in a JVM of its own (a second Surefire execution): after the whole verification suite had run in the
 * same JVM, the kernels were seen to box every vector for good (80 bytes per vector iteration, every variant, once in
 * three full runs), a history of hundreds of variant switches a training JVM does not have.
 */
class StepAllocationTest {
    @BeforeAll
    static void everyVariantRunsFirst() {
        AdamOptions[] adam = {AdamOptions.ADAMW_DEFAULTS, AdamOptions.ADAM_DEFAULTS.withWeightDecay(0.01),
                AdamOptions.ADAMW_DEFAULTS.withAmsgrad(true), AdamOptions.ADAM_DEFAULTS.withWeightDecay(0.01)
                .withAmsgrad(true)};
        SgdOptions[] sgd = {SgdOptions.PLAIN, SgdOptions.PLAIN.withWeightDecay(0.01), SgdOptions.MOMENTUM,
                SgdOptions.MOMENTUM.withNesterov(true).withWeightDecay(0.01), SgdOptions.MOMENTUM.withDampening(0.1)};
        for (int round = 0; round < 1; round++) {
            for (boolean tracked : new boolean[] {false, true}) {
                for (int i = 0; i < adam.length; i++) {
                    try (Rig rig = new Rig(1, 4099, i % 2 == 0);
                         Optimizer<?> opt = i % 2 == 0
                                 ? AdamW.builder(rig.set).options(adam[i]).trackNorms(tracked).threads(1).build()
                                 : vecopt.optim.Adam.builder(rig.set).options(adam[i]).trackNorms(tracked).threads(1)
                                 .build()) {
                        allocatedBySteps(opt, 1000);
                    }
                }
                if (!tracked) { // the optimizers run through Kernels.update have no tracked loop
                    for (java.util.function.Function<Rig, Optimizer<?>> make : OTHERS) {
                        try (Rig rig = new Rig(1, 4099, true); Optimizer<?> opt = make.apply(rig)) {
                            allocatedBySteps(opt, 1000);
                        }
                    }
                }
                for (SgdOptions o : sgd) {
                    try (Rig rig = new Rig(1, 4099, true);
                         Sgd opt = Sgd.builder(rig.set).options(o).trackNorms(tracked).threads(1).build()) {
                        allocatedBySteps(opt, 1000); // the first step of each runs the first-step loop
                    }
                }
            }
        }
    }
    /** Every variant of the optimizers run through {@code Kernels.update}, each on one thread. */
    private static final List<java.util.function.Function<Rig, Optimizer<?>>> OTHERS = List.of(
            rig -> Adagrad.builder(rig.set).threads(1).build(),
            rig -> Adagrad.builder(rig.set).options(AdagradOptions.DEFAULTS.withWeightDecay(0.01).withMaximize(true))
                    .threads(1).build(),
            rig -> Rmsprop.builder(rig.set).threads(1).build(),
            rig -> Rmsprop.builder(rig.set).options(RmspropOptions.DEFAULTS.withMomentum(0.9)).threads(1).build(),
            rig -> Rmsprop.builder(rig.set).options(RmspropOptions.DEFAULTS.withCentered(true).withWeightDecay(0.01))
                    .threads(1).build(),
            rig -> Rmsprop.builder(rig.set).options(RmspropOptions.DEFAULTS.withCentered(true).withMomentum(0.9))
                    .threads(1).build(),
            rig -> Lion.builder(rig.set).options(LionOptions.DEFAULTS.withWeightDecay(0.1)).threads(1).build(),
            rig -> Adamax.builder(rig.set).threads(1).build(),
            rig -> Adamax.builder(rig.set).options(AdamaxOptions.DEFAULTS.withWeightDecay(0.01)).threads(1).build(),
            rig -> NAdam.builder(rig.set).options(NAdamOptions.DEFAULTS.withWeightDecay(0.01)).threads(1).build(),
            rig -> NAdam.builder(rig.set).options(NAdamOptions.DEFAULTS.withWeightDecay(0.01)
                    .withDecoupledWeightDecay(true)).threads(1).build(),
            rig -> RAdam.builder(rig.set).options(RAdamOptions.DEFAULTS.withWeightDecay(0.01)).threads(1).build(),
            rig -> Adadelta.builder(rig.set).threads(1).build(),
            rig -> Rprop.builder(rig.set).threads(1).build(),
            rig -> Adadelta.builder(rig.set).options(AdadeltaOptions.DEFAULTS.withWeightDecay(0.01)).threads(1).build(),
            rig -> RAdam.builder(rig.set).options(RAdamOptions.DEFAULTS.withWeightDecay(0.01)
                    .withDecoupledWeightDecay(true)).threads(1).build(),
            rig -> Asgd.builder(rig.set).threads(1).build(),
            rig -> Asgd.builder(rig.set).options(AsgdOptions.DEFAULTS.withT0(-1).withWeightDecay(0.01)).threads(1)
                    .build(),
            rig -> Lamb.builder(rig.set).options(LambOptions.DEFAULTS.withWeightDecay(0.01)).threads(1).build(),
            rig -> Lars.builder(rig.set).options(LarsOptions.DEFAULTS.withWeightDecay(1e-4).withNesterov(true))
                    .threads(1).build(),
            rig -> Lars.builder(rig.set).options(LarsOptions.DEFAULTS.withTrustRatio(false)).threads(1).build(),
            rig -> trained(ScheduleFreeAdamW.builder(rig.set).threads(1).build()),
            rig -> trained(ScheduleFreeAdamW.builder(rig.set).options(ScheduleFreeAdamWOptions.DEFAULTS
                    .withWeightDecay(0.01).withWarmupSteps(10)).threads(1).build()),
            rig -> Rmsprop.builder(rig.set).options(RmspropOptions.DEFAULTS.withCentered(true).withMomentum(0.9)
                    .withWeightDecay(0.01)).threads(1).build());

    /** A schedule-free optimizer switched to train mode, where it steps (it starts in eval mode, as the original). */
    private static ScheduleFreeAdamW trained(ScheduleFreeAdamW opt) {
        opt.train();
        return opt;
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    static long allocatedBySteps(Optimizer<?> opt, int steps) {
        return allocatedBySteps(opt, steps, null);
    }

    /** Steps, each report read by {@code monitor} (if not null) with a training loss, as a trainer does. */
    private static long allocatedBySteps(Optimizer<?> opt, int steps, Monitor monitor) {
        long tid = Thread.currentThread().threadId();
        long before = THREADS.getThreadAllocatedBytes(tid);
        for (int i = 0; i < steps; i++) {
            StepReport report = opt.step(1e-3);
            if (monitor != null) {
                monitor.observe(report, 2.0 + (i & 7) * 0.01);
            }
        }
        return THREADS.getThreadAllocatedBytes(tid) - before;
    }

    /**
     * After warm-up, rounds of 500 steps until one allocates nothing. A step that allocated even one object would
     * show in every round; what the JVM itself allocates now and then on this thread (a recompilation, a safepoint
     * poll's bookkeeping: tens of bytes in some rounds, measured) cannot make every round non-zero. Until C2 has
     * compiled the kernels every vector is boxed (about 80 bytes per vector iteration), and on a loaded machine the
     * compiler threads may take long to get there: a run beside three parallel Maven builds (load 8 on 2 cores) was
     * still boxing after 200 rounds. So the rounds are bounded by time, 120 s, not by count; a compiled step returns
     * in microseconds, so on a quiet machine this ends at the first zero round, within seconds.
     */
    private static void warmThenMeasure(Rig rig, Optimizer<?> opt) {
        warmThenMeasure(rig, opt, null);
    }

    private static void warmThenMeasure(Rig rig, Optimizer<?> opt, Monitor monitor) {
        rig.setParams(Rig.values(new SplittableRandom(1), rig.length, -2, 2));
        rig.setGrads(Rig.values(new SplittableRandom(2), rig.length, -6, 2));
        warmThenMeasure(opt, monitor);
    }

    static void warmThenMeasure(Optimizer<?> opt, Monitor monitor) {
        allocatedBySteps(opt, 3000, monitor); // warm-up: interpreter and C1 code box vectors
        long deadline = System.nanoTime() + 120_000_000_000L;
        long[] last = new long[10];
        int rounds = 0;
        do {
            long bytes = allocatedBySteps(opt, 500, monitor);
            if (bytes == 0) {
                return;
            }
            last[rounds++ % last.length] = bytes;
        } while (System.nanoTime() < deadline);
        assertEquals(0, last[(rounds - 1) % last.length], "bytes allocated per round of 500 steps, after " + rounds
                + " rounds (last 10, cyclic): " + java.util.Arrays.toString(last));
    }

    @Test
    void adamWWithClippingAndTrackingInline() {
        try (Rig rig = new Rig(3, 4099, true);
             AdamW opt = AdamW.builder(rig.set).options(AdamOptions.LLM_PRETRAINING).clipGradNorm(1.0)
                     .trackNorms(true).threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    /**
     * A trainer's loop with the health monitor reading every report: what it finds on this synthetic run (the same
     * gradients every step: a flat loss, updates that may be judged) it reports once per episode, during the warm-up,
     * and a continuing episode allocates nothing.
     */
    @Test
    void adamWWithAMonitor() {
        try (Rig rig = new Rig(3, 4099, true);
             AdamW opt = AdamW.builder(rig.set).options(AdamOptions.ADAMW_DEFAULTS).clipGradNorm(1.0)
                     .trackNorms(true).threads(1).build()) {
            Monitor monitor = Monitor.builder(opt).totalSteps(1_000_000)
                    .logger(System.getLogger("vecopt.monitor.allocation-test")).build();
            warmThenMeasure(rig, opt, monitor);
        }
    }

    @Test
    void adamWOnAPoolOfTwo() {
        try (Rig rig = new Rig(0, 2 * vecopt.exec.ChunkGrid.CHUNK + 5, false);
             AdamW opt = AdamW.builder(rig.set).options(AdamOptions.FINE_TUNING.withAmsgrad(true)).clipGradNorm(1.0)
                     .threads(2).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void sgdTrackedWithWeightDecay() {
        try (Rig rig = new Rig(2, 4099, false);
             Sgd opt = Sgd.builder(rig.set).options(SgdOptions.MOMENTUM.withWeightDecay(1e-4)).trackNorms(true)
                     .threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void adamL2Tracked() {
        try (Rig rig = new Rig(2, 4099, true);
             Optimizer<?> opt = vecopt.optim.Adam.builder(rig.set).options(AdamOptions.ADAM_DEFAULTS.withWeightDecay(0.01))
                     .trackNorms(true).threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void adagradWithClippingOnAPoolOfTwo() {
        try (Rig rig = new Rig(0, 2 * vecopt.exec.ChunkGrid.CHUNK + 5, true);
             Adagrad opt = Adagrad.builder(rig.set).options(AdagradOptions.DEFAULTS.withWeightDecay(1e-4))
                     .clipGradNorm(1.0).threads(2).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void rmspropCenteredWithMomentum() {
        try (Rig rig = new Rig(1, 4099, false);
             Rmsprop opt = Rmsprop.builder(rig.set).options(RmspropOptions.DEFAULTS.withCentered(true)
                     .withMomentum(0.9)).threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    /**
     * LAMB's two passes (per-chunk sums, per-tensor ratios between them) with clipping, on one thread and on a pool
     * of two. The tensor starts at element 1 of its buffer, so its first chunk is 65,535 elements long and the
     * clipping norm pass runs the leftover-vector loop of {@code PanamaKernels.sumOfSquares} on it (seven half-width
     * vectors: 65,535 = 1,023 x 64 + 7 x 8 + 7), a loop the warm-up's 4,099-element rigs never reach. That loop's
     * call of a helper returning a vector was not inlined once the helper had a compiled body of its own (C2 at a cold
     * call site: "already compiled into a medium method"), so each of those vectors was boxed: 672 bytes a step.
     */
    @Test
    void lambWithClipping() {
        try (Rig rig = new Rig(1, 2 * vecopt.exec.ChunkGrid.CHUNK + 5, true);
             Lamb opt = Lamb.builder(rig.set).options(LambOptions.DEFAULTS.withWeightDecay(0.01)).clipGradNorm(1.0)
                     .threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void lambWithClippingOnAPoolOfTwo() {
        try (Rig rig = new Rig(1, 2 * vecopt.exec.ChunkGrid.CHUNK + 5, false);
             Lamb opt = Lamb.builder(rig.set).options(LambOptions.DEFAULTS).clipGradNorm(1.0).threads(2).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void larsNesterov() {
        try (Rig rig = new Rig(2, 4099, false);
             Lars opt = Lars.builder(rig.set).options(LarsOptions.DEFAULTS.withWeightDecay(1e-4).withNesterov(true))
                     .threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void lionWithClipping() {
        try (Rig rig = new Rig(2, 4099, true);
             Lion opt = Lion.builder(rig.set).options(LionOptions.DEFAULTS.withWeightDecay(0.1)).clipGradNorm(1.0)
                     .threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void adamaxWithWeightDecay() {
        try (Rig rig = new Rig(1, 4099, true);
             Adamax opt = Adamax.builder(rig.set).options(AdamaxOptions.DEFAULTS.withWeightDecay(0.01)).threads(1)
                     .build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void nadamDecoupled() {
        try (Rig rig = new Rig(1, 4099, false);
             NAdam opt = NAdam.builder(rig.set).options(NAdamOptions.DEFAULTS.withWeightDecay(0.01)
                     .withDecoupledWeightDecay(true)).threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void radamPastTheSwitch() { // the warm-up's 3000 steps take it far past rho_t > 5: the rectified loop
        try (Rig rig = new Rig(2, 4099, true);
             RAdam opt = RAdam.builder(rig.set).options(RAdamOptions.DEFAULTS.withWeightDecay(0.01)).threads(1)
                     .build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void adadeltaWithWeightDecay() {
        try (Rig rig = new Rig(3, 4099, false);
             Adadelta opt = Adadelta.builder(rig.set).options(AdadeltaOptions.DEFAULTS.withWeightDecay(0.01))
                     .threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void rpropWithClipping() {
        try (Rig rig = new Rig(1, 4099, true);
             Rprop opt = Rprop.builder(rig.set).clipGradNorm(1.0).threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void asgdAveraging() { // t0 10: the warm-up's steps take it past the switch from copying ax to averaging it
        try (Rig rig = new Rig(1, 4099, false);
             Asgd opt = Asgd.builder(rig.set).options(AsgdOptions.DEFAULTS.withT0(10).withWeightDecay(0.01))
                     .threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    /**
     * Schedule-free AdamW with clipping, weight decay and warmup (the warm-up's steps take it past the warmup's end);
     * then its eval() and train() switches, in pairs, held to zero the same way: rounds of 200 pairs until one
     * allocates nothing, bounded by 120 s.
     */
    @Test
    void scheduleFreeAdamWAndItsSwitch() {
        try (Rig rig = new Rig(1, 4099, true);
             ScheduleFreeAdamW opt = ScheduleFreeAdamW.builder(rig.set).options(ScheduleFreeAdamWOptions.DEFAULTS
                     .withWeightDecay(0.01).withWarmupSteps(100)).clipGradNorm(1.0).threads(1).build()) {
            opt.train();
            warmThenMeasure(rig, opt);
            long tid = Thread.currentThread().threadId();
            for (int i = 0; i < 2000; i++) { // warm-up of the switch's loops
                opt.eval();
                opt.train();
            }
            long deadline = System.nanoTime() + 120_000_000_000L, bytes;
            do {
                long before = THREADS.getThreadAllocatedBytes(tid);
                for (int i = 0; i < 200; i++) {
                    opt.eval();
                    opt.train();
                }
                bytes = THREADS.getThreadAllocatedBytes(tid) - before;
            } while (bytes != 0 && System.nanoTime() < deadline);
            assertEquals(0, bytes, "bytes allocated by the last round of 200 eval()/train() pairs");
        }
    }

    @Test
    void sgdNesterov() {
        try (Rig rig = new Rig(1, 4099, true);
             Sgd opt = Sgd.builder(rig.set).options(SgdOptions.MOMENTUM.withNesterov(true)).threads(1).build()) {
            warmThenMeasure(rig, opt);
        }
    }

    @Test
    void adafactorFactoredAndVectorWithBeta1() { // a 37 x 111 matrix (rows end mid-vector) and a 1-D tensor
        int rows = 37, cols = 111, bias = 515, n = rows * cols + bias;
        vecopt.memory.Storage p = vecopt.memory.Storage.of(Rig.values(new SplittableRandom(1), n, -2, 2));
        vecopt.memory.Storage g = vecopt.memory.Storage.of(Rig.values(new SplittableRandom(2), n, -6, 2));
        vecopt.param.ParamSet set = vecopt.param.ParamSet.builder()
                .add("w", p, g, 0, rows * cols, vecopt.param.Shape.of(rows, cols))
                .add("b", p, g, rows * cols, bias)
                .build();
        try (vecopt.optim.Adafactor opt = vecopt.optim.Adafactor.builder(set)
                .options(vecopt.optim.AdafactorOptions.DEFAULTS.withBeta1(0.9).withWeightDecay(0.01))
                .clipGradNorm(1.0).threads(2).build()) {
            warmThenMeasure(opt, null);
        }
    }

    /**
     * Without beta1 pass 3 takes groups of 4 whole rows (AdafactorPanama.rowsApply): 37 rows are 9 groups and a row
     * left over, which runs the same loop, so that no loop of the pass runs only once a step.
     */
    @Test
    void adafactorFactoredAndVectorWithoutBeta1() {
        int rows = 37, cols = 111, bias = 515, n = rows * cols + bias;
        vecopt.memory.Storage p = vecopt.memory.Storage.of(Rig.values(new SplittableRandom(1), n, -2, 2));
        vecopt.memory.Storage g = vecopt.memory.Storage.of(Rig.values(new SplittableRandom(2), n, -6, 2));
        vecopt.param.ParamSet set = vecopt.param.ParamSet.builder()
                .add("w", p, g, 0, rows * cols, vecopt.param.Shape.of(rows, cols))
                .add("b", p, g, rows * cols, bias)
                .build();
        try (vecopt.optim.Adafactor opt = vecopt.optim.Adafactor.builder(set)
                .options(vecopt.optim.AdafactorOptions.DEFAULTS.withWeightDecay(0.01))
                .clipGradNorm(1.0).threads(2).build()) {
            warmThenMeasure(opt, null);
        }
    }
}
