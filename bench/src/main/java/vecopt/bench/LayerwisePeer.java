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
import vecopt.kernel.LambStep;
import vecopt.kernel.LarsStep;
import vecopt.optim.LambOptions;
import vecopt.optim.LarsOptions;

/**
 * The native peers of the layer-wise optimizers' steps ({@code vo_lamb} and {@code vo_lars} in {@code vecopt_native.c},
 * optax's {@code lamb} and {@code lars}): the engine's two passes over its chunk grid (each tensor cut alone at the
 * buffer's multiples of 64 Ki elements), each chunk's sums in the order of the engine's kernel of {@code lanes} lanes,
 * the tensors' norms, trust ratios and factors between the passes, in plain C that gcc vectorizes; bitwise the
 * engine's parameters, state and ratios for float32 tensors (held to it by {@code LayerwisePeerTest}). The step's
 * floats are read from the engine's own prepared {@link LambStep} or {@link LarsStep}, as {@link UpdatePeers} reads
 * the elementwise optimizers'.
 *
 * <pre>{@code
 * MemorySegment t = LayerwisePeer.tensors(arena, new long[][] {{0, n, 0}});          // offset, length, group
 * MemorySegment k = LayerwisePeer.lambScalars(arena, 3, 3e-4, 1, LambOptions.DEFAULTS); // step 3, lr, gradScale
 * MemorySegment work = arena.allocate(LayerwisePeer.workspace(t), 64), out = arena.allocate(24, 8);
 * LayerwisePeer.LAMB.run(p, g, mu, nu, t, k, KernelProvider.kernels().lanes(), work, out, LayerwisePeer.STEP);
 * }</pre>
 */
final class LayerwisePeer {
    /** {@code passes} for the whole step; 1 runs pass 1 and the ratios alone, 2 pass 2 alone, to time each. */
    static final int STEP = 3;
    /**
     * Added to {@code passes}: LAMB's loops also prefetch each stream 1 KiB ahead (pass 1 with 16 lanes only), the
     * same results; what the engine cannot do (Java has no prefetch instruction), to measure what it is worth.
     */
    static final int PREFETCH = 4;
    /** The prepared steps' fields in the order {@code vo_lamb} and {@code vo_lars} read them (lb_k, ls_k). */
    private static final List<String> LAMB_FIELDS = List.of("beta1", "oneMinusBeta1", "beta2", "oneMinusBeta2",
            "invBc1", "invBc2", "eps", "epsRoot", "weightDecay", "gradScale");
    private static final List<String> LARS_FIELDS = List.of("weightDecay", "momentum", "nesterov", "gradScale");
    private static final MethodHandle WORKSPACE, SUMS;
    /** LAMB's peer: p, g, mu, nu; 12 doubles per group ({@link #lambScalars}). */
    static final LayerwisePeer LAMB = new LayerwisePeer("vo_lamb", 12);
    /** LARS's peer: p, g, trace (the fourth buffer unused); 8 doubles per group ({@link #larsScalars}). */
    static final LayerwisePeer LARS = new LayerwisePeer("vo_lars", 8);

    static {
        MethodHandle workspace = null, sums = null;
        if (NativeKernels.available()) {
            SymbolLookup lookup = SymbolLookup.libraryLookup(Path.of(NativeKernels.library()), Arena.global());
            Linker linker = Linker.nativeLinker();
            workspace = linker.downcallHandle(lookup.findOrThrow("vo_layerwise_workspace"),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS), Linker.Option.critical(true));
            sums = linker.downcallHandle(lookup.findOrThrow("vo_layerwise_sums"),
                    FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS),
                    Linker.Option.critical(true));
        }
        WORKSPACE = workspace;
        SUMS = sums;
    }

    private final MethodHandle handle;
    private final int group; // doubles per group

    private LayerwisePeer(String symbol, int group) {
        this.group = group;
        MethodHandle h = null;
        if (NativeKernels.available()) {
            SymbolLookup lookup = SymbolLookup.libraryLookup(Path.of(NativeKernels.library()), Arena.global());
            h = Linker.nativeLinker().downcallHandle(lookup.findOrThrow(symbol), FunctionDescriptor.ofVoid(ADDRESS,
                    ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
                    Linker.Option.critical(true));
        }
        this.handle = h;
    }
    /**
     * The tensors as {@code vo_lamb} reads them: per tensor {offset, length, group}, elements
     * {@code [offset, offset + length)} of the buffers, in any order, not overlapping.
     */
    static MemorySegment tensors(Arena arena, long[][] tensors) {
        MemorySegment t = arena.allocate(Math.max(1, 3L * tensors.length) * Long.BYTES, 8);
        for (int i = 0; i < tensors.length; i++) {
            long[] x = tensors[i];
            if (x.length != 3 || x[0] < 0 || x[1] < 0 || x[2] < 0) {
                throw new IllegalArgumentException("tensors[" + i + "] must be {offset >= 0, length >= 0, group >= 0},"
                        + " got " + java.util.Arrays.toString(x));
            }
            for (int j = 0; j < 3; j++) {
                t.setAtIndex(JAVA_LONG, 3L * i + j, x[j]);
            }
        }
        return t.asSlice(0, 3L * tensors.length * Long.BYTES);
    }

    /**
     * The doubles {@code vo_lamb} reads for step {@code t} (1 for the first) with the step's lr {@code lr} and gradient
     * scale {@code gradScale} (the clipping coefficient), one group per options in {@code groups}: the engine's
     * prepared step, then the group's lr (times its lrScale) and its maxWeightNorm.
     */
    static MemorySegment lambScalars(Arena arena, long t, double lr, double gradScale, LambOptions... groups) {
        MemorySegment k = arena.allocate(12L * groups.length * Double.BYTES, 64);
        for (int g = 0; g < groups.length; g++) {
            LambOptions o = groups[g];
            LambStep step = new LambStep().prepare(o.b1(), o.b2(), o.eps(), o.epsRoot(), o.weightDecay(), t,
                    o.maximize() ? -gradScale : gradScale);
            put(k, 12 * g, step, LAMB_FIELDS, lr * o.lrScale(), o.maxWeightNorm());
        }
        return k;
    }

    /**
     * The doubles {@code vo_lars} reads for a step with lr {@code lr} and gradient scale {@code gradScale}, one group
     * per options in {@code groups}: the engine's prepared step, then the group's lr (times its lrScale), its
     * trustCoefficient, eps and trustRatio (0 or 1).
     */
    static MemorySegment larsScalars(Arena arena, double lr, double gradScale, LarsOptions... groups) {
        MemorySegment k = arena.allocate(8L * groups.length * Double.BYTES, 64);
        for (int g = 0; g < groups.length; g++) {
            LarsOptions o = groups[g];
            LarsStep step = new LarsStep().prepare(o.weightDecay(), o.momentum(), o.nesterov(),
                    o.maximize() ? -gradScale : gradScale);
            put(k, 8 * g, step, LARS_FIELDS, lr * o.lrScale(), o.trustCoefficient(), o.eps(), o.trustRatio() ? 1 : 0);
        }
        return k;
    }

    /** The step's fields from index {@code at} of {@code k}, then {@code more}. */
    private static void put(MemorySegment k, int at, Object step, List<String> fields, double... more) {
        for (int i = 0; i < fields.size(); i++) {
            k.setAtIndex(JAVA_DOUBLE, at + i, UpdatePeers.read(step, fields.get(i)));
        }
        for (int i = 0; i < more.length; i++) {
            k.setAtIndex(JAVA_DOUBLE, at + fields.size() + i, more[i]);
        }
    }

    /** Bytes of workspace for {@code tensors} (from {@link #tensors}). */
    static long workspace(MemorySegment tensors) {
        NativeKernels.require();
        try {
            return (long) WORKSPACE.invokeExact(tensors.byteSize() / (3 * Long.BYTES), tensors);
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
    }

    /**
     * One step (or one pass: {@code passes} 1 or 2; plus {@link #PREFETCH}) of {@code tensors} in {@code p},
     * {@code g} and the state {@code s0}, {@code s1} (LAMB's mu, nu; LARS's trace, and {@code s1} unused:
     * {@code MemorySegment.NULL}) with the groups' scalars {@code k} ({@link #lambScalars}, {@link #larsScalars}),
     * each chunk summed as the engine's kernel of {@code lanes} lanes sums it ({@code Kernels.lanes()}: 1 for the
     * scalar kernels); {@code work} {@link #workspace} bytes; {@code out} 3 doubles per tensor: its trust ratio,
     * update norm and parameter norm.
     */
    void run(MemorySegment p, MemorySegment g, MemorySegment s0, MemorySegment s1, MemorySegment tensors,
             MemorySegment k, int lanes, MemorySegment work, MemorySegment out, int passes) {
        if ((passes & STEP) == 0 || (passes & ~(STEP | PREFETCH)) != 0) {
            throw new IllegalArgumentException("passes must be 1 (pass 1), 2 (pass 2) or 3 (the step), plus 4 to"
                    + " prefetch, got " + passes);
        }
        if (lanes != 1 && lanes != 4 && lanes != 8 && lanes != 16) {
            throw new IllegalArgumentException("lanes must be 1, 4, 8 or 16 (a kernel's float lanes), got " + lanes);
        }
        long count = tensors.byteSize() / (3 * Long.BYTES), groups = k.byteSize() / ((long) group * Double.BYTES);
        long floats = Math.min(Math.min(p.byteSize(), g.byteSize()),
                Math.min(s0.byteSize(), s1.equals(MemorySegment.NULL) ? s0.byteSize() : s1.byteSize())) / 4;
        for (long i = 0; i < count; i++) {
            long end = tensors.getAtIndex(JAVA_LONG, 3 * i) + tensors.getAtIndex(JAVA_LONG, 3 * i + 1);
            long in = tensors.getAtIndex(JAVA_LONG, 3 * i + 2);
            if (end > floats || in >= groups) {
                throw new IllegalArgumentException("tensor " + i + " must end within the " + floats + " floats of p, g"
                        + " and the state and name one of the " + groups + " groups of k; ends at " + end + ", group "
                        + in);
            }
        }
        NativeKernels.require();
        long need = workspace(tensors);
        if (work.byteSize() < need || out.byteSize() < 3 * count * Double.BYTES) {
            throw new IllegalArgumentException("work must hold " + need + " bytes and out " + 3 * count
                    + " doubles for " + count + " tensors; got " + work.byteSize() + " and " + out.byteSize()
                    + " bytes");
        }
        try {
            handle.invokeExact(p, g, s0, s1, count, tensors, k, lanes, work, out, passes);
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
    }

    /** The chunks' sums of the last pass 1 on {@code work}: 16 per chunk ({@code Kernels.NORM_SLOTS}), grid order. */
    static double[] sums(MemorySegment work, MemorySegment tensors) {
        NativeKernels.require();
        long count = tensors.byteSize() / (3 * Long.BYTES);
        try {
            double[] out = new double[Math.toIntExact((long) SUMS.invokeExact(work, count, tensors,
                    MemorySegment.NULL))];
            long got = (long) SUMS.invokeExact(work, count, tensors, MemorySegment.ofArray(out));
            if (got != out.length) {
                throw new IllegalStateException("vo_layerwise_sums wrote " + got + " of " + out.length);
            }
            return out;
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
    }
}
