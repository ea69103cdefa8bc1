package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import vecopt.kernel.AdamStep;
import vecopt.kernel.Chunk;
import vecopt.kernel.KernelProvider;
import vecopt.kernel.Kernels;
import vecopt.memory.BFloat16;
import vecopt.memory.Dtype;

/**
 * The 8-bit AdamW native peer ({@link EightBitPeer}, both its forms) computes the engine's step, not something
 * cheaper: after a few steps from the same parameters, gradients, codes and scales, its parameters (the master and
 * the bfloat16 copy too), codes and block scales are bitwise those of the engine's 8-bit Adam loop (the Panama
 * kernels and the scalar ones), for float32 parameters and gradients and for bfloat16 gradients and parameters with
 * a float32 master; on lengths with a partial last block and a vector tail, one and two threads of the native grid,
 * and with parameters on exact bfloat16 ties, subnormal and NaN.
 */
class EightBitPeerTest {
    private static final int STEPS = 3;

    @ParameterizedTest
    @CsvSource({
        // one partial block, shorter than a 512-bit vector's 16 floats twice over and not a multiple of it
        "5, 37, 0.1", "6, 37, 0.1",
        // whole blocks, one vector loop each
        "5, 4096, 0.1", "6, 4096, 0.1",
        // two 64 Ki chunks of the native thread grid and a third with a partial block (1013 = 3 * 256 + 245,
        // 245 = 15 * 16 + 5: a vector tail inside the last block)
        "5, 132085, 0.1", "6, 132085, 0.1",
        // without weight decay the tie elements below keep their value (decay 1, m = 0), so the bfloat16 copy
        // is rounded from an exact tie (or a subnormal or a NaN) at every step: round to nearest even, not half up
        "6, 4096, 0", "6, 132085, 0"})
    void nativePeerIsBitwiseTheEngine(int mode, int n, double weightDecay) {
        State engine = new State(mode, n), scalar = new State(mode, n);
        AdamStep.Hyper h = new AdamStep.Hyper(0.9, 0.95, 1e-8, weightDecay, true, false);
        // 0.75: a gradient scale (the clipping coefficient) other than 1, so that the peer must apply it
        AdamStep step = new AdamStep().prepare(h, 3e-4, 10, 0.75);
        for (int s = 0; s < STEPS; s++) {
            engine.engineStep(KernelProvider.kernels(), step);
            scalar.engineStep(KernelProvider.scalar(), step);
        }
        assertFalse(Arrays.equals(new State(mode, n).snapshot()[0], engine.snapshot()[0]),
                "the steps moved the parameters");
        assertBitwise(scalar, engine, "the engine's SIMD and scalar kernels");
        if (!NativeKernels.available()) {
            // The native library did not build on this machine (no C compiler): the bench module runs without its
            // peers and says why, as PeersAgreeTest does; the engine's own SIMD-against-scalar check above still ran.
            assertNotNull(NativeKernels.unavailableReason());
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = EightBitPeer.scalars(h, step, 0.75, arena);
            for (String variant : new String[] {"c", "avx512", "avx512bf16"}) {
                if (!variant.equals("c") && !EightBitPeer.has(variant)) {
                    continue; // built only where gcc targets AVX-512BW (and BF16): -march=native on such a CPU
                }
                for (int threads : new int[] {1, 2}) {
                    NativeKernels.setThreads(threads);
                    State c = new State(mode, n);
                    for (int s = 0; s < STEPS; s++) {
                        c.nativeStep(variant, k);
                    }
                    assertBitwise(engine, c, variant + " on " + threads + " threads, mode " + mode + ", n " + n);
                }
            }
        } finally {
            NativeKernels.setThreads(1);
        }
    }

    private static void assertBitwise(State want, State got, String who) {
        byte[][] w = want.snapshot(), g = got.snapshot();
        String[] names = {"parameters (float32 or master)", "bfloat16 parameters", "exp_avg codes",
            "sqrt(exp_avg_sq) codes", "exp_avg scales", "sqrt(exp_avg_sq) scales"};
        for (int i = 0; i < w.length; i++) {
            assertArrayEquals(w[i], g[i], who + ": " + names[i]);
        }
    }

    /** One set of buffers, off-heap, filled from a fixed seed: the same start for every implementation. */
    private static final class State {
        final int mode, n, blocks;
        final Arena arena = Arena.ofAuto();
        final MemorySegment pw, p16, g32, g16, m, r, sm, sr;

        State(int mode, int n) {
            this.mode = mode;
            this.n = n;
            this.blocks = (n + 255) / 256;
            boolean bf16 = mode == 6;
            pw = arena.allocate(4L * n, 64);
            p16 = bf16 ? arena.allocate(2L * n, 64) : MemorySegment.NULL;
            g32 = bf16 ? MemorySegment.NULL : arena.allocate(4L * n, 64);
            g16 = bf16 ? arena.allocate(2L * n, 64) : MemorySegment.NULL;
            m = arena.allocate(n, 64);
            r = arena.allocate(n, 64);
            sm = arena.allocate(4L * blocks, 64);
            sr = arena.allocate(4L * blocks, 64);
            SplittableRandom rnd = new SplittableRandom(42);
            for (int i = 0; i < n; i++) {
                float p = (float) rnd.nextDouble(-1, 1);
                pw.setAtIndex(ValueLayout.JAVA_FLOAT, i, p);
                if (bf16) {
                    p16.setAtIndex(ValueLayout.JAVA_SHORT, i, BFloat16.round(p));
                }
                // gradients over six decades, some exactly zero, so that codes of every size and the zero code occur
                float g = rnd.nextInt(16) == 0 ? 0f : (float) (rnd.nextDouble(-1, 1) * Math.pow(10, -rnd.nextInt(6)));
                if (bf16) {
                    g16.setAtIndex(ValueLayout.JAVA_SHORT, i, BFloat16.round(g));
                } else {
                    g32.setAtIndex(ValueLayout.JAVA_FLOAT, i, g);
                }
            }
            for (int i = 5; i < n; i += 64) {
                // a tie: a float halfway between two bfloat16 values (low 16 bits 0x8000), with gradient 0 and
                // exp_avg code 0, so that its new exp_avg is 0 and, without weight decay, its new value itself
                float tie = Float.intBitsToFloat((BFloat16.round((float) rnd.nextDouble(-1, 1)) << 16) | 0x8000);
                // every third a subnormal tie, every third of the rest a NaN with a payload: the values the CPU's
                // bfloat16 conversion rounds otherwise (read as zero; payload kept), which the peers must not use on
                if (i % 192 == 5) {
                    tie = Float.intBitsToFloat((rnd.nextInt(0x80) << 16) | 0x8000 | (rnd.nextBoolean() ? 0x80000000 : 0));
                } else if (i % 192 == 69) {
                    tie = Float.intBitsToFloat(0x7FC00000 | rnd.nextInt(1 << 22));
                }
                pw.setAtIndex(ValueLayout.JAVA_FLOAT, i, tie);
                if (bf16) {
                    p16.setAtIndex(ValueLayout.JAVA_SHORT, i, BFloat16.round(tie));
                    g16.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) 0);
                } else {
                    g32.setAtIndex(ValueLayout.JAVA_FLOAT, i, 0f);
                }
            }
            for (int b = 0; b < blocks; b++) {
                // block 1 starts as a first step does: all codes 0 against scale 0 (the reciprocal-of-zero path)
                boolean fresh = b == 1;
                for (int i = b * 256; i < Math.min(n, b * 256 + 256); i++) {
                    m.set(ValueLayout.JAVA_BYTE, i, fresh || i % 64 == 5 ? 0 : (byte) rnd.nextInt(256));
                    r.set(ValueLayout.JAVA_BYTE, i, fresh ? 0 : (byte) rnd.nextInt(256));
                }
                sm.setAtIndex(ValueLayout.JAVA_FLOAT, b, fresh ? 0f : (float) rnd.nextDouble(1e-4, 1e-1));
                sr.setAtIndex(ValueLayout.JAVA_FLOAT, b, fresh ? 0f : (float) rnd.nextDouble(1e-4, 1e-1));
            }
        }

        void engineStep(Kernels kernels, AdamStep step) {
            boolean bf16 = mode == 6;
            Chunk c = Chunk.quantized(bf16 ? p16 : pw, bf16 ? Dtype.BFLOAT16 : Dtype.FLOAT32, false, bf16 ? g16 : g32,
                    bf16 ? Dtype.BFLOAT16 : Dtype.FLOAT32, new MemorySegment[] {m, r}, new MemorySegment[] {sm, sr},
                    bf16 ? pw : null, 0, n, 0, 0);
            kernels.adam(c, step, null);
        }

        void nativeStep(String variant, MemorySegment k) {
            EightBitPeer.run(variant, pw, p16, g32, g16, m, r, sm, sr, n, mode, k);
        }

        byte[][] snapshot() {
            MemorySegment[] all = {pw, p16, m, r, sm, sr};
            byte[][] out = new byte[all.length][];
            for (int i = 0; i < all.length; i++) {
                out[i] = all[i].equals(MemorySegment.NULL) ? new byte[0] : all[i].toArray(ValueLayout.JAVA_BYTE);
            }
            return out;
        }
    }
}
