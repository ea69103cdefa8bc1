package vecopt.bench;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;
import vecopt.kernel.AdafactorStep;
import vecopt.optim.AdafactorOptions;

/**
 * The native peer of Adafactor's step ({@code vo_adafactor} in {@code vecopt_native.c}, Hugging Face's
 * {@code transformers.optimization.Adafactor}): the engine's three passes over a matrix (two over a 1-D tensor), its
 * chunk grid, partial sums and the work between the passes, in plain C that gcc vectorizes, bitwise the engine's
 * parameters and state (held to it by {@code AdafactorPeerTest}). The step's floats are read from the engine's own
 * prepared {@link AdafactorStep}, as {@link UpdatePeers} reads the elementwise optimizers'; the learning rate before
 * its RMS factor is HF's {@code _get_lr}, as {@code vecopt.optim.Adafactor} computes it.
 *
 * <pre>{@code
 * MemorySegment work = arena.allocate(AdafactorPeer.workspace(n, rows, cols), 64), out = arena.allocate(8, 4);
 * MemorySegment k = AdafactorPeer.scalars(AdafactorOptions.DEFAULTS, t, 1.0, 1.0, arena);
 * AdafactorPeer.run(p, g, MemorySegment.NULL, row, col, n, rows, cols, work, k, out, AdafactorPeer.STEP);
 * }</pre>
 */
final class AdafactorPeer {
    /** {@code passes} for the whole step; 1, 2 and 4 run one pass (and what follows it), to time it alone. */
    static final int STEP = 7;
    /** The prepared step's fields in the order {@code vo_adafactor} reads them (its {@code af_k}). */
    private static final List<String> FIELDS = List.of("eps1", "beta2t", "oneMinusBeta2t", "beta1", "oneMinusBeta1",
            "gradScale", "firstMoment", "decay");
    private static final MethodHandle RUN, WORKSPACE, SUMS;

    static {
        MethodHandle run = null, workspace = null, sums = null;
        if (NativeKernels.available()) {
            SymbolLookup lookup = SymbolLookup.libraryLookup(Path.of(NativeKernels.library()), Arena.global());
            Linker linker = Linker.nativeLinker();
            run = linker.downcallHandle(lookup.findOrThrow("vo_adafactor"), FunctionDescriptor.ofVoid(ADDRESS, ADDRESS,
                    ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_INT),
                    Linker.Option.critical(true));
            workspace = linker.downcallHandle(lookup.findOrThrow("vo_adafactor_workspace"),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
            sums = linker.downcallHandle(lookup.findOrThrow("vo_adafactor_sums"),
                    FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS),
                    Linker.Option.critical(true));
        }
        RUN = run;
        WORKSPACE = workspace;
        SUMS = sums;
    }

    private AdafactorPeer() {
    }

    /** Bytes of workspace for a tensor of {@code n} elements as {@code rows x cols} matrices (0, 0: a 1-D tensor). */
    static long workspace(long n, long rows, long cols) {
        NativeKernels.require();
        try {
            return (long) WORKSPACE.invokeExact(n, rows, cols);
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
    }

    /**
     * The doubles {@code vo_adafactor} reads for step {@code t} (1 for the first) of a group with options {@code o},
     * the step's lr {@code lr} and gradient scale {@code gradScale} (the clipping coefficient): the engine's prepared
     * step, then HF's lr before its RMS factor, eps2, scaleParameter, weightDecay, clipThreshold.
     */
    static MemorySegment scalars(AdafactorOptions o, long t, double lr, double gradScale, Arena arena) {
        AdafactorStep step = new AdafactorStep().prepare(o.eps1(), o.decayRate(),
                o.beta1() == null ? Double.NaN : o.beta1(), o.weightDecay() != 0, t,
                o.maximize() ? -gradScale : gradScale);
        double rel = o.relativeStep() ? Math.min(o.warmupInit() ? 1e-6 * t : 1e-2, 1.0 / Math.sqrt(t)) : o.lr();
        MemorySegment k = arena.allocate((long) (FIELDS.size() + 5) * Double.BYTES, 64);
        for (int i = 0; i < FIELDS.size(); i++) {
            k.setAtIndex(JAVA_DOUBLE, i, UpdatePeers.read(step, FIELDS.get(i)));
        }
        double[] more = {rel * (lr * o.lrScale()), o.eps2(), o.scaleParameter() ? 1 : 0, o.weightDecay(),
            o.clipThreshold()};
        for (int i = 0; i < more.length; i++) {
            k.setAtIndex(JAVA_DOUBLE, FIELDS.size() + i, more[i]);
        }
        return k;
    }

    /**
     * One step (or the passes in {@code passes}) over {@code n} elements: {@code m} exp_avg (NULL without beta1);
     * a matrix ({@code rows}, {@code cols} > 0) keeps exp_avg_sq_row in {@code s0} and exp_avg_sq_col in {@code s1},
     * a 1-D tensor ({@code rows = cols = 0}) exp_avg_sq in {@code s0}; {@code work} {@link #workspace} bytes;
     * {@code out} two floats: RMS(p) and the lr the update used.
     */
    static void run(MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment s0, MemorySegment s1, long n,
                    long rows, long cols, MemorySegment work, MemorySegment k, MemorySegment out, int passes) {
        if (rows < 0 || cols < 0 || (rows == 0) != (cols == 0) || (cols > 0 && n % (rows * cols) != 0)) {
            throw new IllegalArgumentException("rows x cols must divide n (or both be 0: a 1-D tensor), got n " + n
                    + ", rows " + rows + ", cols " + cols);
        }
        if (passes < 1 || passes > STEP) {
            throw new IllegalArgumentException("passes must be a set of the bits 1, 2 and 4 (7: the step), got " + passes);
        }
        NativeKernels.require();
        long need = workspace(n, rows, cols);
        if (work.byteSize() < need || out.byteSize() < 2L * Float.BYTES) {
            throw new IllegalArgumentException("work must hold " + need + " bytes and out 2 floats for n " + n + ", rows "
                    + rows + ", cols " + cols + "; got " + work.byteSize() + " and " + out.byteSize());
        }
        try {
            RUN.invokeExact(p, g, m, s0, s1, n, rows, cols, work, k, out, passes);
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
    }

    /**
     * The double sums of the passes last run on {@code work} ({@code vo_adafactor_sums}): per chunk in grid order
     * RMS(p)'s and RMS(u)'s, then a matrix's row sums and column slots (as {@code AdafactorChunk.rowSum} and
     * {@code colSum}); after the chunks the tensor's sums of p^2 and u^2 and a matrix's row totals and column totals
     * (the chunks' sums added in grid order), then its row factors and column factors.
     */
    static double[] sums(MemorySegment work, long n, long rows, long cols) {
        NativeKernels.require();
        try {
            double[] out = new double[Math.toIntExact((long) SUMS.invokeExact(work, n, rows, cols,
                    MemorySegment.NULL))];
            long got = (long) SUMS.invokeExact(work, n, rows, cols, MemorySegment.ofArray(out));
            if (got != out.length) {
                throw new IllegalStateException("vo_adafactor_sums wrote " + got + " of " + out.length);
            }
            return out;
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
    }
}
