package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import vecopt.clip.NonFinite;
import vecopt.kernel.AdafactorChunk;
import vecopt.kernel.AdafactorStep;
import vecopt.kernel.Chunk;
import vecopt.kernel.KernelProvider;
import vecopt.kernel.Kernels;
import vecopt.memory.Storage;
import vecopt.optim.Adafactor;
import vecopt.optim.AdafactorOptions;
import vecopt.param.ParamSet;
import vecopt.param.Shape;

/**
 * Adafactor's native peer ({@link AdafactorPeer}) computes the engine's step, not something cheaper: after a few
 * steps from the same parameters and gradients, its parameters, exp_avg_sq_row and _col (or exp_avg_sq), exp_avg,
 * RMS and lr are bitwise the engine's, on one and two threads of its chunk grid. Shapes around the vector width (16
 * floats at 512 bits), the groups of 4 rows and the chunks of {@link Adafactor#CHUNK} (262,144) elements: a row
 * longer than a chunk (1 x N: chunks shorter than a row), a column (N x 1: groups of one-element rows), row counts not
 * a multiple of 4, chunks that start mid-row, a batch of matrices crossing chunks, and 1-D tensors; HF's relative
 * step and a manual lr, with and without beta1, weight decay, clipping (a clip threshold the update's RMS exceeds),
 * maximize, and gradient scales other than 1.
 */
class AdafactorPeerTest {
    private static final int STEPS = 3;

    @ParameterizedTest
    @CsvSource({
        "5x37, hf", "5x37, manual_beta1",
        "1x300001, hf", "1x300001, manual_beta1",
        "300001x1, relative_beta1_clip", "300001x1, manual",
        "7x40001, hf", "7x40001, manual_beta1",
        "1027x513, relative_beta1_clip", "1027x513, manual",
        "3x5x20011, hf", "3x5x20011, manual_beta1",
        "37, hf", "37, manual_beta1",
        "300001, relative_beta1_clip", "300001, manual",
        // 4 chunks: the chunks' sums added in grid order is not the only order that gives the same bits with 2
        "1003x1001, hf", "1000003, manual_beta1"})
    void nativePeerIsBitwiseTheEngine(String shape, String variant) {
        Case c = new Case(shape, variant);
        int n = c.n;
        long rows = c.rows;
        AdafactorOptions o = c.o;
        boolean beta1 = o.beta1() != null;
        float[] p0 = c.p0;
        float[][] grads = c.grads;
        double[] lrs = {1.0, 0.5, 1.0}, scales = {1.0, 0.75, 1.0};

        float[] p = p0.clone(), g = new float[n];
        ParamSet set = ParamSet.builder().add("w", Storage.of(p), Storage.of(g), 0, n, c.shape).build();
        float[] rms = new float[STEPS], lr = new float[STEPS];
        byte[][] engine;
        try (Adafactor opt = Adafactor.builder(set).options(o).threads(2).onNonFinite(NonFinite.PROCEED).build()) {
            for (int t = 0; t < STEPS; t++) {
                System.arraycopy(grads[t], 0, g, 0, n);
                opt.step(lrs[t], scales[t]);
                rms[t] = opt.rms("w");
                lr[t] = opt.lr("w");
            }
            engine = new byte[][] {MemorySegment.ofArray(p).toArray(ValueLayout.JAVA_BYTE),
                bytes(opt.state("w", rows > 0 ? "exp_avg_sq_row" : "exp_avg_sq")),
                rows > 0 ? bytes(opt.state("w", "exp_avg_sq_col")) : new byte[0],
                beta1 ? bytes(opt.state("w", "exp_avg")) : new byte[0]};
        }
        assertFalse(Arrays.equals(p0, p), "the steps moved the parameters");
        if (!NativeKernels.available()) {
            // The native library did not build (no C compiler): the bench module runs without its peers and says why,
            // as PeersAgreeTest does.
            assertNotNull(NativeKernels.unavailableReason());
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            for (int threads : new int[] {1, 2}) {
                NativeKernels.setThreads(threads);
                Peer peer = new Peer(c, arena);
                String who = "native C on " + threads + " threads, " + shape + ", " + variant;
                for (int t = 0; t < STEPS; t++) {
                    float[] got = peer.step(t, lrs[t], scales[t]);
                    assertEquals(Float.floatToRawIntBits(rms[t]), Float.floatToRawIntBits(got[0]),
                            who + ": RMS at step " + (t + 1));
                    assertEquals(Float.floatToRawIntBits(lr[t]), Float.floatToRawIntBits(got[1]),
                            who + ": lr at step " + (t + 1));
                }
                byte[][] mine = {bytes(peer.p), bytes(peer.s0), bytes(peer.s1), bytes(peer.m)};
                String[] names = {"parameters", rows > 0 ? "exp_avg_sq_row" : "exp_avg_sq", "exp_avg_sq_col", "exp_avg"};
                for (int i = 0; i < names.length; i++) {
                    assertArrayEquals(engine[i], mine[i], who + ": " + names[i]);
                }
            }
        } finally {
            NativeKernels.setThreads(1);
        }
    }

    /**
     * The sums behind the step, where its float results seldom show the summation order (a double sum added in
     * another order mostly rounds to the same float): after a first step of the peer, each chunk's double sums (p^2,
     * update^2, per row and per column slot of g^2 + eps1) are bitwise those of the engine's kernels (the vector
     * loops and the scalar ones) run over the same chunks, pass 2 with the peer's factors; and a matrix's row and
     * column totals, and the tensor's sums of p^2 and update^2, are those chunk sums added in grid order, as the
     * optimizer adds them between the passes.
     */
    @ParameterizedTest
    @CsvSource({"5x37", "1x300001", "300001x1", "7x40001", "1027x513", "3x5x20011", "37", "300001", "1003x1001",
        // 4 and 16 chunks: two orders of adding 2 or 3 chunks' sums often give the same double
        "1000003", "2001x2003"})
    void chunkSumsAreBitwiseTheEngineKernels(String shape) {
        Case c = new Case(shape, "hf");
        if (!NativeKernels.available()) {
            assertNotNull(NativeKernels.unavailableReason());
            return;
        }
        double[] peer;
        try (Arena arena = Arena.ofConfined()) {
            NativeKernels.setThreads(2);
            Peer first = new Peer(c, arena);
            first.step(0, 1.0, 1.0);
            peer = AdafactorPeer.sums(first.work, c.n, c.rows, c.cols);
        } finally {
            NativeKernels.setThreads(1);
        }
        int chunks = (c.n + Adafactor.CHUNK - 1) / Adafactor.CHUNK;
        int rowsAll = c.rows > 0 ? (int) (c.n / c.cols) : 0, colsAll = c.rows > 0 ? (int) (c.n / c.rows) : 0;
        int totals = peer.length - 2 - 2 * (rowsAll + colsAll); // where the chunks' sums end
        float[] rf = null, cf = null;
        if (c.rows > 0) {
            rf = new float[rowsAll];
            cf = new float[colsAll];
            int factors = totals + 2 + rowsAll + colsAll;
            for (int i = 0; i < rowsAll; i++) {
                rf[i] = (float) peer[factors + i];
            }
            for (int i = 0; i < colsAll; i++) {
                cf[i] = (float) peer[factors + rowsAll + i];
            }
        }
        AdafactorStep step = new AdafactorStep().prepare(c.o.eps1(), c.o.decayRate(), Double.NaN, false, 1, 1.0);
        for (Kernels kernels : new Kernels[] {KernelProvider.kernels(), KernelProvider.scalar()}) {
            MemorySegment p = MemorySegment.ofArray(c.p0.clone()), g = MemorySegment.ofArray(c.grads[0]);
            MemorySegment v = MemorySegment.ofArray(new float[c.n]);
            int at = 0;
            // the tensor's totals as vecopt.optim.Adafactor adds them between passes 1 and 2: chunk by chunk, in grid order
            double[] rowTotal = new double[rowsAll], colTotal = new double[colsAll];
            double paramTotal = 0, updateTotal = 0;
            for (int k = 0; k < chunks; k++) {
                int first = k * Adafactor.CHUNK, len = Math.min(Adafactor.CHUNK, c.n - first);
                Chunk chunk = new Chunk(p, g, new MemorySegment[0], first, len, 0, k);
                AdafactorChunk w = c.rows > 0 ? new AdafactorChunk(first, len, (int) c.rows, (int) c.cols, rf, cf)
                        : new AdafactorChunk(first, v.asSlice(4L * first, 4L * len));
                kernels.adafactor(chunk, step, w, 0);
                if (w.factored()) {
                    kernels.adafactor(chunk, step, w, 1);
                }
                String who = kernels.getClass().getSimpleName() + ", " + shape + ", chunk " + k + ": ";
                assertBits(w.paramSquares(), peer[at++], who + "p^2");
                assertBits(w.updateSquares(), peer[at++], who + "update^2");
                paramTotal += w.paramSquares();
                updateTotal += w.updateSquares();
                for (int i = 0; i < w.rowCount(); i++) {
                    assertBits(w.rowSum(i), peer[at++], who + "row sum " + i);
                }
                for (int i = 0; i < w.colCount(); i++) {
                    assertBits(w.colSum(i), peer[at++], who + "column sum " + i);
                }
                if (w.factored()) {
                    for (int i = 0; i < w.rowCount(); i++) {
                        rowTotal[(int) w.rowFirst() + i] += w.rowSum(i);
                    }
                    w.addColSums(colTotal);
                }
            }
            assertEquals(totals, at, "the peer's sums: one per chunk sum, then the totals and factors");
            assertBits(paramTotal, peer[at++], shape + ": the sum of p^2 (RMS(p))");
            assertBits(updateTotal, peer[at++], shape + ": the sum of update^2 (RMS(u))");
            for (int i = 0; i < rowsAll; i++) {
                assertBits(rowTotal[i], peer[at++], shape + ": row total " + i);
            }
            for (int i = 0; i < colsAll; i++) {
                assertBits(colTotal[i], peer[at++], shape + ": column total " + i);
            }
        }
    }

    private static void assertBits(double want, double got, String who) {
        assertEquals(Double.doubleToRawLongBits(want), Double.doubleToRawLongBits(got), () -> who + ": " + want
                + " (engine) against " + got + " (peer)");
    }

    /** A shape ("RxC", "BxRxC" or "N"), options by name, and the start every implementation steps from. */
    private static final class Case {
        final Shape shape;
        final int n;
        final long rows, cols; // the last two dimensions, 0 for a 1-D tensor
        final AdafactorOptions o;
        final float[] p0;
        final float[][] grads = new float[STEPS][];

        Case(String shape, String variant) {
            long[] dims = Arrays.stream(shape.split("x")).mapToLong(Long::parseLong).toArray();
            this.shape = Shape.of(dims);
            this.n = Math.toIntExact(this.shape.elements());
            this.rows = dims.length >= 2 ? dims[dims.length - 2] : 0;
            this.cols = dims.length >= 2 ? dims[dims.length - 1] : 0;
            this.o = switch (variant) {
                case "hf" -> AdafactorOptions.DEFAULTS;
                // an RMS(u) of about 1 on the first steps: a threshold of 0.3 clips every step
                case "relative_beta1_clip" -> AdafactorOptions.DEFAULTS.withBeta1(0.9).withClipThreshold(0.3)
                        .withWeightDecay(0.01).withMaximize(true);
                case "manual" -> AdafactorOptions.DEFAULTS.manual(1e-2).withScaleParameter(false).withWeightDecay(0.01);
                case "manual_beta1" -> AdafactorOptions.DEFAULTS.manual(1e-3).withBeta1(0.9).withLrScale(0.5);
                default -> throw new IllegalArgumentException(variant);
            };
            SplittableRandom rnd = new SplittableRandom(17);
            p0 = new float[n];
            for (int i = 0; i < n; i++) {
                p0[i] = (float) rnd.nextDouble(-1, 1);
            }
            for (int t = 0; t < STEPS; t++) {
                grads[t] = new float[n];
                for (int i = 0; i < n; i++) {
                    // over four decades, some exactly zero (w = eps1 there)
                    grads[t][i] = rnd.nextInt(32) == 0 ? 0f
                            : (float) (rnd.nextDouble(-1, 1) * Math.pow(10, -rnd.nextInt(4)));
                }
            }
        }
    }

    /** The peer's buffers for a case, off-heap, from the case's start. */
    private static final class Peer {
        final Case c;
        final Arena arena;
        final MemorySegment p, g, s0, s1, m, work, out;

        Peer(Case c, Arena arena) {
            this.c = c;
            this.arena = arena;
            p = arena.allocate(4L * c.n, 64);
            g = arena.allocate(4L * c.n, 64);
            MemorySegment.copy(MemorySegment.ofArray(c.p0), 0, p, 0, 4L * c.n);
            s0 = arena.allocate(4L * (c.rows > 0 ? c.n / c.cols : c.n), 64);
            s1 = c.rows > 0 ? arena.allocate(4L * (c.n / c.rows), 64) : MemorySegment.NULL;
            m = c.o.beta1() != null ? arena.allocate(4L * c.n, 64) : MemorySegment.NULL;
            work = arena.allocate(AdafactorPeer.workspace(c.n, c.rows, c.cols), 64);
            out = arena.allocate(8, 4);
        }

        /** Step {@code t + 1} on the case's gradients {@code t}; returns the RMS and lr it used. */
        float[] step(int t, double lr, double gradScale) {
            MemorySegment.copy(MemorySegment.ofArray(c.grads[t]), 0, g, 0, 4L * c.n);
            AdafactorPeer.run(p, g, m, s0, s1, c.n, c.rows, c.cols, work,
                    AdafactorPeer.scalars(c.o, t + 1, lr, gradScale, arena), out, AdafactorPeer.STEP);
            return new float[] {out.getAtIndex(ValueLayout.JAVA_FLOAT, 0), out.getAtIndex(ValueLayout.JAVA_FLOAT, 1)};
        }
    }

    private static byte[] bytes(MemorySegment s) {
        return s.equals(MemorySegment.NULL) ? new byte[0] : s.toArray(ValueLayout.JAVA_BYTE);
    }
}
