package vecopt.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import vecopt.clip.NonFinite;
import vecopt.memory.BFloat16;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.param.ParamSet;

/**
 * CPU time per element of AdamW with 8-bit state: the engine's step against its C peers ({@link EightBitPeer}) and
 * the mix's traffic ({@link MixedTraffic}), in one JVM, the implementations taking turns sample by sample
 * ({@link CpuTurns} states the method and what it prints). The float32 AdamW step and its traffic run alongside, on float32 buffers
 * of their own: the reference the 8-bit mixes are read against (the goal: 1.35x the float32 step's parameters per
 * second, that is at most 1 / 1.35 of its time per element).
 *
 * <pre>{@code
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp bench/target/classes:engine/target/classes vecopt.bench.EightBitProbe bf16-master-q8 32768 1 15
 * }</pre>
 * Arguments: storage ({@code fp32-q8} or {@code bf16-master-q8}), size, threads, samples per implementation.
 */
public final class EightBitProbe {
    private EightBitProbe() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length != 4) {
            throw new IllegalArgumentException("usage: EightBitProbe fp32-q8|bf16-master-q8 SIZE THREADS SAMPLES");
        }
        String storage = args[0];
        int size = Integer.parseInt(args[1]), threads = Integer.parseInt(args[2]), samples = Integer.parseInt(args[3]);
        int mode = switch (storage) {
            case "fp32-q8" -> 5;
            case "bf16-master-q8" -> 6;
            default -> throw new IllegalArgumentException("storage must be fp32-q8 or bf16-master-q8, got " + storage);
        };
        NativeKernels.require();
        try (Arena arena = Arena.ofShared()) {
            Dtype t = mode == 5 ? Dtype.FLOAT32 : Dtype.BFLOAT16;
            Storage p = Storage.allocate(arena, size, t), g = Storage.allocate(arena, size, t);
            MemorySegment pw = arena.allocate(4L * size, 64), p16 = mode == 6 ? arena.allocate(2L * size, 64)
                    : MemorySegment.NULL;
            MemorySegment g32 = mode == 5 ? arena.allocate(4L * size, 64) : MemorySegment.NULL;
            MemorySegment g16 = mode == 6 ? arena.allocate(2L * size, 64) : MemorySegment.NULL;
            MemorySegment m = arena.allocate(size, 64), r = arena.allocate(size, 64);
            MemorySegment sm = arena.allocate(4L * ((size + 255) / 256), 64), sr = arena.allocate(4L * ((size + 255) / 256), 64);
            SplittableRandom rnd = new SplittableRandom(1); // MixedBench's values
            for (long i = 0; i < size; i++) {
                float pi = (float) rnd.nextDouble(-1, 1), gi = (float) rnd.nextDouble(-1e-3, 1e-3);
                p.set(i, pi);
                g.set(i, gi);
                if (mode == 5) {
                    pw.setAtIndex(ValueLayout.JAVA_FLOAT, i, pi);
                    g32.setAtIndex(ValueLayout.JAVA_FLOAT, i, gi);
                } else {
                    pw.setAtIndex(ValueLayout.JAVA_FLOAT, i, BFloat16.widen(BFloat16.round(pi)));
                    p16.setAtIndex(ValueLayout.JAVA_SHORT, i, BFloat16.round(pi));
                    g16.setAtIndex(ValueLayout.JAVA_SHORT, i, BFloat16.round(gi));
                }
            }
            Storage fp = Storage.allocate(arena, size), fg = Storage.allocate(arena, size);
            MemorySegment[] ft = new MemorySegment[4];
            for (int j = 0; j < 4; j++) {
                ft[j] = arena.allocate(4L * size, 64);
            }
            SplittableRandom rf = new SplittableRandom(1);
            for (long i = 0; i < size; i++) {
                float pi = (float) rf.nextDouble(-1, 1), gi = (float) rf.nextDouble(-1e-3, 1e-3);
                fp.set(i, pi);
                fg.set(i, gi);
                ft[0].setAtIndex(ValueLayout.JAVA_FLOAT, i, pi);
                ft[1].setAtIndex(ValueLayout.JAVA_FLOAT, i, gi);
            }
            MemorySegment k = EightBitPeer.scalars(new AdamScalars(1e-3, 0.9, 0.999, 1e-8, 0.01, true, false, 10), arena);
            NativeKernels.setThreads(threads);
            try (AdamW opt = AdamW.builder(ParamSet.builder().add("w", p, g, 0, size).build())
                    .options(AdamOptions.ADAMW_DEFAULTS).onNonFinite(NonFinite.PROCEED).threads(threads)
                    .eightBitState().build();
                 AdamW fopt = AdamW.builder(ParamSet.builder().add("w", fp, fg, 0, size).build())
                    .options(AdamOptions.ADAMW_DEFAULTS).onNonFinite(NonFinite.PROCEED).threads(threads).build()) {
                Map<String, Runnable> impls = new LinkedHashMap<>();
                impls.put("java step", () -> opt.step(1e-3));
                impls.put("C (gcc vectorized)", () -> EightBitPeer.run("c", pw, p16, g32, g16, m, r, sm, sr, size, mode, k));
                if (EightBitPeer.has("avx512")) {
                    impls.put("C (AVX-512 intrinsics)",
                            () -> EightBitPeer.run("avx512", pw, p16, g32, g16, m, r, sm, sr, size, mode, k));
                }
                if (EightBitPeer.has("avx512bf16") && mode == 6) {
                    impls.put("C (intrinsics, CPU bf16)",
                            () -> EightBitPeer.run("avx512bf16", pw, p16, g32, g16, m, r, sm, sr, size, mode, k));
                }
                impls.put("traffic (C)", () -> MixedTraffic.run(pw, p16, g32, g16, m, r, size, mode));
                impls.put("float32 step (engine)", () -> fopt.step(1e-3));
                impls.put("float32 traffic (C)", () -> MixedTraffic.run(ft[0], MemorySegment.NULL, ft[1],
                        MemorySegment.NULL, ft[2], ft[3], size, 0));
                CpuTurns.run(impls, size, threads, samples, storage + " size " + size + " threads " + threads);
            }
        }
    }
}
