package vecopt.kernel;

import java.lang.foreign.MemorySegment;
import vecopt.memory.Dtype;

/**
 * The fused update loops, over one {@link Chunk} at a time. Implementations are stateless. Their elementwise
 * kernels ({@code adam}, {@code sgd}, {@code scale}, {@code clamp}) give bitwise identical results: the SIMD one
 * evaluates per lane exactly the float operations the scalar one does per element ({@code fma}, {@code sqrt} and
 * division are correctly rounded in both), so SIMD is tested against scalar bit for bit. The reductions
 * ({@code sumOfSquares}, the tracked norms) add in a different order per implementation and vector width, so they
 * agree to rounding, not to the bit; each is deterministic for a given implementation and width.
 *
 * <p>Obtain the implementation chosen for this JVM from {@link KernelProvider#kernels()}.
 */
public interface Kernels {
    /** Slots of the {@code norms} array each chunk owns: see {@link #adam}. */
    int NORM_SLOTS = 16;

    /**
     * Adam / AdamW / AMSGrad on one chunk: reads p, g, m, v (and vmax) once, writes p, m, v (and vmax) once.
     *
     * @param norms null, or an array to which the same pass adds partial sums (in double) for the chunk, in the
     *              {@link #NORM_SLOTS} slots from {@code NORM_SLOTS * chunk.index()}: the first 8 take squared updates
     *              {@code (p_new - p_old)^2}, the next 8 squared new parameters. The caller zeroes an item's slots
     *              before its first chunk and adds them in slot order after its last. (Lane partials are stored
     *              rather than reduced here: handing a vector to a method C2 did not inline would box it, and the
     *              step must not allocate.)
     */
    void adam(Chunk chunk, AdamStep step, double[] norms);

    /** SGD (with momentum, dampening, Nesterov, L2 decay) on one chunk; {@code norms} as for {@link #adam}. */
    void sgd(Chunk chunk, SgdStep step, double[] norms);

    /**
     * One step of any other optimizer on one chunk ({@link UpdateStep}'s implementations: Adagrad, RMSprop, Lion,
     * ...): reads p, g and the optimizer's state once, writes p and the state once. Each optimizer's loops live in
     * its own classes ({@code AdagradStep} holds the formula, its prepared scalars and the scalar loop;
     * {@code AdagradPanama} the vector loop), dispatched here on the step's type, so this interface stays one
     * method whatever the number of optimizers. No tracked variant: these optimizers refuse {@code trackNorms}.
     */
    void update(Chunk chunk, UpdateStep step);

    /**
     * Pass 1 of a layer-wise optimizer ({@link TrustRatioStep}: LAMB, LARS) on one chunk: what the step's class
     * states (LAMB also updates its moments here), and the chunk's sums, in double, added to its
     * {@link #NORM_SLOTS} slots from {@code NORM_SLOTS * slot}: the first half takes the squared update, the second
     * half the squared parameters, as in {@link #adam}. The caller zeroes the slots first and adds a tensor's chunks'
     * slots in grid order, each chunk's in slot order.
     */
    void trustNorms(Chunk chunk, TrustRatioStep step, double[] sums, int slot);

    /**
     * Pass 2 of a layer-wise optimizer on one chunk: the update, recomputed from what pass 1 left, times
     * {@code factor} (the learning rate times the trust ratio of the chunk's tensor, negated), applied.
     */
    void trustApply(Chunk chunk, TrustRatioStep step, float factor);

    /**
     * Pass {@code pass} (0, 1 or 2) of Adafactor on one chunk ({@link AdafactorStep} states each pass): 0 sums
     * {@code g^2 + eps1} per row and column and p^2 (an unfactored tensor: updates {@code exp_avg_sq}, sums p^2 and
     * update^2), 1 sums update^2 (factored tensors only), 2 applies the update with the chunk's per-tensor scalars.
     * The sums go to {@code work}, in the one order {@link AdafactorStep} defines, so that they are bitwise the
     * same for every implementation.
     */
    void adafactor(Chunk chunk, AdafactorStep step, AdafactorChunk work, int pass);

    /**
     * Sum of squares of the floats {@code [start, start + length)} of {@code x}, accumulated in double: a float's
     * square lies in [2^-298, 2^256], so the sum never overflows or underflows (the guard BLAS nrm2 gets from
     * scaling, a wider accumulator gives in one pass). A NaN or infinity anywhere makes the result NaN or infinite.
     */
    double sumOfSquares(MemorySegment x, long start, int length);

    /**
     * Sum of squares of the elements {@code [0, length)} of {@code x} stored as {@code type}, in double. For
     * float32 this is {@link #sumOfSquares(MemorySegment, long, int)}; for the 16-bit types the same loop on the
     * widened values, so the result is bitwise that of the float32 sum of the same values.
     */
    double sumOfSquares(MemorySegment x, Dtype type, int length);

    /** Largest absolute value of the floats {@code [start, start + length)} of {@code x}; NaN if any is NaN. */
    float maxAbs(MemorySegment x, long start, int length);

    /** {@code x[i] *= factor} over {@code [start, start + length)}. */
    void scale(MemorySegment x, long start, int length, float factor);

    /** {@code x[i] = min(max(x[i], -limit), limit)} over {@code [start, start + length)} (NaN stays NaN). */
    void clamp(MemorySegment x, long start, int length, float limit);

    /** A short description for logs and reports, e.g. "Panama FloatVector 512-bit (16 lanes)". */
    String describe();

    /** Floats per vector: 1 for the scalar kernels. */
    int lanes();
}
