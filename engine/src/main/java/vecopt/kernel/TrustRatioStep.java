package vecopt.kernel;

/**
 * The prepared step of one parameter group of a layer-wise optimizer (LAMB, LARS): an update scaled per tensor by
 * a trust ratio {@code ||w|| / ||update||}, run in two passes over the chunk grid through
 * {@link Kernels#trustNorms} (the per-chunk sums of squares the ratios come from, and whatever state the update
 * needs updated first) and {@link Kernels#trustApply} (the update, recomputed from what pass 1 left, times the
 * tensor's factor). Mutable and reused (a step allocates nothing); each implementation states both passes'
 * formulas and holds the scalar loops; the vector loops are in the class of the same name with {@code Panama} in
 * place of {@code Step}, those for 16-bit parameters or gradients in {@code Mixed<Name>Panama} (generated) with their
 * scalar twins in {@code MixedScalar}. Pass 2 recomputes the update from the same inputs with the same float
 * operations as pass 1, so the update it applies is bitwise the one whose norm pass 1 summed; with 16-bit parameters
 * both passes read the float32 master copy (or, with stochastic rounding, the bfloat16 parameters, which pass 1 does
 * not write).
 */
public sealed interface TrustRatioStep permits LambStep, LarsStep {
}
