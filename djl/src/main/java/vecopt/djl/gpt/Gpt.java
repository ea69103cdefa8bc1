package vecopt.djl.gpt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;

/**
 * A small GPT-style language model built from DJL blocks: token embedding plus learned position embedding, a stack
 * of {@link TransformerLayer}s (causal self-attention and a GELU MLP), a final LayerNorm (pre-LN only, as in GPT-2)
 * and a linear head to the vocabulary's logits. Input: token ids {@code (batch, time)} as int64; output: logits
 * {@code (batch, time, vocab)}.
 *
 * <pre>{@code
 * Model model = Model.newInstance("gpt", "PyTorch");
 * model.setBlock(new Gpt(new GptConfig(64, 64, 128, 4, 4, 4, GptConfig.Norm.PRE)));
 * }</pre>
 *
 * <p>The token embedding is a bias-free linear layer over the ids' one-hot vectors (the same function as a table
 * lookup; with a vocabulary of tens of tokens it costs nothing, and it keeps every parameter a plain dense float32
 * tensor with a gradient of its own). The head is not tied to the embedding. Every weight matrix and both embeddings
 * start from N(0, 0.02) as in GPT-2 (set by the trainer's initializer, see the demo's {@code TrainingRun}); the
 * position embedding here, as its own parameter, gets that initializer directly.
 */
public final class Gpt extends AbstractBlock {
    /** GPT-2's initial standard deviation of weights and embeddings ({@code initializer_range}). */
    public static final float INIT_STD = 0.02f;
    private final GptConfig cfg;
    private final Linear tokens;
    private final Parameter positions;
    private final TransformerLayer[] layers;
    private final LayerNorm lnFinal; // pre-LN only
    private final Linear head;

    public Gpt(GptConfig cfg) {
        this.cfg = cfg;
        this.tokens = addChildBlock("tok", Linear.builder().setUnits(cfg.width()).optBias(false).build());
        this.positions = addParameter(Parameter.builder().setName("pos").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(cfg.context(), cfg.width())).optInitializer(new NormalInitializer(INIT_STD))
                .build());
        this.layers = new TransformerLayer[cfg.layers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = addChildBlock("layer" + i, new TransformerLayer(cfg));
        }
        this.lnFinal = cfg.norm() == GptConfig.Norm.PRE ? addChildBlock("lnf", LayerNorm.builder().axis(2).build())
                : null;
        this.head = addChildBlock("head", Linear.builder().setUnits(cfg.vocab()).build());
    }

    public GptConfig config() {
        return cfg;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray ids = inputs.singletonOrThrow();
        long t = ids.getShape().get(1);
        if (t > cfg.context()) {
            throw new IllegalArgumentException("sequence length must be <= context " + cfg.context() + ", got " + t);
        }
        NDArray oneHot = ids.oneHot(cfg.vocab());
        NDArray pos = ps.getValue(positions, ids.getDevice(), training);
        NDArray posUsed = pos;
        if (t < cfg.context()) {
            posUsed = pos.get("0:" + t);
            // the slice is made on the parameter's manager (the model's): moved to the input's, it is closed with
            // the call's other arrays instead of living as long as the model
            posUsed.attach(ids.getManager());
        }
        NDArray x = tokens.forward(ps, new NDList(oneHot), training).singletonOrThrow().add(posUsed);
        NDList h = new NDList(x);
        for (TransformerLayer layer : layers) {
            h = layer.forward(ps, h, training);
        }
        if (lnFinal != null) {
            h = lnFinal.forward(ps, h, training);
        }
        return head.forward(ps, h, training);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {new Shape(in.get(0), in.get(1), cfg.vocab())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape in = inputShapes[0];
        Shape hidden = new Shape(in.get(0), in.get(1), cfg.width());
        tokens.initialize(manager, dataType, new Shape(in.get(0), in.get(1), cfg.vocab()));
        for (TransformerLayer layer : layers) {
            layer.initialize(manager, dataType, hidden);
        }
        if (lnFinal != null) {
            lnFinal.initialize(manager, dataType, hidden);
        }
        head.initialize(manager, dataType, hidden);
    }
}
