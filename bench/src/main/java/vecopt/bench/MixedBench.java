package vecopt.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
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
import vecopt.memory.BFloat16;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.EightBitCode;
import vecopt.optim.StepReport;
import vecopt.param.ParamSet;

/**
 * AdamW's step under each storage mix of parameters and gradients, against the same mix's traffic in C
 * ({@link MixedTraffic}, same run, same sizes and threads): whether the 16-bit loops turn fewer bytes into a faster
 * step. The step is {@code opt.step(lr)} with {@code onNonFinite(PROCEED)} and no clipping (the update pass alone, as
 * in {@link StepBench}), off-heap. Bytes per parameter, write-allocate reads of write-only streams counted:
 * <ul>
 *   <li>{@code fp32}: read p, g, m, v; write p, m, v: 28</li>
 *   <li>{@code bf16-grads}: the gradient read as 2 bytes: 26</li>
 *   <li>{@code bf16-master}: bfloat16 parameters with a float32 master: the master as p above, the 16-bit copy
 *       written (2, and 2 read for ownership): 30</li>
 *   <li>{@code bf16-sr}: bfloat16 parameters without a master, stochastic rounding: 2 + 2 + 2 + 16: 22</li>
 *   <li>{@code bf16-all}: that and bfloat16 state ({@code bfloat16State}): p, g, m, v as 2 bytes: 14</li>
 *   <li>{@code fp32-q8}: float32 parameters and gradients, 8-bit state ({@code eightBitState}): 8 + 4 + 2 + 2: 16
 *       (and 0.06 of block scales)</li>
 *   <li>{@code bf16-master-q8}: bfloat16 gradients, bfloat16 parameters with a float32 master, 8-bit state:
 *       2 + 8 + 4 + 4: 18</li>
 *   <li>{@code bf16-sr-q8}: bfloat16 gradients and parameters (stochastic rounding), 8-bit state: 2 + 4 + 4: 10</li>
 *   <li>{@code fp32-bnb}: as {@code fp32-q8} in bitsandbytes' dynamic maps
 *       ({@code eightBitState(BITSANDBYTES_DYNAMIC, 4096)}, scalar loops): 16, the cost of the compatibility code</li>
 * </ul>
 * The fp32 row is the float32 engine the others are read against. For {@code fp32-q8} and {@code bf16-master-q8},
 * {@code nativeC} and {@code nativeAvx512} run the same 8-bit AdamW step in C ({@link EightBitPeer}: plain C that
 * gcc vectorizes, and AVX-512 intrinsics; bitwise the engine's), on the traffic's buffers filled as the engine's,
 * so a run gives the Java step, the C step and the mix's own traffic side by side (the other mixes refuse them).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 2, jvmArgsAppend = BenchMain.FORK_HEAP)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MixedBench {
    @Param({"32768", "1048576", "67108864"})
    public int size;

    @Param({"1", "2"})
    public int threads;

    @Param({"fp32", "bf16-grads", "bf16-master", "bf16-sr", "bf16-all", "fp32-q8", "bf16-master-q8", "bf16-sr-q8",
            "fp32-bnb"})
    public String storage;

    private Arena arena;
    private AdamW opt;
    private MemorySegment p32, p16, g32, g16, m, v;
    private MemorySegment scaleM, scaleR, q8k; // the 8-bit native peer's block scales and step constants
    private int mode;

    /** Bytes per parameter of each mix, as above. */
    static int bytes(String storage) {
        return switch (storage) {
            case "fp32" -> 28;
            case "bf16-grads" -> 26;
            case "bf16-master" -> 30;
            case "bf16-sr" -> 22;
            case "bf16-all" -> 14;
            case "fp32-q8", "fp32-bnb" -> 16;
            case "bf16-master-q8" -> 18;
            case "bf16-sr-q8" -> 10;
            default -> throw new IllegalArgumentException("storage must be fp32, bf16-grads, bf16-master, bf16-sr,"
                    + " bf16-all, fp32-q8, bf16-master-q8, bf16-sr-q8 or fp32-bnb, got " + storage);
        };
    }

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        bytes(storage);
        boolean q8peer = params.getBenchmark().matches(".*\\.native(C|Avx512)$");
        if (q8peer && !storage.equals("fp32-q8") && !storage.equals("bf16-master-q8")) {
            throw new IllegalArgumentException(storage + ": the 8-bit native peer runs fp32-q8 and bf16-master-q8 only");
        }
        arena = Arena.ofShared();
        Dtype pt = storage.startsWith("fp32") || storage.equals("bf16-grads") ? Dtype.FLOAT32 : Dtype.BFLOAT16;
        Dtype gt = storage.startsWith("fp32") ? Dtype.FLOAT32 : Dtype.BFLOAT16;
        Storage p = Storage.allocate(arena, size, pt), g = Storage.allocate(arena, size, gt);
        SplittableRandom rnd = new SplittableRandom(1);
        for (long i = 0; i < size; i++) {
            p.set(i, (float) rnd.nextDouble(-1, 1));
            g.set(i, (float) rnd.nextDouble(-1e-3, 1e-3));
        }
        AdamW.Builder b = AdamW.builder(ParamSet.builder().add("w", p, g, 0, size).build())
                .options(AdamOptions.ADAMW_DEFAULTS).onNonFinite(NonFinite.PROCEED).threads(threads);
        b = storage.equals("bf16-all") ? b.bfloat16State(2) : storage.endsWith("-q8") ? b.eightBitState()
                : storage.endsWith("-bnb") ? b.eightBitState(EightBitCode.BITSANDBYTES_DYNAMIC, 4096) : b;
        opt = (storage.startsWith("bf16-sr") || storage.equals("bf16-all") ? b.stochasticRounding(1) : b).build();
        mode = switch (storage) {
            case "fp32" -> 0;
            case "bf16-grads" -> 1;
            case "bf16-master" -> 2;
            case "bf16-sr" -> 3;
            case "bf16-all" -> 4;
            case "fp32-q8", "fp32-bnb" -> 5;
            case "bf16-master-q8" -> 6;
            default -> 7;
        };
        if (NativeKernels.available()) { // the traffic's own buffers, as the mix lays them out
            boolean f32p = mode <= 2 || mode == 5 || mode == 6, p16p = mode >= 2 && mode != 5;
            p32 = f32p ? arena.allocate(4L * size, 64) : MemorySegment.NULL;
            p16 = p16p ? arena.allocate(2L * size, 64) : MemorySegment.NULL;
            g32 = mode == 0 || mode == 5 ? arena.allocate(4L * size, 64) : MemorySegment.NULL;
            g16 = mode != 0 && mode != 5 ? arena.allocate(2L * size, 64) : MemorySegment.NULL;
            long stateBytes = mode >= 5 ? 1L : mode == 4 ? 2L : 4L;
            m = arena.allocate(stateBytes * size, 64);
            v = arena.allocate(stateBytes * size, 64);
            NativeKernels.setThreads(threads);
            if (q8peer) { // the engine's values, codes and scales from 0 as its state starts
                SplittableRandom r2 = new SplittableRandom(1);
                for (long i = 0; i < size; i++) {
                    float pi = (float) r2.nextDouble(-1, 1), gi = (float) r2.nextDouble(-1e-3, 1e-3);
                    if (mode == 5) {
                        p32.setAtIndex(ValueLayout.JAVA_FLOAT, i, pi);
                        g32.setAtIndex(ValueLayout.JAVA_FLOAT, i, gi);
                    } else {
                        p32.setAtIndex(ValueLayout.JAVA_FLOAT, i, BFloat16.widen(BFloat16.round(pi)));
                        p16.setAtIndex(ValueLayout.JAVA_SHORT, i, BFloat16.round(pi));
                        g16.setAtIndex(ValueLayout.JAVA_SHORT, i, BFloat16.round(gi));
                    }
                }
                long blocks = (size + 255) / 256;
                scaleM = arena.allocate(4 * blocks, 64);
                scaleR = arena.allocate(4 * blocks, 64);
                // AdamOptions.ADAMW_DEFAULTS (lr 1e-3 as step() uses, betas (0.9, 0.999), eps 1e-8, wd 0.01) at step
                // 10: the step's cost does not depend on which
                q8k = EightBitPeer.scalars(new AdamScalars(1e-3, 0.9, 0.999, 1e-8, 0.01, true, false, 10), arena);
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        opt.close();
        arena.close();
    }

    /** The engine's step: its report is returned, so the step cannot be optimized away. */
    @Benchmark
    public StepReport step() {
        return opt.step(1e-3);
    }

    /** The same mix's traffic in C: this configuration's ceiling ({@code peer}: skipped, with why, without C). */
    @Benchmark
    public void traffic(NativePeer peer) {
        MixedTraffic.run(p32, p16, g32, g16, m, v, size, mode);
    }

    /** The 8-bit AdamW step in plain C that gcc vectorizes ({@link EightBitPeer} "c"; fp32-q8, bf16-master-q8). */
    @Benchmark
    public void nativeC(NativePeer peer) {
        EightBitPeer.run("c", p32, p16, g32, g16, m, v, scaleM, scaleR, size, mode, q8k);
    }

    /** The same step in AVX-512 intrinsics ({@link EightBitPeer} "avx512"). */
    @Benchmark
    public void nativeAvx512(NativePeer peer) {
        EightBitPeer.run("avx512", p32, p16, g32, g16, m, v, scaleM, scaleR, size, mode, q8k);
    }
}
