package vecopt.djl;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Two linear layers of which the forward pass uses one, until {@link #useBoth()}: until then the other's parameters
 * get no gradient.
 */
final class HalfUsedBlock extends AbstractBlock {
    private final Linear used;
    private final Linear unused;
    private boolean both;

    HalfUsedBlock() {
        used = addChildBlock("used", Linear.builder().setUnits(1).build());
        unused = addChildBlock("unused", Linear.builder().setUnits(1).build());
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDList out = used.forward(store, inputs, training, params);
        if (both) {
            return new NDList(out.singletonOrThrow().add(unused.forward(store, inputs, training, params)
                    .singletonOrThrow()));
        }
        return out;
    }

    /** From now on the forward pass adds the second layer's output to the first's. */
    void useBoth() {
        both = true;
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
