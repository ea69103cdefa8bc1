package vecopt.kernel;

/**
 * The fused update loops, over one {@link Chunk} at a time. Implementations are stateless and give bitwise
 * identical results: the SIMD one evaluates per lane exactly the float operations the scalar one does per element
 * ({@code fma}, {@code sqrt} and division are correctly rounded in both), so SIMD is tested against scalar bit for bit.
 *
 * <p>Obtain the implementation chosen for this JVM from {@link KernelProvider#kernels()}.
 */
public interface Kernels {
    /** Adam / AdamW / AMSGrad on one chunk: reads p, g, m, v (and vmax) once, writes p, m, v (and vmax) once. */
    void adam(Chunk chunk, AdamStep step);

    /** SGD (with momentum, dampening, Nesterov, L2 decay) on one chunk. */
    void sgd(Chunk chunk, SgdStep step);

    /** A short description for logs and reports, e.g. "Panama FloatVector 512-bit (16 lanes)". */
    String describe();

    /** Floats per vector: 1 for the scalar kernels. */
    int lanes();
}
