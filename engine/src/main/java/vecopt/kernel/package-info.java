/**
 * The fused update loops and the reductions, over one {@link vecopt.kernel.Chunk} at a time (internal: not exported).
 *
 * <h2>Design note: a kernel layout that scales</h2>
 *
 * <p><b>The problem.</b> The engine is to carry about fifteen optimizer formulas over parameters and gradients
 * stored as fp32, bf16 or fp16 and state stored as fp32, bf16 or 8-bit block-quantized. One hand-written loop per
 * (formula x parameter type x gradient type x state type) would be hundreds of loops. The layout below needs one
 * formula per optimizer plus one load stage and one store stage per storage type: additions, not a product.
 *
 * <p><b>The layout.</b> Each optimizer's formula is written once, over fp32 only, in two implementations with the
 * same per-element float operations: {@code ScalarKernels} (also the tail of every SIMD loop, so SIMD and scalar
 * are bitwise equal) and {@code PanamaKernels} (Vector API). The per-step scalars (learning rate, bias corrections,
 * clipping coefficient) arrive precomputed in a prepared step ({@link vecopt.kernel.AdamStep},
 * {@link vecopt.kernel.SgdStep}); the loop only multiplies. A chunk names its buffers as segments plus one start,
 * so the same loop runs on the user's buffers or on a scratch block.
 * <ul>
 *   <li><b>fp32 storage</b> (every buffer today) runs the formula directly on the user's buffers: no stage, no
 *       copy, the loop the engine has always run.
 *   <li><b>Any other storage type</b> runs staged, per block of 1024 elements of a chunk: a load stage per stream
 *       converts the block into a per-thread fp32 scratch block (16 KiB for four streams: it stays in L1), the same
 *       fp32 formula runs on the scratch chunk, and a store stage converts the written streams back (bf16/fp16:
 *       round to nearest even; 8-bit: the block's absmax scale, then quantize). Block-wise quantization needs
 *       the whole new block before the first byte is written (its scale is the block's absmax), so a stage is
 *       required for 8-bit state in any layout; the same stage serves bf16 and fp16.
 * </ul>
 *
 * <p><b>Variants inside a formula.</b> One untracked loop and one tracked loop (which also sums the squared update
 * and the squared new parameters, for {@code trackNorms}) per optimizer. Per-step options (Adam's L2 form, AMSGrad,
 * plain SGD versus momentum, Nesterov) are loop-invariant flags inside the loop: C2 prunes the branch a run never
 * takes, or unswitches the loop. Exceptions, each measured:
 * <ul>
 *   <li>The tracked loop stays separate: with its double accumulators in the untracked loop, conditionally
 *       updated, C2 boxed one vector per iteration (the allocation test failed: 20 KiB to 330 KiB per step) and the
 *       combined body outgrew the inlining budget.
 *   <li>SGD's first momentum step (buffer = gradient) has its own loop: a {@code first ? g : ...} select inside
 *       the steady-state loop, once profiled as taken, left every later step 13% slower at 64M.
 * </ul>
 *
 * <p><b>Rules the loops keep</b> (each learned the hard way): the species is a {@code static final} constant; a
 * vector is never handed to a method C2 might not inline (it would be boxed: the step must not allocate, and
 * {@code StepAllocationTest} checks it); lane partial sums are stored with constant indices, never reduced with
 * {@code reduceLanes} (its order is unspecified); reductions use several independent accumulator chains.
 *
 * <p><b>The measurements that chose it</b> ({@code StagedBench}, one thread, AdamW, off-heap; the ratio is to
 * {@code direct} in the same run; see the README's benchmark section for the command):
 * <pre>
 * MEASUREMENTS
 * </pre>
 *
 * <p>The alternative considered was a code generator run by the build (as the JDK generates its vector classes
 * from templates): one generated loop per combination. It avoids the scratch round trip, but multiplies the code
 * the JIT must compile and the tests must cover, and it cannot avoid a block buffer for 8-bit state anyway.
 */
package vecopt.kernel;
