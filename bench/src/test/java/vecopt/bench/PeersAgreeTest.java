package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import vecopt.kernel.Chunk;
import vecopt.kernel.KernelProvider;
import vecopt.kernel.UpdateStep;

/**
 * The peers compute the engine's formula, not something cheaper: after a few steps on the same inputs the plain Java
 * loop and the native C kernel hold bitwise the engine's parameters and state (all use correctly rounded fma, sqrt
 * and division in the same order; see vecopt_native.c). A peer that skipped work would look fast and fail here.
 */
class PeersAgreeTest {
    // Two whole 64 Ki chunks of the native peer's thread grid and a part of a third, not a multiple of any vector
    // width: exercises the threaded split and every tail.
    private static final int N = 2 * 65536 + 1013;
    private static final int STEPS = 3;

    @ParameterizedTest
    @CsvSource({"adamw, heap", "adamw, offheap", "adam_l2, heap", "adam_l2, offheap", "amsgrad, heap",
            "amsgrad, offheap"})
    void adamPeersMatchTheEngineBitForBit(String variant, String memory) {
        AdamScalars k = AdamScalars.of(variant, 10);
        boolean ams = variant.equals("amsgrad");
        float[][] engine = adam(memory, b -> KernelProvider.kernels().adam(chunk(b), k.engine, null));
        assertArrayEquals2(engine, adam(memory, b -> {
            if (ams) {
                JavaLoops.amsgrad(b, k);
            } else {
                JavaLoops.adam(b, k);
            }
        }), "java loop");
        if (NativeKernels.available()) {
            for (int threads : new int[]{1, 2}) {
                NativeKernels.setThreads(threads);
                assertArrayEquals2(engine, adam(memory, b -> {
                    if (ams) {
                        NativeKernels.amsgrad(b.segment(0), b.segment(1), b.segment(2), b.segment(3), b.segment(4), N, k);
                    } else {
                        NativeKernels.adam(b.segment(0), b.segment(1), b.segment(2), b.segment(3), N, k);
                    }
                }), "native C on " + threads + " threads");
            }
            NativeKernels.setThreads(1);
        } else {
            assertNotNull(NativeKernels.unavailableReason());
        }
    }

    @ParameterizedTest
    @CsvSource({"momentum, heap", "momentum, offheap", "nesterov, heap", "nesterov, offheap"})
    void sgdPeersMatchTheEngineBitForBit(String variant, String memory) {
        SgdScalars k = SgdScalars.of(variant);
        float[][] engine = sgd(memory, b -> KernelProvider.kernels().sgd(
                new Chunk(b.segment(0), b.segment(1), new MemorySegment[] {b.segment(2)}, 0, N, 0, 0), k.engine, null));
        assertArrayEquals2(engine, sgd(memory, b -> JavaLoops.sgdMomentum(b, k)), "java loop");
        if (NativeKernels.available()) {
            NativeKernels.setThreads(2);
            assertArrayEquals2(engine, sgd(memory, b -> NativeKernels.sgdMomentum(b.segment(0), b.segment(1),
                    b.segment(2), N, k)), "native C on 2 threads");
            NativeKernels.setThreads(1);
        } else {
            assertNotNull(NativeKernels.unavailableReason());
        }
    }

    /**
     * The optimizers run through {@code Kernels.update}: the native peer, fed the floats of the engine's own prepared
     * step, holds bitwise the engine's parameters and state after a few steps, on one and two threads.
     */
    @ParameterizedTest
    @CsvSource({"adagrad, heap", "rmsprop, offheap", "rmsprop_centered_momentum, heap", "lion, offheap",
            "adamax, heap", "nadam, offheap", "radam, heap", "adadelta, offheap", "rprop, heap", "asgd, offheap"})
    void updatePeersMatchTheEngineBitForBit(String optimizer, String memory) {
        UpdateStep step = UpdatePeers.steady(optimizer, 3e-4);
        int states = UpdatePeers.stateCount(optimizer);
        float[][] engine = update(memory, states, b -> {
            MemorySegment[] s = new MemorySegment[states];
            for (int i = 0; i < states; i++) {
                s[i] = b.segment(2 + i);
            }
            KernelProvider.kernels().update(new Chunk(b.segment(0), b.segment(1), s, 0, N, 0, 0), step);
        });
        if (NativeKernels.available()) {
            String peer = UpdatePeers.peerOf(optimizer);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment k = UpdatePeers.scalars(peer, step, arena);
                for (int threads : new int[]{1, 2}) {
                    NativeKernels.setThreads(threads);
                    assertArrayEquals2(engine, update(memory, states, b -> UpdatePeers.run(peer, b.segment(0),
                            b.segment(1), b.segment(2), states > 1 ? b.segment(3) : MemorySegment.NULL,
                            states > 2 ? b.segment(4) : MemorySegment.NULL, N, k)),
                            optimizer + " native C on " + threads + " threads");
                }
            }
            NativeKernels.setThreads(1);
        } else {
            assertNotNull(NativeKernels.unavailableReason());
        }
    }

    private static float[][] update(String memory, int states, Consumer<Buffers> step) {
        try (Buffers b = Buffers.allocate(memory, "staggered", N, 2 + states)) {
            b.fill(0, -0.05f, 0.05f, 1).fill(1, -0.01f, 0.01f, 2);
            for (int i = 0; i < states; i++) {
                b.fill(2 + i, 1e-6f, 1e-4f, 3 + i); // positive: sums and averages of squares, step sizes
            }
            for (int s = 0; s < STEPS; s++) {
                step.accept(b);
            }
            return snapshot(b, 2 + states);
        }
    }

    private static Chunk chunk(Buffers b) {
        return new Chunk(b.segment(0), b.segment(1), new MemorySegment[] {b.segment(2), b.segment(3), b.segment(4)}, 0, N, 0, 0);
    }

    private static float[][] adam(String memory, Consumer<Buffers> step) {
        try (Buffers b = Buffers.allocate(memory, "staggered", N, 5)) {
            b.fill(0, -0.05f, 0.05f, 1).fill(1, -0.01f, 0.01f, 2).fill(2, -0.001f, 0.001f, 3)
                    .fill(3, 1e-6f, 1e-4f, 4).fill(4, 1e-6f, 1e-3f, 5);
            for (int s = 0; s < STEPS; s++) {
                step.accept(b);
            }
            return snapshot(b, 5);
        }
    }

    private static float[][] sgd(String memory, Consumer<Buffers> step) {
        try (Buffers b = Buffers.allocate(memory, "staggered", N, 3)) {
            b.fill(0, -0.05f, 0.05f, 1).fill(1, -0.01f, 0.01f, 2).fill(2, -0.01f, 0.01f, 3);
            for (int s = 0; s < STEPS; s++) {
                step.accept(b);
            }
            return snapshot(b, 3);
        }
    }

    private static float[][] snapshot(Buffers b, int count) {
        float[][] out = new float[count][];
        for (int k = 0; k < count; k++) {
            out[k] = b.segment(k).toArray(ValueLayout.JAVA_FLOAT);
        }
        return out;
    }

    private static void assertArrayEquals2(float[][] want, float[][] got, String who) {
        boolean changed = false;
        for (int k = 0; k < want.length; k++) {
            // assertArrayEquals on float[] compares with floatToIntBits: bitwise, NaN-aware.
            assertArrayEquals(want[k], got[k], who + ": buffer " + k);
        }
        // The steps changed the parameters (a peer that did nothing would otherwise agree with an engine that did nothing).
        try (Buffers fresh = Buffers.allocate("heap", "staggered", N, 1)) {
            fresh.fill(0, -0.05f, 0.05f, 1);
            float[] p0 = fresh.segment(0).toArray(ValueLayout.JAVA_FLOAT);
            for (int i = 0; i < N && !changed; i++) {
                changed = Float.floatToIntBits(p0[i]) != Float.floatToIntBits(want[0][i]);
            }
        }
        assertTrue(changed, who + ": the steps left the parameters unchanged");
    }
}
