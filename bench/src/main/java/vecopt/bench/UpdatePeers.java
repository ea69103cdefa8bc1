package vecopt.bench;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import vecopt.kernel.AdadeltaStep;
import vecopt.kernel.AdagradStep;
import vecopt.kernel.AdamaxStep;
import vecopt.kernel.AsgdStep;
import vecopt.kernel.LionStep;
import vecopt.kernel.NAdamStep;
import vecopt.kernel.RAdamStep;
import vecopt.kernel.RmspropStep;
import vecopt.kernel.RpropStep;
import vecopt.kernel.UpdateStep;

/**
 * The native peers of the optimizers the engine runs through {@code Kernels.update} (Adagrad, RMSprop, Lion,
 * Adamax, NAdam, RAdam, Adadelta, Rprop, ASGD): {@code vo_<name>} in {@code vecopt_native.c}, all with one signature
 * (p, g, three state arrays or NULL, n, the step's floats). The floats are read from the engine's own prepared step
 * object, field by field in the order the C code documents, so both run on bitwise the same constants and
 * {@code PeersAgreeTest} can require bitwise the same results (a flag is passed as 0 or 1).
 *
 * <pre>{@code
 * MemorySegment k = UpdatePeers.scalars(step, arena);
 * UpdatePeers.run("adamax", p, g, m, u, MemorySegment.NULL, n, k);
 * }</pre>
 */
final class UpdatePeers {
    /** Per optimizer (the native function's suffix), the prepared step's fields in the order its C code reads them. */
    static final Map<String, List<String>> FIELDS = Map.of(
            "adagrad", List.of("negClr", "eps", "weightDecay", "useWeightDecay", "gradScale"),
            "rmsprop", List.of("negLr", "alpha", "oneMinusAlpha", "eps", "momentum", "weightDecay", "useWeightDecay",
                    "centered", "useMomentum", "gradScale"),
            "lion", List.of("negLr", "decay", "beta1", "oneMinusBeta1", "beta2", "oneMinusBeta2", "gradScale"),
            "adamax", List.of("negClr", "beta1", "oneMinusBeta1", "beta2", "eps", "weightDecay", "useWeightDecay",
                    "gradScale"),
            "nadam", List.of("decay", "weightDecay", "useL2", "beta1", "oneMinusBeta1", "beta2", "oneMinusBeta2",
                    "bc2", "eps", "c1", "c2", "gradScale"),
            "radam", List.of("decay", "weightDecay", "useL2", "beta1", "oneMinusBeta1", "beta2", "oneMinusBeta2",
                    "eps", "negK", "rectified", "gradScale"),
            "adadelta", List.of("negLr", "rho", "oneMinusRho", "eps", "weightDecay", "useWeightDecay", "gradScale"),
            "rprop", List.of("lr", "etaMinus", "etaPlus", "stepMin", "stepMax", "firstStep", "gradScale"),
            "asgd", List.of("decay", "negEta", "mu", "average", "weightDecay", "useWeightDecay", "gradScale"));

    private static final Map<String, MethodHandle> HANDLES;

    static {
        Map<String, MethodHandle> h = Map.of();
        if (NativeKernels.available()) {
            SymbolLookup lookup = SymbolLookup.libraryLookup(Path.of(NativeKernels.library()), Arena.global());
            FunctionDescriptor d = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
                    ADDRESS);
            java.util.HashMap<String, MethodHandle> m = new java.util.HashMap<>();
            for (String name : FIELDS.keySet()) {
                m.put(name, Linker.nativeLinker().downcallHandle(lookup.findOrThrow("vo_" + name), d,
                        Linker.Option.critical(true)));
            }
            h = Map.copyOf(m);
        }
        HANDLES = h;
    }

    private UpdatePeers() {
    }

    /** The native function's suffix for StepBench's optimizer name ("rmsprop_centered_momentum" is "rmsprop"). */
    static String peerOf(String optimizer) {
        String name = optimizer.startsWith("rmsprop") ? "rmsprop" : optimizer;
        if (!FIELDS.containsKey(name)) {
            throw new IllegalArgumentException("no native update peer for '" + optimizer + "'");
        }
        return name;
    }

    /** State arrays of StepBench's optimizer {@code optimizer} (as its engine run keeps them). */
    static int stateCount(String optimizer) {
        return switch (optimizer) {
            case "adagrad", "rmsprop", "lion", "asgd" -> 1;
            case "rmsprop_centered_momentum" -> 3;
            case "adamax", "nadam", "radam", "adadelta", "rprop" -> 2;
            default -> throw new IllegalArgumentException("no native update peer for '" + optimizer + "'");
        };
    }

    /**
     * The engine's prepared step of StepBench's optimizer {@code optimizer} with the options StepBench builds it
     * with, in steady state (past any first-step case: RAdam rectified, Rprop's step sizes in use, ASGD averaging).
     */
    static UpdateStep steady(String optimizer, double lr) {
        return switch (optimizer) {
            case "adagrad" -> new AdagradStep().prepare(lr, 0, 1e-4, 1e-10, 1000, 1);
            case "rmsprop" -> new RmspropStep().prepare(lr, 0.99, 1e-8, 0, 0, false, -1, -1, 1);
            case "rmsprop_centered_momentum" -> new RmspropStep().prepare(lr, 0.99, 1e-8, 0, 0.9, true, 2, 1, 1);
            case "lion" -> new LionStep().prepare(lr, 0.9, 0.99, 1.0, 1);
            case "adamax" -> new AdamaxStep().prepare(lr, 0.9, 0.999, 1e-8, 0, 1000, 1);
            case "nadam" -> new NAdamStep().prepare(lr, 0.9, 0.999, 1e-8, 0, 4e-3, false, 1000, 1);
            case "radam" -> new RAdamStep().prepare(lr, 0.9, 0.999, 1e-8, 0, false, 1000, 1);
            case "adadelta" -> new AdadeltaStep().prepare(lr, 0.9, 1e-6, 0, 1);
            case "rprop" -> new RpropStep().prepare(lr, 0.5, 1.2, 1e-6, 50, 2, 1);
            case "asgd" -> { // t0 0: mu = 1/2 after the second step, so the third averages
                AsgdStep k = new AsgdStep();
                for (long t = 1; t <= 3; t++) {
                    k.prepare(lr, 1e-4, 0.75, 0, 0, t, 1);
                }
                yield k;
            }
            default -> throw new IllegalArgumentException("no native update peer for '" + optimizer + "'");
        };
    }

    /** The prepared floats of {@code step} for peer {@code name}, in a segment of {@code arena}. */
    static MemorySegment scalars(String name, UpdateStep step, Arena arena) {
        List<String> fields = FIELDS.get(name);
        MemorySegment k = arena.allocate((long) fields.size() * Float.BYTES, 64);
        for (int i = 0; i < fields.size(); i++) {
            k.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, read(step, fields.get(i)));
        }
        return k;
    }

    /** Field {@code field} (a float, or a boolean as 0 or 1) of an engine's prepared step object. */
    static float read(Object step, String field) {
        try {
            Field f = step.getClass().getDeclaredField(field);
            f.setAccessible(true); // the engine's package-private prepared scalars (bench runs on the class path)
            Object v = f.get(step);
            return v instanceof Boolean b ? (b ? 1f : 0f) : (Float) v;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(step.getClass().getSimpleName() + " has no field '" + field
                    + "': UpdatePeers.FIELDS and the engine disagree", e);
        }
    }

    /** One step of peer {@code name} over {@code n} elements; unused state arrays are {@link MemorySegment#NULL}. */
    static void run(String name, MemorySegment p, MemorySegment g, MemorySegment s0, MemorySegment s1,
                    MemorySegment s2, long n, MemorySegment k) {
        NativeKernels.require();
        try {
            HANDLES.get(name).invokeExact(p, g, s0, s1, s2, n, k);
        } catch (Throwable t) {
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(t);
        }
    }
}
