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
import vecopt.optim.LambOptions;

/**
 * The native peer of LAMB's step ({@code vo_lamb} in {@code vecopt_native.c}, optax's {@code lamb}): the engine's two
 * passes over its chunk grid (each tensor cut alone at the buffer's multiples of 64 Ki elements), each chunk's sums
 * in the order of the engine's kernel of {@code lanes} lanes, the tensors' norms, trust ratios and factors between
 * the passes, in plain C that gcc vectorizes; bitwise the engine's parameters, {@code mu}, {@code nu} and ratios for
 * float32 tensors (held to it by {@code LambPeerTest}). The step's floats are read from the engine's own prepared
 * {@link LambStep}, as {@link UpdatePeers} reads the elementwise optimizers'.
 *
 * <pre>{@code
 * MemorySegment t = LambPeer.tensors(arena, new long[][] {{0, n, 0}});          // offset, length, group
 * MemorySegment k = LambPeer.scalars(arena, 3, 3e-4, 1, LambOptions.DEFAULTS);   // step 3, lr, gradScale
 * MemorySegment work = arena.allocate(LambPeer.workspace(t), 64), out = arena.allocate(24, 8);
 * LambPeer.run(p, g, mu, nu, t, k, KernelProvider.kernels().lanes(), work, out, LambPeer.STEP);
 * }</pre>
 */
final class LambPeer {
    /** {@code passes} for the whole step; 1 runs pass 1 and the ratios alone, 2 pass 2 alone, to time each. */
    static final int STEP = 3;
    /** The prepared step's fields in the order {@code vo_lamb} reads them (its {@code lb_k}). */
    private static final List<String> FIELDS = List.of("beta1", "oneMinusBeta1", "beta2", "oneMinusBeta2", "invBc1",
            "invBc2", "eps", "epsRoot", "weightDecay", "gradScale");
    /** Doubles per group: the fields, the group's lr and its maxWeightNorm. */
    private static final int GROUP = 12;
    private static final MethodHandle RUN, WORKSPACE, SUMS;

    static {
        MethodHandle run = null, workspace = null, sums = null;
        if (NativeKernels.available()) {
            SymbolLookup lookup = SymbolLookup.libraryLookup(Path.of(NativeKernels.library()), Arena.global());
            Linker linker = Linker.nativeLinker();
            run = linker.downcallHandle(lookup.findOrThrow("vo_lamb"), FunctionDescriptor.ofVoid(ADDRESS, ADDRESS,
                    ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
                    Linker.Option.critical(true));
            workspace = linker.downcallHandle(lookup.findOrThrow("vo_lamb_workspace"),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS), Linker.Option.critical(true));
            sums = linker.downcallHandle(lookup.findOrThrow("vo_lamb_sums"),
                    FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS), Linker.Option.critical(true));
        }
        RUN = run;
        WORKSPACE = workspace;
        SUMS = sums;
    }

    private LambPeer() {
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
    static MemorySegment scalars(Arena arena, long t, double lr, double gradScale, LambOptions... groups) {
        MemorySegment k = arena.allocate((long) GROUP * groups.length * Double.BYTES, 64);
        for (int g = 0; g < groups.length; g++) {
            LambOptions o = groups[g];
            LambStep step = new LambStep().prepare(o.b1(), o.b2(), o.eps(), o.epsRoot(), o.weightDecay(), t,
                    o.maximize() ? -gradScale : gradScale);
            for (int i = 0; i < FIELDS.size(); i++) {
                k.setAtIndex(JAVA_DOUBLE, (long) GROUP * g + i, UpdatePeers.read(step, FIELDS.get(i)));
            }
            k.setAtIndex(JAVA_DOUBLE, (long) GROUP * g + FIELDS.size(), lr * o.lrScale());
            k.setAtIndex(JAVA_DOUBLE, (long) GROUP * g + FIELDS.size() + 1, o.maxWeightNorm());
        }
        return k;
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
     * One step (or one pass: {@code passes} 1 or 2) of {@code tensors} in {@code p}, {@code g}, {@code mu},
     * {@code nu} with the groups' scalars {@code k} ({@link #scalars}), each chunk summed as the engine's kernel of
     * {@code lanes} lanes sums it ({@code Kernels.lanes()}: 1 for the scalar kernels); {@code work}
     * {@link #workspace} bytes; {@code out} 3 doubles per tensor: its trust ratio, update norm and parameter norm.
     */
    static void run(MemorySegment p, MemorySegment g, MemorySegment mu, MemorySegment nu, MemorySegment tensors,
                    MemorySegment k, int lanes, MemorySegment work, MemorySegment out, int passes) {
        if (passes < 1 || passes > STEP) {
            throw new IllegalArgumentException("passes must be 1 (pass 1), 2 (pass 2) or 3 (the step), got " + passes);
        }
        if (lanes != 1 && lanes != 4 && lanes != 8 && lanes != 16) {
            throw new IllegalArgumentException("lanes must be 1, 4, 8 or 16 (a kernel's float lanes), got " + lanes);
        }
        long count = tensors.byteSize() / (3 * Long.BYTES), groups = k.byteSize() / (GROUP * Double.BYTES);
        long floats = Math.min(Math.min(p.byteSize(), g.byteSize()), Math.min(mu.byteSize(), nu.byteSize())) / 4;
        for (long i = 0; i < count; i++) {
            long end = tensors.getAtIndex(JAVA_LONG, 3 * i) + tensors.getAtIndex(JAVA_LONG, 3 * i + 1);
            long group = tensors.getAtIndex(JAVA_LONG, 3 * i + 2);
            if (end > floats || group >= groups) {
                throw new IllegalArgumentException("tensor " + i + " must end within the " + floats + " floats of p, g,"
                        + " mu and nu and name one of the " + groups + " groups of k; ends at " + end + ", group "
                        + group);
            }
        }
        NativeKernels.require();
        long need = workspace(tensors);
        if (work.byteSize() < need || out.byteSize() < 3 * count * Double.BYTES) {
            throw new IllegalArgumentException("work must hold " + need + " bytes and out " + 3 * count
                    + " doubles for " + count + " tensors; got " + work.byteSize() + " and " + out.byteSize() + " bytes");
        }
        try {
            RUN.invokeExact(p, g, mu, nu, count, tensors, k, lanes, work, out, passes);
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
    }

    /** The chunks' sums of the last pass 1 run on {@code work}: 16 per chunk in grid order ({@code Kernels.NORM_SLOTS}). */
    static double[] sums(MemorySegment work, MemorySegment tensors) {
        NativeKernels.require();
        long count = tensors.byteSize() / (3 * Long.BYTES);
        try {
            double[] out = new double[Math.toIntExact((long) SUMS.invokeExact(work, count, tensors,
                    MemorySegment.NULL))];
            long got = (long) SUMS.invokeExact(work, count, tensors, MemorySegment.ofArray(out));
            if (got != out.length) {
                throw new IllegalStateException("vo_lamb_sums wrote " + got + " of " + out.length);
            }
            return out;
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
    }
}
