package vecopt.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import vecopt.clip.NonFinite;
import vecopt.kernel.KernelProvider;
import vecopt.memory.Storage;
import vecopt.optim.Adadelta;
import vecopt.optim.Adafactor;
import vecopt.optim.AdafactorOptions;
import vecopt.optim.Adagrad;
import vecopt.optim.AdagradOptions;
import vecopt.optim.AdamOptions;
import vecopt.optim.Adamax;
import vecopt.optim.Asgd;
import vecopt.optim.ScheduleFreeAdamW;
import vecopt.optim.ScheduleFreeAdamWOptions;
import vecopt.optim.AsgdOptions;
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.optim.Lars;
import vecopt.optim.LarsOptions;
import vecopt.optim.Lion;
import vecopt.optim.LionOptions;
import vecopt.optim.NAdam;
import vecopt.optim.RAdam;
import vecopt.optim.Rmsprop;
import vecopt.optim.RmspropOptions;
import vecopt.optim.Rprop;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;

/**
 * A whole optimizer step as a trainer calls it, {@code opt.step(lr)}, on a pool of 1 or 2 threads
 * ({@code .threads(n)}), against the native kernel on as many OpenMP threads. The step runs with
 * {@code onNonFinite(PROCEED)} and no clipping, so it is the update pass alone (AdamW 28 bytes per parameter,
 * momentum 20), comparable to the native kernel; the norm pass the default policy adds is measured in
 * {@link ClipBench}.
 *
 * <p>The optimizer allocates its own state (as in use); the native kernel runs on staggered buffers of the same size.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 3, jvmArgsAppend = BenchMain.FORK_HEAP)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class StepBench {
    @Param({"32768", "1048576", "16777216", "67108864"})
    public int size;

    @Param({"offheap", "heap"})
    public String memory;

    @Param({"1", "2"})
    public int threads;

    /**
     * "adamw", "amsgrad" (AdamW with AMSGrad: 36 bytes per parameter), "momentum", or one of the optimizers run
     * through {@code Kernels.update}, whose {@code nativeC} is their peer in {@link UpdatePeers}: "adagrad",
     * "rmsprop" (plain), "rmsprop_centered_momentum", "lion", "adamax", "nadam", "radam", "adadelta", "rprop",
     * "asgd" (averaging, t0 0); or the layer-wise "lamb" (40 bytes in two passes) and "lars" (28 in two passes), their
     * peers {@link LayerwisePeer} with the step's options; "adafactor" (HF's defaults, the tensor a
     * 2^k x size / 2^k matrix, 24 bytes in three passes; its peer {@link AdafactorPeer} on the same matrix); "sfadamw", schedule-free AdamW (28, in
     * train mode; no native peer yet); "lamb_bf16state", LAMB with {@code bfloat16State} (28 bytes in two passes;
     * step only: no traffic or native peer); "momentum_q8" and "lion_q8", SGD with momentum and Lion (as "momentum"
     * and "lion") with {@code eightBitState()} (14 bytes: the state one byte read and written, plus its block scales;
     * step only, read against the float32-state step of the same run); "nadam_q8", NAdam (as "nadam") with
     * {@code eightBitState()} (16 bytes: two state bytes read and written); "lamb_q8", LAMB (as "lamb") with
     * {@code eightBitState()} (22 bytes in two passes: mu and nu one byte each in each pass; step only); bytes per
     * parameter in {@link Catalog}.
     */
    @Param({"adamw", "amsgrad", "momentum", "adagrad", "rmsprop", "rmsprop_centered_momentum", "lion", "adamax",
            "nadam", "radam", "adadelta", "rprop", "asgd", "lamb", "lars", "adafactor",
            "sfadamw", "lamb_bf16state", "momentum_q8", "lion_q8", "nadam_q8", "lamb_q8"})
    public String optimizer;

    private Buffers buffers;
    private Arena arena;
    private Optimizer<?> opt;
    private AdamScalars adam;
    private SgdScalars sgd;
    private boolean isAdam;
    private String peer; // the native update peer of the optimizers after AdamW and SGD, or null
    private int peerStates;
    private MemorySegment peerScalars;
    private int trafficStates; // the state arrays traffic() moves, -1 for a layer-wise optimizer's passes
    private MemorySegment[] adafactor; // the Adafactor peer's exp_avg_sq_row, exp_avg_sq_col, workspace, scalars, out
    private LayerwisePeer layerwise; // LAMB's or LARS's peer, or null
    private MemorySegment[] layerwiseArgs; // its tensors, scalars, workspace, out
    private int lanes; // the engine's kernel's lanes, whose summation order the layer-wise peers follow

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        isAdam = switch (optimizer) {
            case "adamw", "amsgrad" -> true;
            case "momentum", "adagrad", "rmsprop", "rmsprop_centered_momentum", "lion", "adamax", "nadam", "radam",
                 "adadelta", "rprop", "asgd", "lamb", "lars", "adafactor", "sfadamw", "lamb_bf16state", "momentum_q8",
                 "lion_q8", "nadam_q8", "lamb_q8" ->
                    false;
            default -> throw new IllegalArgumentException("optimizer must be adamw, amsgrad, momentum, adagrad,"
                    + " rmsprop, rmsprop_centered_momentum, lion, adamax, nadam, radam, adadelta, rprop, asgd, lamb,"
                    + " lars, adafactor, sfadamw, lamb_bf16state, momentum_q8, lion_q8, nadam_q8 or lamb_q8, got '" + optimizer + "'");
        };
        adam = AdamScalars.of(optimizer.equals("amsgrad") ? "amsgrad" : "adamw", 1000);
        sgd = SgdScalars.of("momentum");
        boolean traffic = params.getBenchmark().endsWith(".traffic");
        if (optimizer.matches("lamb_bf16state|momentum_q8|lion_q8|nadam_q8|lamb_q8") && !params.getBenchmark().endsWith(".step")) {
            throw new IllegalArgumentException(optimizer + ": step only (no traffic loop or native peer)");
        }
        if (traffic || params.getBenchmark().endsWith(".nativeC")) {
            NativeKernels.require();
            buffers = Buffers.allocate(memory, "staggered", size, 5)
                    .fill(0, -0.05f, 0.05f, 1).fill(1, -0.01f, 0.01f, 2).fill(2, -0.001f, 0.001f, 3)
                    .fill(3, 1e-6f, 1e-4f, 4).fill(4, 1e-6f, 1e-4f, 5);
            NativeKernels.setThreads(threads);
            if (traffic) {
                trafficStates = switch (optimizer) {
                    case "lamb", "lars", "adafactor" -> -1; // their passes, as CeilingBench's
                    case "momentum" -> 1;
                    case "adamw", "sfadamw" -> 2;
                    case "amsgrad" -> 3;
                    default -> UpdatePeers.stateCount(optimizer);
                };
                return;
            }
            if (optimizer.equals("adafactor")) { // HF's defaults at a steady step (1000), the step's lr as step()'s
                arena = Arena.ofShared();
                long cols = adafactorCols(size), rows = size / cols;
                adafactor = new MemorySegment[] {arena.allocate(4 * rows, 64), arena.allocate(4 * cols, 64),
                    arena.allocate(AdafactorPeer.workspace(size, rows, cols), 64),
                    AdafactorPeer.scalars(AdafactorOptions.DEFAULTS, 1000, 3e-4, 1, arena), arena.allocate(8, 4)};
                return;
            }
            if (optimizer.equals("lamb") || optimizer.equals("lars")) { // one tensor, the step's options (LAMB: t 1000)
                arena = Arena.ofShared();
                MemorySegment t = LayerwisePeer.tensors(arena, new long[][] {{0, size, 0}});
                boolean lamb = optimizer.equals("lamb");
                layerwise = lamb ? LayerwisePeer.LAMB : LayerwisePeer.LARS;
                layerwiseArgs = new MemorySegment[] {t, lamb
                    ? LayerwisePeer.lambScalars(arena, 1000, 3e-4, 1, LambOptions.DEFAULTS.withWeightDecay(0.01))
                    : LayerwisePeer.larsScalars(arena, 3e-4, 1, LarsOptions.DEFAULTS.withWeightDecay(1e-4)),
                    arena.allocate(LayerwisePeer.workspace(t), 64), arena.allocate(3 * Double.BYTES, 8)};
                lanes = KernelProvider.kernels().lanes();
                return;
            }
            if (!isAdam && !optimizer.equals("momentum")) { // the engine's steady-state constants, read from its step
                buffers.fill(2, 1e-6f, 1e-4f, 3); // every first state positive, as sums and averages of squares are
                peer = UpdatePeers.peerOf(optimizer);
                peerStates = UpdatePeers.stateCount(optimizer);
                arena = Arena.ofShared();
                peerScalars = UpdatePeers.scalars(peer, UpdatePeers.steady(optimizer, 3e-4), arena);
            }
            return;
        }
        Storage p, g;
        if (memory.equals("offheap")) {
            arena = Arena.ofShared();
            p = Storage.allocate(arena, size);
            g = Storage.allocate(arena, size);
        } else {
            p = Storage.of(new float[size]);
            g = Storage.of(new float[size]);
        }
        Buffers.fill(p.segment(), -0.05f, 0.05f, 1);
        Buffers.fill(g.segment(), -0.01f, 0.01f, 2);
        // Adafactor factors a matrix: the tensor as 2^ceil(log2(sqrt(size))) columns (8192 x 8192 at 64M)
        int cols = adafactorCols(size);
        ParamSet set = optimizer.equals("adafactor")
                ? ParamSet.builder().add("w", p, g, 0, size, vecopt.param.Shape.of(size / cols, cols)).build()
                : ParamSet.builder().add("w", p, g, 0, size).build();
        opt = switch (optimizer) {
            case "adamw", "amsgrad" -> AdamW.builder(set)
                    .options(AdamOptions.LLM_PRETRAINING.withAmsgrad(optimizer.equals("amsgrad")))
                    .threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "adagrad" -> Adagrad.builder(set).options(AdagradOptions.DEFAULTS.withWeightDecay(1e-4))
                    .threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "rmsprop" -> Rmsprop.builder(set).threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "rmsprop_centered_momentum" -> Rmsprop.builder(set)
                    .options(RmspropOptions.DEFAULTS.withCentered(true).withMomentum(0.9))
                    .threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "lion" -> Lion.builder(set).options(LionOptions.DEFAULTS.withWeightDecay(1.0))
                    .threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "adamax" -> Adamax.builder(set).threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "nadam" -> NAdam.builder(set).threads(threads).onNonFinite(NonFinite.PROCEED).build();
            // Rectified (the adaptive loop) from its 6th step: every measured step, after JMH's warm-up.
            case "radam" -> RAdam.builder(set).threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "adadelta" -> Adadelta.builder(set).threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "rprop" -> Rprop.builder(set).threads(threads).onNonFinite(NonFinite.PROCEED).build();
            // t0 0: averaging (ax read and written) from the 3rd step, so in every measured one
            case "asgd" -> Asgd.builder(set).options(AsgdOptions.DEFAULTS.withT0(0)).threads(threads)
                    .onNonFinite(NonFinite.PROCEED).build();
            case "lamb" -> Lamb.builder(set).options(LambOptions.DEFAULTS.withWeightDecay(0.01))
                    .threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "lion_q8" -> Lion.builder(set).options(LionOptions.DEFAULTS.withWeightDecay(1.0)).eightBitState()
                    .threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "momentum_q8" -> Sgd.builder(set).options(SgdOptions.MOMENTUM.withWeightDecay(1e-4)).eightBitState()
                    .threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "nadam_q8" -> NAdam.builder(set).eightBitState().threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "lamb_bf16state" -> Lamb.builder(set).options(LambOptions.DEFAULTS.withWeightDecay(0.01))
                    .bfloat16State(1).threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "lamb_q8" -> Lamb.builder(set).options(LambOptions.DEFAULTS.withWeightDecay(0.01)).eightBitState()
                    .threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "lars" -> Lars.builder(set).options(LarsOptions.DEFAULTS.withWeightDecay(1e-4))
                    .threads(threads).onNonFinite(NonFinite.PROCEED).build();
            // HF's defaults (relative step, scale_parameter, no beta1): the step's lr is a factor of HF's lr
            case "adafactor" -> Adafactor.builder(set).threads(threads).onNonFinite(NonFinite.PROCEED).build();
            case "sfadamw" -> trained(ScheduleFreeAdamW.builder(set)
                    .options(ScheduleFreeAdamWOptions.DEFAULTS.withWeightDecay(0.01)).threads(threads)
                    .onNonFinite(NonFinite.PROCEED).build());
            default -> Sgd.builder(set).options(SgdOptions.MOMENTUM.withWeightDecay(1e-4)).threads(threads)
                    .onNonFinite(NonFinite.PROCEED).build();
        };
        opt.step(1e-4); // past the first step: the momentum buffer exists, as in steady training
    }

    /** Adafactor's matrix: 2^ceil(log2(sqrt(size))) columns (8192 x 8192 at 64M, 4096 x 4096 at 16M). */
    static int adafactorCols(int size) {
        return 1 << ((32 - Integer.numberOfLeadingZeros(size - 1) + 1) / 2);
    }

    /** Schedule-free AdamW in train mode, where it steps (it starts in eval mode, as the original). */
    private static ScheduleFreeAdamW trained(ScheduleFreeAdamW opt) {
        opt.train();
        return opt;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (opt != null) {
            opt.close();
        }
        if (arena != null) {
            arena.close();
        }
        if (buffers != null) {
            buffers.close();
        }
    }

    @Benchmark
    public StepReport step() {
        return opt.step(3e-4);
    }

    /**
     * The optimizer's own traffic ceiling, which {@code step}'s "x ceiling" is read against: its streams moved in C
     * with next to no arithmetic on as many OpenMP threads, over the native peer's staggered buffers. An elementwise
     * optimizer reads p, g and its state arrays and writes p and the states in one pass (12 + 8 bytes per state array,
     * the bytes {@link Catalog} gives it: RMSprop's 3 arrays and AdamW's 4 do not move bytes at the same rate, so
     * each mix is measured, not scaled from AdamW's); LAMB, LARS and Adafactor run their passes' traffic as
     * {@link CeilingBench} does. Returns a sum of what the read-only passes read, so none is dead code.
     */
    @Benchmark
    public float traffic() {
        MemorySegment p = buffers.segment(0), g = buffers.segment(1);
        return switch (optimizer) {
            case "lamb" -> CeilingBench.lambPasses(p, g, buffers.segment(2), buffers.segment(3), size);
            case "lars" -> CeilingBench.larsPasses(p, g, buffers.segment(2), size);
            case "adafactor" -> CeilingBench.adafactorPasses(p, g, size);
            default -> {
                NativeKernels.updateTraffic(p, g, buffers.segment(2), buffers.segment(3), buffers.segment(4), size,
                        trafficStates);
                yield 0f;
            }
        };
    }

    @Benchmark
    public void nativeC() {
        if (layerwise != null) { // LARS's trace in buffer 2, as traffic() moves it; buffer 3 unused
            layerwise.run(buffers.segment(0), buffers.segment(1), buffers.segment(2),
                    layerwise == LayerwisePeer.LAMB ? buffers.segment(3) : MemorySegment.NULL, layerwiseArgs[0],
                    layerwiseArgs[1], lanes, layerwiseArgs[2], layerwiseArgs[3], LayerwisePeer.STEP);
        } else if (adafactor != null) {
            int cols = adafactorCols(size);
            AdafactorPeer.run(buffers.segment(0), buffers.segment(1), MemorySegment.NULL, adafactor[0], adafactor[1],
                    size, size / cols, cols, adafactor[2], adafactor[3], adafactor[4], AdafactorPeer.STEP);
        } else if (peer != null) {
            UpdatePeers.run(peer, buffers.segment(0), buffers.segment(1), buffers.segment(2),
                    peerStates > 1 ? buffers.segment(3) : MemorySegment.NULL,
                    peerStates > 2 ? buffers.segment(4) : MemorySegment.NULL, size, peerScalars);
        } else if (adam.amsgrad) {
            NativeKernels.amsgrad(buffers.segment(0), buffers.segment(1), buffers.segment(2), buffers.segment(3),
                    buffers.segment(4), size, adam);
        } else if (isAdam) {
            NativeKernels.adam(buffers.segment(0), buffers.segment(1), buffers.segment(2), buffers.segment(3), size, adam);
        } else {
            NativeKernels.sgdMomentum(buffers.segment(0), buffers.segment(1), buffers.segment(2), size, sgd);
        }
    }
}
