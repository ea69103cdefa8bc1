package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import vecopt.clip.NonFinite;
import vecopt.exec.ChunkGrid;
import vecopt.kernel.Chunk;
import vecopt.kernel.KernelProvider;
import vecopt.kernel.Kernels;
import vecopt.kernel.LambStep;
import vecopt.kernel.LarsStep;
import vecopt.kernel.TrustRatioStep;
import vecopt.memory.Storage;
import vecopt.optim.Lamb;
import vecopt.optim.LambOptions;
import vecopt.optim.Lars;
import vecopt.optim.LarsOptions;
import vecopt.optim.Optimizer;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * The layer-wise optimizers' native peers ({@link LayerwisePeer}: LAMB's and LARS's) compute the engine's step, not
 * something cheaper: after a few steps from the same parameters and gradients, the parameters, the state ({@code mu},
 * {@code nu}; {@code trace}), and each tensor's trust ratio, update norm and parameter norm are bitwise the engine's,
 * on one and two threads of its chunk grid. Several tensors in one
 * buffer, 3 floats apart (so chunks start off the vector grid): shorter than a vector (16 floats at 512 bits), around
 * it, across the grid's cuts at 64 Ki elements (a chunk of 3 elements, then whole chunks) and over several chunks
 * with a leftover tail; a tensor of zero parameters (its norm 0: ratio 1) and one of zero gradients without
 * weight decay (its update's norm 0: ratio 1); weight decay on and off (a second group without
 * it; LARS's second group without the trust ratio), LAMB's maxWeightNorm below the parameter norm, LARS's Nesterov
 * momentum and eps, maximize, lrScale and gradient scales other than 1.
 */
class LayerwisePeerTest {
    private static final int STEPS = 3;
    private static final int GAP = 3;

    @ParameterizedTest
    @CsvSource({
        "15;16;17;33, lamb_plain", "15;16;17;33, lamb_decay",
        "65530;70000, lamb_decay", "65530;70000, lamb_clamp_maximize",
        "300001, lamb_plain", "300001, lamb_clamp_maximize",
        "1;o48;z100;131072;7, lamb_decay", "1;o48;z100;131072;7, lamb_clamp_maximize",
        "15;16;17;33, lars_plain", "15;16;17;33, lars_decay",
        "65530;70000, lars_decay", "65530;70000, lars_nesterov_maximize",
        "300001, lars_plain", "300001, lars_nesterov_maximize",
        "1;o48;z100;131072;7, lars_plain", "1;o48;z100;131072;7, lars_nesterov_maximize"})
    void nativePeerIsBitwiseTheEngine(String layout, String variant) {
        Case c = new Case(layout, variant);
        double[] lrs = {1e-2, 5e-3, 1e-2}, scales = {1.0, 0.75, 1.0};
        float[] p = c.p0.clone(), g = new float[c.n];
        Storage ps = Storage.of(p), gs = Storage.of(g);
        ParamSet.Builder b = ParamSet.builder();
        for (int i = 0; i < c.lengths.length; i++) {
            b.add("t" + i, ps, gs, c.offsets[i], c.lengths[i]);
        }
        ParamSet set = b.build();
        double[][] ratios = new double[STEPS][];
        byte[][][] state = new byte[c.states.size()][c.lengths.length][];
        try (Engine opt = c.engine(set)) {
            for (int t = 0; t < STEPS; t++) {
                System.arraycopy(c.grads[t], 0, g, 0, c.n);
                opt.optimizer.step(lrs[t], scales[t]);
                ratios[t] = new double[3 * c.lengths.length];
                for (int i = 0; i < c.lengths.length; i++) {
                    double[] r = opt.ratios.apply("t" + i);
                    System.arraycopy(r, 0, ratios[t], 3 * i, 3);
                }
            }
            for (int v = 0; v < c.states.size(); v++) {
                for (int i = 0; i < c.lengths.length; i++) {
                    state[v][i] = opt.optimizer.state("t" + i, c.states.get(v)).toArray(ValueLayout.JAVA_BYTE);
                }
            }
        }
        assertFalse(Arrays.equals(c.p0, p), "the steps moved the parameters");
        for (int i = 0; i < c.lengths.length; i++) {
            // the cases of the ratio 1 are reached: zero parameters (norm 0) at step 1; zero gradients without decay
            // (update norm 0) at every step
            boolean still = c.zeroGrads[i] && c.decay(i) == 0;
            for (int t = 0; t < STEPS; t++) {
                if (((c.zeroParams[i] && t == 0) || still) && c.adapts(i)) {
                    assertEquals(0.0, ratios[t][3 * i + (still ? 1 : 2)], "tensor " + i + "'s norm at step " + (t + 1));
                    assertEquals(1.0, ratios[t][3 * i], "tensor " + i + "'s ratio at step " + (t + 1));
                }
            }
        }
        if (!NativeKernels.available()) {
            // The native library did not build (no C compiler): the bench module runs without its peers and says why,
            // as PeersAgreeTest does.
            assertNotNull(NativeKernels.unavailableReason());
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            // and LAMB's loops that prefetch (passes + PREFETCH), the same arithmetic
            for (int run = 0; run < (c.lamb ? 4 : 2); run++) {
                int threads = 1 + run % 2, passes = LayerwisePeer.STEP | (run >= 2 ? LayerwisePeer.PREFETCH : 0);
                NativeKernels.setThreads(threads);
                Peer peer = new Peer(c, arena, KernelProvider.kernels().lanes());
                String who = "native C on " + threads + " threads" + (run >= 2 ? ", prefetching, " : ", ") + layout
                        + ", " + variant;
                for (int t = 0; t < STEPS; t++) {
                    double[] got = peer.step(t, lrs[t], scales[t], passes);
                    for (int i = 0; i < got.length; i++) {
                        assertEquals(Double.doubleToRawLongBits(ratios[t][i]), Double.doubleToRawLongBits(got[i]),
                                who + ": tensor " + i / 3 + "'s " + List.of("ratio", "update norm", "parameter norm")
                                        .get(i % 3) + " at step " + (t + 1) + ": " + ratios[t][i] + " against "
                                        + got[i]);
                    }
                }
                assertArrayEquals(MemorySegment.ofArray(p).toArray(ValueLayout.JAVA_BYTE),
                        peer.p.toArray(ValueLayout.JAVA_BYTE), who + ": parameters");
                for (int v = 0; v < c.states.size(); v++) {
                    for (int i = 0; i < c.lengths.length; i++) {
                        assertArrayEquals(state[v][i], peer.slice(peer.state[v], i),
                                who + ": tensor " + i + "'s " + c.states.get(v));
                    }
                }
            }
        } finally {
            NativeKernels.setThreads(1);
        }
    }

    /**
     * The sums behind the ratios, where the step's results may not show the summation order (a double sum added in
     * another order often rounds to the same norm): after the peer's pass 1 (two threads), each chunk's 16 sums are
     * bitwise those the engine's kernels ({@code trustNorms}: the vector loops with the peer told their lane count,
     * and the scalar ones with lanes 1) add over the same chunks of the engine's grid ({@link ChunkGrid#cut}), and
     * LAMB's {@code mu} and {@code nu} are theirs.
     */
    @ParameterizedTest
    @CsvSource({"15;16;17;33, lamb_decay", "65530;70000, lamb_decay", "300001, lamb_decay",
        "1;o48;z100;131072;7, lamb_decay", "15;16;17;33, lars_plain", "65530;70000, lars_plain",
        "300001, lars_nesterov_maximize", "1;o48;z100;131072;7, lars_plain"})
    void chunkSumsAreBitwiseTheEngineKernels(String layout, String variant) {
        Case c = new Case(layout, variant);
        if (!NativeKernels.available()) {
            assertNotNull(NativeKernels.unavailableReason());
            return;
        }
        for (Kernels kernels : new Kernels[] {KernelProvider.kernels(), KernelProvider.scalar()}) {
            double[] peer;
            byte[][] peerState = new byte[c.states.size()][];
            try (Arena arena = Arena.ofConfined()) {
                NativeKernels.setThreads(2);
                Peer first = new Peer(c, arena, kernels.lanes());
                first.step(0, 1e-2, 1.0, 1);
                peer = LayerwisePeer.sums(first.work, first.tensors);
                for (int v = 0; v < peerState.length; v++) {
                    peerState[v] = first.state[v].toArray(ValueLayout.JAVA_BYTE);
                }
            } finally {
                NativeKernels.setThreads(1);
            }
            MemorySegment p = MemorySegment.ofArray(c.p0.clone()), g = MemorySegment.ofArray(c.grads[0]);
            MemorySegment[] state = new MemorySegment[c.states.size()];
            for (int v = 0; v < state.length; v++) {
                state[v] = MemorySegment.ofArray(new float[c.n]);
            }
            List<Tensor> tensors = new ArrayList<>();
            Storage ps = Storage.wrap(p), gs = Storage.wrap(g);
            ParamSet.Builder b = ParamSet.builder();
            for (int i = 0; i < c.lengths.length; i++) {
                b.add("t" + i, ps, gs, c.offsets[i], c.lengths[i]);
            }
            tensors.addAll(b.build().tensors());
            List<ChunkGrid.Range> grid = ChunkGrid.cut(tensors, ChunkGrid.CHUNK, false);
            assertEquals(grid.size() * Kernels.NORM_SLOTS, peer.length, "the peer's grid: 16 sums per chunk");
            double[] sums = new double[peer.length];
            for (int k = 0; k < grid.size(); k++) {
                ChunkGrid.Range r = grid.get(k);
                kernels.trustNorms(new Chunk(p, g, state, r.start(), r.length(), 0, k),
                        c.step(c.group(r.tensor().name())), sums, k);
            }
            for (int i = 0; i < sums.length; i++) {
                final int at = i;
                assertEquals(Double.doubleToRawLongBits(sums[i]), Double.doubleToRawLongBits(peer[i]),
                        () -> kernels.describe() + ", " + layout + ", chunk " + at / Kernels.NORM_SLOTS + " slot "
                                + at % Kernels.NORM_SLOTS + ": " + sums[at] + " (engine) against " + peer[at]
                                + " (peer)");
            }
            if (c.lamb) { // LARS's pass 1 writes no state
                for (int v = 0; v < state.length; v++) {
                    assertArrayEquals(state[v].toArray(ValueLayout.JAVA_BYTE), peerState[v],
                            kernels.describe() + ": " + c.states.get(v));
                }
            }
        }
    }

    /** The engine's optimizer of a case and each tensor's ratio, update norm and parameter norm after a step. */
    private record Engine(Optimizer<?> optimizer, Function<String, double[]> ratios) implements AutoCloseable {
        @Override
        public void close() {
            optimizer.close();
        }
    }

    /**
     * Tensors by length ("z" before a length: parameters zero, as a bias starts; "o": gradients zero) GAP floats
     * apart from offset 0, the optimizer and its options by name, and the start every implementation steps from.
     * Groups: 0 the variant's options; with "decay" also group 1 (LAMB: without weight decay; LARS: without the trust
     * ratio), which every odd-numbered tensor is in.
     */
    private static final class Case {
        final long[] offsets, lengths;
        final boolean[] zeroParams, zeroGrads;
        final int n;
        final boolean lamb;
        final LambOptions[] lambGroups;
        final LarsOptions[] larsGroups;
        final List<String> states;
        final float[] p0;
        final float[][] grads = new float[STEPS][];

        Case(String layout, String variant) {
            String[] parts = layout.split(";");
            offsets = new long[parts.length];
            lengths = new long[parts.length];
            zeroParams = new boolean[parts.length];
            zeroGrads = new boolean[parts.length];
            long at = 0;
            for (int i = 0; i < parts.length; i++) {
                zeroParams[i] = parts[i].startsWith("z");
                zeroGrads[i] = parts[i].startsWith("o");
                lengths[i] = Long.parseLong(zeroParams[i] || zeroGrads[i] ? parts[i].substring(1) : parts[i]);
                offsets[i] = at;
                at += lengths[i] + GAP;
            }
            n = Math.toIntExact(at);
            lamb = variant.startsWith("lamb_");
            states = lamb ? List.of("mu", "nu") : List.of("trace");
            lambGroups = switch (variant) {
                case "lamb_plain" -> new LambOptions[] {LambOptions.DEFAULTS};
                case "lamb_decay" -> new LambOptions[] {LambOptions.DEFAULTS.withWeightDecay(0.01),
                    LambOptions.DEFAULTS};
                // a parameter norm of about 0.58 per sqrt(element): 0.5 clamps every tensor of more than one element
                case "lamb_clamp_maximize" -> new LambOptions[] {LambOptions.DEFAULTS.withWeightDecay(0.1)
                        .withMaxWeightNorm(0.5).withMaximize(true).withLrScale(0.5).withEpsRoot(1e-8)};
                default -> new LambOptions[0];
            };
            larsGroups = switch (variant) {
                case "lars_plain" -> new LarsOptions[] {LarsOptions.DEFAULTS};
                case "lars_decay" -> new LarsOptions[] {LarsOptions.DEFAULTS.withWeightDecay(1e-2),
                    LarsOptions.DEFAULTS.withWeightDecay(1e-2).withTrustRatio(false)};
                case "lars_nesterov_maximize" -> new LarsOptions[] {LarsOptions.DEFAULTS.withWeightDecay(0.1)
                        .withNesterov(true).withMaximize(true).withLrScale(0.5).withEps(1e-3)
                        .withTrustCoefficient(0.02).withMomentum(0.8)};
                default -> new LarsOptions[0];
            };
            if (lambGroups.length + larsGroups.length == 0) {
                throw new IllegalArgumentException(variant);
            }
            SplittableRandom rnd = new SplittableRandom(17);
            p0 = new float[n];
            for (int i = 0; i < n; i++) {
                p0[i] = in(zeroParams, i) ? 0f : (float) rnd.nextDouble(-1, 1);
            }
            for (int t = 0; t < STEPS; t++) {
                grads[t] = new float[n];
                for (int i = 0; i < n; i++) {
                    // over four decades, some exactly zero
                    grads[t][i] = in(zeroGrads, i) || rnd.nextInt(32) == 0 ? 0f
                            : (float) (rnd.nextDouble(-1, 1) * Math.pow(10, -rnd.nextInt(4)));
                }
            }
        }

        /** Whether element i lies in a tensor marked in {@code marked}. */
        private boolean in(boolean[] marked, long i) {
            for (int t = 0; t < lengths.length; t++) {
                if (marked[t] && i >= offsets[t] && i < offsets[t] + lengths[t]) {
                    return true;
                }
            }
            return false;
        }

        int group(String tensorName) {
            int groups = lamb ? lambGroups.length : larsGroups.length;
            return groups > 1 && Integer.parseInt(tensorName.substring(1)) % 2 == 1 ? 1 : 0;
        }

        double decay(int tensor) {
            int g = group("t" + tensor);
            return lamb ? lambGroups[g].weightDecay() : larsGroups[g].weightDecay();
        }

        boolean adapts(int tensor) {
            return lamb || larsGroups[group("t" + tensor)].trustRatio();
        }

        /** The engine's optimizer over {@code set} with the case's groups, on 2 threads. */
        Engine engine(ParamSet set) {
            if (lamb) {
                Lamb.Builder b = Lamb.builder(set).options(lambGroups[0]).threads(2).onNonFinite(NonFinite.PROCEED);
                if (lambGroups.length > 1) {
                    b.group("second", lambGroups[1], t -> group(t.name()) == 1);
                }
                Lamb opt = b.build();
                return new Engine(opt, t -> new double[] {opt.trustRatio(t), opt.updateNorm(t), opt.paramNorm(t)});
            }
            Lars.Builder b = Lars.builder(set).options(larsGroups[0]).threads(2).onNonFinite(NonFinite.PROCEED);
            if (larsGroups.length > 1) {
                b.group("second", larsGroups[1], t -> group(t.name()) == 1);
            }
            Lars opt = b.build();
            return new Engine(opt, t -> new double[] {opt.trustRatio(t), opt.updateNorm(t), opt.paramNorm(t)});
        }

        /** Group {@code g}'s prepared first step (gradient scale 1), as the optimizer prepares it. */
        TrustRatioStep step(int g) {
            if (lamb) {
                LambOptions o = lambGroups[g];
                return new LambStep().prepare(o.b1(), o.b2(), o.eps(), o.epsRoot(), o.weightDecay(), 1,
                        o.maximize() ? -1.0 : 1.0);
            }
            LarsOptions o = larsGroups[g];
            return new LarsStep().prepare(o.weightDecay(), o.momentum(), o.nesterov(), o.maximize() ? -1.0 : 1.0);
        }

        /** The peer's scalars for step {@code t} (1 for the first). */
        MemorySegment scalars(Arena arena, long t, double lr, double gradScale) {
            return lamb ? LayerwisePeer.lambScalars(arena, t, lr, gradScale, lambGroups)
                    : LayerwisePeer.larsScalars(arena, lr, gradScale, larsGroups);
        }
    }

    /** The peer's buffers for a case, off-heap, from the case's start; the state zero, as the engine's start. */
    private static final class Peer {
        final Case c;
        final Arena arena;
        final int lanes;
        final MemorySegment p, g, tensors, work, out;
        final MemorySegment[] state;

        Peer(Case c, Arena arena, int lanes) {
            this.c = c;
            this.arena = arena;
            this.lanes = lanes;
            p = arena.allocate(4L * c.n, 64);
            g = arena.allocate(4L * c.n, 64);
            state = new MemorySegment[c.states.size()];
            for (int v = 0; v < state.length; v++) {
                state[v] = arena.allocate(4L * c.n, 64);
            }
            MemorySegment.copy(MemorySegment.ofArray(c.p0), 0, p, 0, 4L * c.n);
            long[][] t = new long[c.lengths.length][];
            for (int i = 0; i < t.length; i++) {
                t[i] = new long[] {c.offsets[i], c.lengths[i], c.group("t" + i)};
            }
            tensors = LayerwisePeer.tensors(arena, t);
            work = arena.allocate(LayerwisePeer.workspace(tensors), 64);
            out = arena.allocate(3L * t.length * Double.BYTES, 8);
        }

        /** Step {@code t + 1} on the case's gradients {@code t} (or its pass 1: passes 1); the ratios and norms. */
        double[] step(int t, double lr, double gradScale, int passes) {
            MemorySegment.copy(MemorySegment.ofArray(c.grads[t]), 0, g, 0, 4L * c.n);
            (c.lamb ? LayerwisePeer.LAMB : LayerwisePeer.LARS).run(p, g, state[0],
                    state.length > 1 ? state[1] : MemorySegment.NULL, tensors, c.scalars(arena, t + 1, lr, gradScale),
                    lanes, work, out, passes);
            return out.toArray(ValueLayout.JAVA_DOUBLE);
        }

        byte[] slice(MemorySegment s, int tensor) {
            return s.asSlice(4L * c.offsets[tensor], 4L * c.lengths[tensor]).toArray(ValueLayout.JAVA_BYTE);
        }
    }
}
