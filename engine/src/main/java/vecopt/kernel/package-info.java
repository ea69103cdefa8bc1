/**
 * The fused update loops and the reductions, over one {@link vecopt.kernel.Chunk} at a time (internal: not exported).
 *
 * <h2>Design note: a kernel layout that scales</h2>
 *
 * <p><b>The problem.</b> The engine is to carry about fifteen optimizer formulas over parameters and gradients
 * stored as fp32, bf16 or fp16 and state stored as fp32, bf16 or 8-bit block-quantized. One hand-written loop per
 * (formula x parameter type x gradient type x state type) would be hundreds of loops. The layout must need one
 * formula per optimizer plus one load stage and one store stage per storage type: additions, not a product, and it
 * must not cost the fp32 step anything.
 *
 * <p><b>Two layouts were measured</b> ({@code StagedBench}, one thread, AdamW, off-heap, 2 forks; x the fp32 kernel
 * run directly on the same buffers in the same run; the command is in the README's benchmark section):
 * <pre>
 *                                                       32 Ki (cache)    64 Mi (DRAM)
 *   staged, identity conversion (every stream copied      0.34x            0.48x
 *     through a 1024-element L1 scratch block, the
 *     fp32 formula on the scratch, written back)
 *   staged, bf16 gradients widened into the block,        0.37x            0.61x
 *     the other streams copied
 *   staged, only the bf16 gradients in scratch,           0.64x            0.78x
 *     p, m, v read and written in place
 *   fused: one loop, the bf16 widening inline             1.07x            1.23x
 *     (24 bytes per parameter instead of 28)
 * </pre>
 * (Error bars are wide on this shared 2-core machine, e.g. 1338 +- 1260 Mparams/s for the third row at 64 Mi; the
 * ordering of the rows measured twice held in both runs.) Staging separates the memory traffic from the arithmetic
 * in time: while the formula runs on L1 scratch no DRAM traffic is in flight, so the step no longer rides the memory
 * bus, and in cache the extra copies double the L1 traffic. Only the fused loop turns fewer bytes into a faster step,
 * which is the point of the smaller storage types.
 *
 * <p><b>The layout chosen: fused loops, generated.</b> Each optimizer's formula is written once, as a template of its
 * loops whose loads and stores are named stages ({@code load p}, {@code load g}, {@code load/store state i}); a small
 * generator run by the build (as the JDK generates its vector classes from templates) expands it once per storage
 * combination a release supports, substituting each stage's few lines for its type (fp32: a vector load; bf16: a
 * half-width short load widened and shifted; 8-bit: a byte load, widened and multiplied by the block's scale), so
 * every generated loop is straight-line code with the conversions in registers. The formula exists once, the stages
 * once per type; the loops are many but nobody writes them. Block-wise 8-bit state needs the block's new scale
 * before its first byte is stored: the design sketched here kept one 256-element block of new state in registers or
 * a small buffer; what was built takes a bound on the new largest magnitude known before the step (from the block's
 * largest codes and gradient, {@link vecopt.kernel.BlockCodes#nextScaleSigned}), so the store stage codes at once.
 *
 * <p><b>Where the code is now.</b> The generator exists for the 16-bit parameter and gradient types of the Adam
 * family: {@code MixedKernelGenerator} (in the engine's test sources, so it ships nowhere) expands three templates
 * (decoupled decay, L2, AMSGrad) with a gradient stage (float32, bfloat16, float16) and a parameter stage (float32;
 * bfloat16 or float16 with a float32 master; bfloat16 with stochastic rounding) into the 33 loops of
 * {@link vecopt.kernel.MixedPanama}, committed and checked against the generator by a test. SGD, Adagrad, RMSprop,
 * Adamax, NAdam, RAdam, ASGD, Rprop, Adadelta, Lion and schedule-free AdamW follow the same way: their float32 vector
 * loop bodies are templates ({@code MixedFormulas}, the p and g loads and the p store left to the stages), expanded
 * with the same stages into one class per optimizer ({@code MixedSgdPanama}, ...), a formula variant per
 * loop where the float32 code has one (SGD's plain, first momentum step, momentum; Rprop's first step; schedule-free
 * AdamW's train/eval switch, a template that reads no gradient) and loop-invariant flags where it has them. A state
 * stage doubles them: float32 state, or bfloat16 state, where the generator rewrites each of the template's state
 * loads into a widening load and each state store into a stochastically rounded one (a loop that keeps no state,
 * SGD's plain one, is shared by both). An 8-bit state stage ({@code EightBitSgdPanama}, {@code EightBitLionPanama},
 * {@code EightBitRmspropPanama}, {@code EightBitAdagradPanama}) rewrites the same templates once more: each state load
 * into a decode against the block's scale before the step (squared, for a variable coded as its square root), each
 * store into a code against the block's new scale, a bound known before the step that a small driver sets per block
 * (the optimizer's bound from the block's largest codes and gradient, {@code MixedScalar}'s {@code *Scales}); Adam's
 * 8-bit loops in {@link vecopt.kernel.MixedPanama} keep their own section. LAMB and
 * LARS ({@code MixedLambPanama}, {@code MixedLarsPanama}) add a second template form, a pass that reduces
 * ({@code MixedFormulas.Reduction}: the update and the sums of its squares and the parameters' in the float32 loop's
 * accumulator chains, in their order, so the 16-bit sums are bitwise the float32 kernel's on the same values), beside
 * the update pass, which also takes the tensor's factor; the norm pass reads the master copy, never the 16-bit
 * parameters. Their scalar
 * twin, {@link vecopt.kernel.MixedScalar}, is written once per optimizer with the conversions as per-element switches
 * (it runs where the Vector API is off, on chunks shorter than a vector, and on the 16-bit loops' tails). The
 * float32 loops below stay hand-written:
 * they are the template's first instance, and the ones the benchmarks measured against the native peer; moving
 * them into the generator is a change to measure first. What they already have for it:
 * the formulas in one scalar and one vector implementation with the same per-element float operations, so SIMD and
 * scalar are bitwise equal; per-step scalars precomputed in a prepared step ({@link vecopt.kernel.AdamStep},
 * {@link vecopt.kernel.SgdStep}), so the loop only multiplies; a chunk that holds its own slices of its buffers.
 *
 * <p><b>Tails.</b> An untracked SIMD loop ends by running its body once more on the chunk's last whole vector and
 * storing only the lanes the loop did not reach (a masked store); chunks shorter than a vector, and the tracked
 * loops, end with the scalar loop. With 100,000 tensors of 1 to 1,024 floats the scalar tails (7.5 elements on
 * average) had cost a quarter of the step. The two other vector tails measured were worse: a masked load reaching
 * past the end of a segment left C2's fast path (a step tens of times slower, its variance huge), and so would a
 * body shared by the loop and the tail through one more method (the extra call level put the Vector API's inlining
 * past C2's depth limit: boxed vectors, 860 bytes per chunk). So the tail repeats the loop body in each variant: a
 * duplication the generator above removes, as it writes both from the template.
 *
 * <p><b>One class pair per further optimizer.</b> AdamW/Adam and SGD have their loops in {@code PanamaKernels} and
 * {@code ScalarKernels}. Every optimizer after them (Adagrad, RMSprop, Adadelta, Adamax, NAdam, RAdam,
 * Rprop, ASGD, Lion, schedule-free AdamW) is an
 * {@link vecopt.kernel.UpdateStep}: its {@code *Step} class holds the formula (Javadoc), the per-step scalars and the
 * scalar loop; its package-private {@code *Panama} class the vector loop with the same masked tail. Both kernel
 * implementations dispatch {@link vecopt.kernel.Kernels#update} on the step's type, so {@code Kernels} keeps one
 * method for all of them and a new optimizer touches no other optimizer's code. Their variants (weight decay,
 * centered, momentum, rectified) are loop-invariant flags in one loop, as in the tracked Adam loop; the allocation
 * test warms them all up and measures one configuration of each. They have no tracked loop yet.
 *
 * <p><b>Layer-wise optimizers: two passes.</b> LAMB and LARS scale each tensor's update by a ratio of two of its
 * norms, so no element can be written before the whole tensor has been read. They are
 * {@link vecopt.kernel.TrustRatioStep}s, run through {@link vecopt.kernel.Kernels#trustNorms} (pass 1: whatever state
 * the update needs updated, and the chunk's sums of squared update and squared parameters, in double, stored in the
 * chunk's own slot, the lanes added in a fixed order) and {@link vecopt.kernel.Kernels#trustApply} (pass 2: the update
 * recomputed from what pass 1 left, with the same float operations, times the tensor's factor). The optimizer adds a
 * tensor's chunk sums in grid order between the passes, on the stepping thread. Pass 1 ends with the scalar loop (its
 * sums must count each element once, as the tracked loops do); pass 2 has the masked vector tail. Recomputing the
 * update instead of storing it to scratch moves the same bytes and needs no memory; the naive third pass (a norm
 * pass over a stored update) is gone.
 *
 * <p><b>Variants inside a formula.</b> Per optimizer, one straight-line loop per untracked variant that reads or
 * writes other streams or has another dependency shape (Adam: decoupled decay, L2, AMSGrad; SGD: plain, momentum,
 * the first momentum step), and one tracked loop (it also sums the squared update and the squared new parameters,
 * for {@code trackNorms}) with the per-step options as loop-invariant flags. Merging the untracked variants behind
 * flags would remove repeated set-up lines; it was tried and not kept, for lack of proof that it costs nothing:
 * <ul>
 *   <li>The merged loops passed the allocation test alone, but boxed one vector per iteration in a JVM that had run
 *       the whole verification suite first (327 KB per step for AMSGrad on 128 Ki parameters, 20 KB for Nesterov on
 *       4 Ki). The straight-line loops then did the same in one of four such runs, every variant at once (80 bytes
 *       per vector iteration): the cause is the JVM's history of hundreds of variant switches, each a
 *       deoptimization of the kernels, not the merge. A training JVM runs one configuration; the allocation test
 *       now runs in a JVM of its own, after one pass over every variant. Whether merged loops are as fast as the
 *       straight-line ones at every size was not measured, so the measured loops stay.
 *   <li>SGD's first momentum step (buffer = gradient) has its own loop: a {@code first ? g : ...} select inside
 *       the steady-state loop, once profiled as taken, left every later step 13% slower at 64M.
 *   <li>RMSprop's flagged loop, run for centered RMSprop with momentum both with and without weight decay (a decay
 *       and a no-decay group, the usual split), compiled to 0.38x its C peer in cache; each variant alone ran at the
 *       peer's speed. That variant now has two loops of its own, without and with weight decay. A benchmark that
 *       runs one variant per fork never shows such a collapse: measure a loop after its JVM has run its neighbours.
 *   <li>Adamax's loop with its one flag (weight decay), run with and without decay, ran the no-decay variant at 0.71x
 *       its C peer at 16M (0.98x alone); it has two loops too. The other flagged loops (SGD, Adagrad, NAdam, RAdam,
 *       Adadelta, ASGD), each run with every variant first, stayed at their peers' speed, so they stay one loop.
 * </ul>
 *
 * <p><b>Rules the loops keep</b> (each learned the hard way): the species is a {@code static final} constant; a
 * vector is never handed to a method C2 might not inline (it would be boxed: the step must not allocate, and
 * {@code StepAllocationTest} checks it); lane partial sums are stored with constant indices, never reduced with
 * {@code reduceLanes} (its order is unspecified; a maximum, exact in any order, may be); reductions use several
 * independent accumulator chains (with two chains of 512-bit double adds, LARS's and Adafactor's first passes ran at
 * half their C passes out of cache; a loop over the same streams with eight ran at 0.89x).
 *
 * <p>A third option, one loop per optimizer with the storage types behind interfaces, was not built: a loop calling
 * through an interface that several types implement is compiled for all of them at once, and a vector handed to a
 * call C2 does not inline is boxed.
 */
package vecopt.kernel;
