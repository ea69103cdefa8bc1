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
        return choose(System.getProperty("vecopt.vector", "true"), System.getProperty("vecopt.vector.bits"),
                ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), System.getLogger("vecopt"));
    }

    /**
     * The choice, from its inputs (so that a test can make it for a JVM without the Vector API module).
     *
     * @param vector   the value of {@code vecopt.vector} ("false" forces the scalar kernels)
     * @param bits     the value of {@code vecopt.vector.bits}, or null
     * @param hasVectorModule whether {@code jdk.incubator.vector} is in the boot layer
     * @param log      where a fallback to the scalar kernels is reported, once
     */
    static Kernels choose(String vector, String bits, boolean hasVectorModule, System.Logger log) {
        if ("false".equalsIgnoreCase(vector.trim())) {
            log.log(System.Logger.Level.INFO, "vecopt.vector=false: using the scalar kernels");
            return SCALAR;
        }
        if (!hasVectorModule) {
            if (bits != null && !bits.isBlank()) { // a width was asked for: running scalar would ignore it silently
                throw new IllegalArgumentException("vecopt.vector.bits=" + bits.trim() + " asks for a vector width,"
                        + " but the jdk.incubator.vector module is not loaded: run java with --add-modules"
                        + " jdk.incubator.vector");
            }
            log.log(System.Logger.Level.WARNING, "the jdk.incubator.vector module is not loaded: vecopt runs its"
                    + " scalar kernels, 7 to 25 times slower; run java with --add-modules jdk.incubator.vector");
            return SCALAR;
        }
        try {
            Kernels k = (Kernels) Class.forName("vecopt.kernel.PanamaKernels").getDeclaredConstructor().newInstance();
            if (k.lanes() >= 4) {
                return k;
            }
            // Fewer than 4 float lanes (a 64-bit preferred species) would only be slower than scalar code.
            log.log(System.Logger.Level.WARNING, "the platform's vectors hold " + k.lanes()
                    + " floats: vecopt runs its scalar kernels");
            return SCALAR;
        } catch (ExceptionInInitializerError e) {
            if (e.getCause() instanceof IllegalArgumentException bad) {
                throw bad; // a wrong vecopt.vector.bits is the user's mistake: say so instead of running scalar
            }
            log.log(System.Logger.Level.WARNING, "the Vector API kernels failed to start (" + e.getCause()
                    + "): vecopt runs its scalar kernels");
            return SCALAR;
        } catch (ReflectiveOperationException | LinkageError e) {
            log.log(System.Logger.Level.WARNING, "the Vector API kernels failed to load (" + e
                    + "): vecopt runs its scalar kernels");
            return SCALAR;
        }
    }
}
