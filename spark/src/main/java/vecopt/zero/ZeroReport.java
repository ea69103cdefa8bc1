package vecopt.zero;

/**
 * What one sharded step did, the same on every rank except the timings.
 *
 * @param step               updates applied so far by this step object (skipped steps not counted)
 * @param skipped            true when the global gradient norm was not finite and every rank skipped the step
 * @param gradNorm           the global L2 norm of the mean gradients, from the ranks' partial sums added in rank order
 * @param clipCoef           the factor the gradients were multiplied by (1 without clipping; NaN when skipped)
 * @param reduceScatterNanos packing the gradients, the reduce-scatter and the division by the number of ranks
 * @param normNanos          this rank's partial sum of squares and the exchange of the partial sums
 * @param updateNanos        the fused update of the owned slice
 * @param allGatherNanos     the all-gather of the parameters and unpacking them into the model's buffers
 */
public record ZeroReport(long step, boolean skipped, double gradNorm, double clipCoef, long reduceScatterNanos,
                         long normNanos, long updateNanos, long allGatherNanos) {
}
