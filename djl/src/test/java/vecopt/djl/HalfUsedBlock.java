package vecopt.djl;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** Two linear layers of which the forward pass uses one: the other's parameters never get a gradient. */
final class HalfUsedBlock extends AbstractBlock {
    private final Linear used;
    private final Linear unused;

    HalfUsedBlock() {
        used = addChildBlock("used", Linear.builder().setUnits(1).build());
        unused = addChildBlock("unused", Linear.builder().setUnits(1).build());
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        return used.forward(store, inputs, training, params);
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        used.initialize(manager, dataType, inputShapes);
        unused.initialize(manager, dataType, inputShapes);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return used.getOutputShapes(inputShapes);
    }
}
