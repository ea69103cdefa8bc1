package vecopt.optim;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.kernel.TrustRatioStep;
import vecopt.param.Tensor;

/**
 * The two passes of the layer-wise optimizers (LAMB, LARS), whose update of each tensor is scaled by the tensor's
 * trust ratio {@code ||w|| / ||update||}:
 * <ol>
 *   <li>pass 1, over the chunk grid on the pool: each chunk's sums of squared updates and squared parameters (in
 *       double, into a slot of its own; LAMB also updates its moments here);</li>
 *   <li>between the passes, on the stepping thread: each tensor's two sums, its chunks' added in grid order, then
 *       its trust ratio and its factor {@code -lr * ratio};</li>
 *   <li>pass 2, over the grid again: the update recomputed from what pass 1 left (bitwise the update pass 1
 *       summed), times the factor of the chunk's tensor, applied.</li>
 * </ol>
 * The chunks are cut per tensor (adjacent tensors of a buffer are not merged), so a tensor larger than a chunk has
 * its norm summed over its chunks, and a chunk's sums belong to one tensor. The grid does not depend on the thread
 * count, and the sums are added in its order, so parameters, state and ratios are bitwise the same for any pool
 * size and for heap or off-heap buffers. The scalar and SIMD kernels sum in different orders: their ratios agree to
 * rounding, and so do the parameters they give.
 *
 * <p>Recomputing the update in pass 2 instead of writing it to a scratch buffer moves the same bytes (pass 1 writes
 * no update, pass 2 reads the state instead) and needs no scratch memory; the naive design's third pass (a
 * separate norm pass over parameters and a stored update) is gone.
 */
abstract sealed class Layerwise<O extends GroupOptions> extends Optimizer<O> permits Lamb, Lars {
    private final int[] chunkGroup;      // per chunk of the grid
    private final int[] tensorOfChunk;   // per chunk: index into tensors
    private final Tensor[] tensors;      // the parameter set's tensors, in its order
    private final int[] tensorGroup;
    private final int[] tensorFirst;     // per tensor: its first chunk, or -1 when it has none (length 0)
    private final int[] tensorChunks;
    private final double[] sums;         // per chunk: NORM_SLOTS partial sums, squared update then squared params
    private final float[] factors;       // per chunk: -lr * the trust ratio of its tensor
    private final double[] ratios;       // per tensor: the trust ratio of the last update (1 where not adapted)
    private final double[] updateNorms;
    private final double[] paramNorms;
    private final double[] lrs;          // per group: this update's lr
    private final boolean[] adapted;     // per group: scaled by the trust ratio
    private final Map<String, Integer> index;
    private int pass;

    Layerwise(Builder<O, ?> b) {
        super(untracked(b, "LAMB and LARS"));
        Tensor[] byChunk = chunkTensors();
        List<Tensor> all = params().tensors();
        this.tensors = all.toArray(new Tensor[0]);
        Map<Tensor, Integer> position = new IdentityHashMap<>(tensors.length);
        this.index = new java.util.HashMap<>(tensors.length * 2);
        for (int i = 0; i < tensors.length; i++) {
            position.put(tensors[i], i);
            index.put(tensors[i].name(), i);
        }
        this.tensorGroup = new int[tensors.length];
        for (int g = 0; g < groups().size(); g++) {
            for (Tensor t : groups().get(g).tensors()) {
                tensorGroup[position.get(t)] = g;
            }
        }
        this.tensorOfChunk = new int[byChunk.length];
        this.chunkGroup = new int[byChunk.length];
        this.tensorFirst = new int[tensors.length];
        this.tensorChunks = new int[tensors.length];
        java.util.Arrays.fill(tensorFirst, -1);
        for (int c = 0; c < byChunk.length; c++) {
            int t = position.get(byChunk[c]);
            tensorOfChunk[c] = t;
            chunkGroup[c] = tensorGroup[t];
            if (tensorFirst[t] < 0) {
                tensorFirst[t] = c;
            } else if (tensorFirst[t] + tensorChunks[t] != c) { // the grid keeps a tensor's chunks together
                throw new IllegalStateException("tensor '" + tensors[t].name() + "': chunks not consecutive");
            }
            tensorChunks[t]++;
        }
        this.sums = new double[Kernels.NORM_SLOTS * byChunk.length];
        this.factors = new float[byChunk.length];
        this.ratios = new double[tensors.length];
        this.updateNorms = new double[tensors.length];
        this.paramNorms = new double[tensors.length];
        java.util.Arrays.fill(ratios, Double.NaN);
        java.util.Arrays.fill(updateNorms, Double.NaN);
        java.util.Arrays.fill(paramNorms, Double.NaN);
        this.lrs = new double[groups().size()];
        this.adapted = new boolean[groups().size()];
        for (int g = 0; g < adapted.length; g++) {
            adapted[g] = adapts(groups().get(g).options());
        }
    }

    /** The prepared step of group {@code group}. */
    abstract TrustRatioStep step(int group);

    /** Whether a group with these options is scaled by the trust ratio. */
    abstract boolean adapts(O options);

    /**
     * The trust ratio of a tensor of a group with these options, from its parameter norm and update norm (in
     * double): the implementation's formula, including its 1 where a norm is zero.
     */
    abstract double trustRatio(O options, double paramNorm, double updateNorm);

    /** Prepares group {@code group}'s kernel step; {@code lr} is kept for the factor. */
    abstract void prepareStep(int group, O options, long t, double gradScale);

    @Override
    final void prepare(int group, O options, double lr, long t, double gradScale) {
        lrs[group] = lr;
        prepareStep(group, options, t, gradScale);
    }

    @Override
    final boolean chunksPerTensor() {
        return true;
    }

    @Override
    final int passes() {
        return 2;
    }

    @Override
    final void beforePass(int pass) {
        this.pass = pass;
        if (pass == 1) {
            ratios();
        }
    }

    /** Each tensor's norms from its chunks' sums, in grid order, then its ratio and its chunks' factor. */
    private void ratios() {
        for (int t = 0; t < tensors.length; t++) {
            int first = tensorFirst[t];
            if (first < 0) {
                continue;
            }
            int g = tensorGroup[t];
            double ratio = 1;
            if (adapted[g]) {
                double su = 0, sp = 0;
                for (int c = first; c < first + tensorChunks[t]; c++) {
                    for (int i = Kernels.NORM_SLOTS * c, half = Kernels.NORM_SLOTS / 2; i < Kernels.NORM_SLOTS * c + half;
                         i++) {
                        su += sums[i];
                        sp += sums[i + half];
                    }
                }
                double un = Math.sqrt(su), pn = Math.sqrt(sp);
                updateNorms[t] = un;
                paramNorms[t] = pn;
                ratio = trustRatio(groupOptions(g), pn, un);
            }
            ratios[t] = ratio;
            float factor = (float) (-lrs[g] * ratio);
            for (int c = first; c < first + tensorChunks[t]; c++) {
                factors[c] = factor;
            }
        }
    }

    private O groupOptions(int g) {
        return groups().get(g).options();
    }

    @Override
    final void runItem(Kernels kernels, Chunk[] item, int firstChunk, double[] norms) {
        if (pass == 0) {
            for (int j = 0; j < item.length; j++) {
                Chunk c = item[j];
                if (adapted[c.group()]) {
                    final int slot = firstChunk + j;
                    java.util.Arrays.fill(sums, Kernels.NORM_SLOTS * slot, Kernels.NORM_SLOTS * (slot + 1), 0.0);
                    kernels.trustNorms(c, step(c.group()), sums, slot);
                }
            }
        } else {
            for (int j = 0; j < item.length; j++) {
                Chunk c = item[j];
                kernels.trustApply(c, step(c.group()), factors[firstChunk + j]);
            }
        }
    }

    @Override
    final void run(Kernels kernels, Chunk chunk, double[] norms) {
        throw new UnsupportedOperationException("layer-wise optimizers run whole work items (runItem)");
    }

    /**
     * The trust ratio tensor {@code tensorName} was scaled by in the last update (1 where its group is not adapted,
     * or where a norm was zero; NaN before the first update or for an empty tensor).
     */
    public double trustRatio(String tensorName) {
        return ratios[tensor(tensorName)];
    }

    /** The norm of tensor {@code tensorName}'s update before the trust ratio, in the last update (NaN if not computed). */
    public double updateNorm(String tensorName) {
        return updateNorms[tensor(tensorName)];
    }

    /** The norm of tensor {@code tensorName}'s parameters before the last update (NaN if not computed). */
    public double paramNorm(String tensorName) {
        return paramNorms[tensor(tensorName)];
    }

    private int tensor(String name) {
        Integer i = index.get(name);
        if (i == null) {
            throw new IllegalArgumentException("no tensor named '" + name + "' in this optimizer's parameter set");
        }
        return i;
    }
}
