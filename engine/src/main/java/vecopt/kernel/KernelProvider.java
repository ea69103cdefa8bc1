package vecopt.kernel;

/**
 * Chooses the kernels once per JVM, as Lucene's {@code VectorizationProvider} does: the Panama (Vector API)
 * implementation when the {@code jdk.incubator.vector} module is present (run with
 * {@code --add-modules jdk.incubator.vector}) and not disabled, else the scalar one.
 *
 * <p>System properties: {@code vecopt.vector=false} forces the scalar kernels; {@code vecopt.vector.bits=256}
 * (or 128, 512) picks a vector width other than the platform's preferred one. A width the hardware lacks runs
 * (the Vector API emulates it) but slowly: compare widths only among those the CPU has.
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
            return SCALAR;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return SCALAR;
        }
        try {
            Kernels k = (Kernels) Class.forName("vecopt.kernel.PanamaKernels").getDeclaredConstructor().newInstance();
            // Fewer than 4 float lanes (a 64-bit preferred species) would only be slower than scalar code.
            return k.lanes() >= 4 ? k : SCALAR;
        } catch (ExceptionInInitializerError e) {
            if (e.getCause() instanceof IllegalArgumentException bad) {
                throw bad; // a wrong vecopt.vector.bits is the user's mistake: say so instead of running scalar
            }
            return SCALAR;
        } catch (ReflectiveOperationException | LinkageError e) {
            return SCALAR;
        }
    }
}
