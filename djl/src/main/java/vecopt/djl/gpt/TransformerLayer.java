package vecopt.djl.gpt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * One transformer layer: causal self-attention and a GELU MLP ({@code width -> mlpMult * width -> width}), each in a
 * residual branch, with the LayerNorms before the branches (pre-LN, GPT-2's {@code GPT2Block}) or after the sums
 * (post-LN, the original Transformer's). Input and output: {@code (batch, time, width)}.
 */
final class TransformerLayer extends AbstractBlock {
    private final GptConfig.Norm norm;
    private final LayerNorm ln1;
    private final CausalSelfAttention attention;
    private final LayerNorm ln2;
    private final Linear fc;
    private final Linear out;

    TransformerLayer(GptConfig cfg) {
        this.norm = cfg.norm();
        this.ln1 = addChildBlock("ln1", LayerNorm.builder().axis(2).build());
        this.attention = addChildBlock("attn", new CausalSelfAttention(cfg.width(), cfg.heads()));
        this.ln2 = addChildBlock("ln2", LayerNorm.builder().axis(2).build());
        this.fc = addChildBlock("fc", Linear.builder().setUnits((long) cfg.mlpMult() * cfg.width()).build());
        this.out = addChildBlock("out", Linear.builder().setUnits(cfg.width()).build());
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        if (norm == GptConfig.Norm.PRE) {
            x = x.add(attention.forward(ps, ln1.forward(ps, new NDList(x), training), training).singletonOrThrow());
            x = x.add(mlp(ps, ln2.forward(ps, new NDList(x), training), training));
        } else {
            x = ln1.forward(ps, new NDList(x.add(attention.forward(ps, new NDList(x), training)
                    .singletonOrThrow())), training).singletonOrThrow();
            x = ln2.forward(ps, new NDList(x.add(mlp(ps, new NDList(x), training))), training).singletonOrThrow();
        }
        return new NDList(x);
    }

    private NDArray mlp(ParameterStore ps, NDList x, boolean training) {
        NDArray h = Activation.gelu(fc.forward(ps, x, training).singletonOrThrow());
        return out.forward(ps, new NDList(h), training).singletonOrThrow();
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape in = inputShapes[0];
        ln1.initialize(manager, dataType, in);
        attention.initialize(manager, dataType, in);
        ln2.initialize(manager, dataType, in);
        fc.initialize(manager, dataType, in);
        out.initialize(manager, dataType, fc.getOutputShapes(new Shape[] {in})[0]);
    }
}
