package vecopt.kernel;

/**
 * Chooses the kernels once per JVM, as Lucene's {@code VectorizationProvider} does: the Panama (Vector API)
 * implementation when the {@code jdk.incubator.vector} module is present (run with
 * {@code --add-modules jdk.incubator.vector}) and not disabled, else the scalar one.
 *
 * <p>System properties: {@code vecopt.vector=false} forces the scalar kernels; {@code vecopt.vector.bits=256}
 * (or 128, 512) picks a vector width other than the platform's preferred one. A width the hardware lacks runs
 * (the Vector API emulates it) but slowly: compare widths only among those the CPU has. When the scalar kernels are
 * chosen, the reason is logged once (logger {@code vecopt}): there is no silent slow path.
 */
public final class KernelProvider {
    private static final Kernels SCALAR = new ScalarKernels();
    private static final Kernels CHOSEN = choose();

    private KernelProvider() {
    }

    /** The kernels this JVM uses. */
    public static Kernels kernels() {
        return CHOSEN;
    }

    /** The scalar kernels, whatever the platform supports (for tests and benchmarks). */
    public static Kernels scalar() {
        return SCALAR;
    }

    private static Kernels choose() {
        if ("false".equalsIgnoreCase(System.getProperty("vecopt.vector", "true").trim())) {
            return fallback(System.Logger.Level.INFO, "vecopt.vector=false: using the scalar kernels");
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return fallback(System.Logger.Level.WARNING, "the jdk.incubator.vector module is not loaded: using the"
                    + " scalar kernels, about 10x slower; run java with --add-modules jdk.incubator.vector");
        }
        try {
            Kernels k = (Kernels) Class.forName("vecopt.kernel.PanamaKernels").getDeclaredConstructor().newInstance();
            // Fewer than 4 float lanes (a 64-bit preferred species) would only be slower than scalar code.
            return k.lanes() >= 4 ? k : fallback(System.Logger.Level.WARNING,
                    "the platform's vectors hold " + k.lanes() + " floats: using the scalar kernels");
        } catch (ExceptionInInitializerError e) {
            if (e.getCause() instanceof IllegalArgumentException bad) {
                throw bad; // a wrong vecopt.vector.bits is the user's mistake: say so instead of running scalar
            }
            return fallback(System.Logger.Level.WARNING, "the Vector API kernels failed to start (" + e.getCause()
                    + "): using the scalar kernels");
        } catch (ReflectiveOperationException | LinkageError e) {
            return fallback(System.Logger.Level.WARNING, "the Vector API kernels failed to load (" + e
                    + "): using the scalar kernels");
        }
    }

    /** The scalar kernels, saying why once: this runs once per JVM, when the kernels are first asked for. */
    private static Kernels fallback(System.Logger.Level level, String why) {
        System.getLogger("vecopt").log(level, why);
        return SCALAR;
    }
}
