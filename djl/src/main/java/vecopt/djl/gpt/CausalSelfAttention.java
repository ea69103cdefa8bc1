package vecopt.djl.gpt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Multi-head causal self-attention as in GPT-2 (Hugging Face {@code modeling_gpt2.py}, {@code GPT2Attention}): one
 * linear layer makes queries, keys and values, each head attends with {@code softmax(q k^T / sqrt(d_head) + mask)}
 * where the mask hides the positions after the query, and a second linear layer projects the heads back. No dropout
 * (the demo's task has no use for it, and it would make runs depend on more random state).
 *
 * <p>Input and output: {@code (batch, time, width)}.
 */
final class CausalSelfAttention extends AbstractBlock {
    /** What a hidden position adds to its score: exp(-1e9) is 0 in float, and unlike -inf it cannot make a NaN. */
    private static final float HIDDEN = -1e9f;
    private final int heads;
    private final Linear qkv;
    private final Linear proj;

    CausalSelfAttention(int width, int heads) {
        this.heads = heads;
        this.qkv = addChildBlock("qkv", Linear.builder().setUnits(3L * width).build());
        this.proj = addChildBlock("proj", Linear.builder().setUnits(width).build());
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        long b = x.getShape().get(0), t = x.getShape().get(1), d = x.getShape().get(2), dh = d / heads;
        NDList parts = qkv.forward(ps, inputs, training).singletonOrThrow().split(3, 2);
        NDArray q = heads(parts.get(0), b, t, dh);
        NDArray k = heads(parts.get(1), b, t, dh);
        NDArray v = heads(parts.get(2), b, t, dh);
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale(x.getManager(), dh)).add(mask(x.getManager(), t));
        NDArray y = scores.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(b, t, d);
        return proj.forward(ps, new NDList(y), training);
    }

    /**
     * 1 / sqrt(d_head) as a 0-d float64 array of {@code manager} (the call's), which keeps it until the backward pass
     * is done. Not {@code mul(Number)}: DJL's PyTorch engine (0.36) makes the number a tensor over a Java direct
     * buffer (no copy), multiplies, and closes the array at once; the multiplication's backward keeps that tensor to
     * scale the gradient, and once the garbage collector has freed the buffer, the backward reads whatever the memory
     * holds by then. The forward pass and the loss are unaffected; the gradients of the attention's inputs and of
     * every parameter before it are not. Runs that repeat the same steps then differed from the first layer's
     * attention down, in about one module test run in five on a loaded machine. A float64 array, as
     * {@code mul(Number)} made of a double, so the products keep their bits.
     */
    private static NDArray scale(NDManager manager, long dh) {
        return manager.create(1 / Math.sqrt(dh));
    }

    /** (b, t, d) to (b, heads, t, dh). */
    private NDArray heads(NDArray a, long b, long t, long dh) {
        return a.reshape(b, t, heads, dh).transpose(0, 2, 1, 3);
    }

    /** (t, t): 0 where the key is at or before the query, {@link #HIDDEN} after it. */
    private static NDArray mask(NDManager manager, long t) {
        int n = Math.toIntExact(t);
        float[] m = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                m[i * n + j] = HIDDEN;
            }
        }
        return manager.create(m, new Shape(t, t));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape in = inputShapes[0];
        qkv.initialize(manager, dataType, in);
        proj.initialize(manager, dataType, in);
    }
}
