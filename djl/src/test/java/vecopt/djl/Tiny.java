package vecopt.djl;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.translate.Batchifier;
import ai.djl.util.Pair;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A tiny regression the tests train through DJL's PyTorch engine: 8 inputs, a tanh layer of 16, one output (161
 * parameters in four tensors), on a fixed synthetic data set. The same seed gives the same initial weights and
 * batches, so two runs differ only in their optimizer.
 */
final class Tiny implements AutoCloseable {
    static final int IN = 8, HIDDEN = 16, BATCH = 32;
    final Model model;
    final Trainer trainer;
    final NDManager data;
    private final SplittableRandom random;

    /** A model initialized from {@code seed}, with a trainer whose DJL optimizer is {@code djlOptimizer}. */
    Tiny(int seed, Optimizer djlOptimizer) {
        this(seed, djlOptimizer, new SequentialBlock()
                .add(Linear.builder().setUnits(HIDDEN).build())
                .add(Activation::tanh)
                .add(Linear.builder().setUnits(1).build()));
    }

    Tiny(int seed, Optimizer djlOptimizer, Block block) {
        model = Model.newInstance("tiny", "PyTorch");
        model.setBlock(block);
        DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss());
        if (djlOptimizer != null) {
            config.optOptimizer(djlOptimizer);
        }
        Engine.getEngine("PyTorch").setRandomSeed(seed);
        trainer = model.newTrainer(config);
        trainer.initialize(new Shape(BATCH, IN));
        data = model.getNDManager().newSubManager();
        random = new SplittableRandom(seed);
    }

    /** One batch of the task y = sin(x0) + x1 * x2 + 0.1 * noise, drawn from this model's seed. */
    Batch nextBatch() {
        float[] x = new float[BATCH * IN];
        float[] y = new float[BATCH];
        for (int i = 0; i < BATCH; i++) {
            for (int j = 0; j < IN; j++) {
                x[i * IN + j] = (float) random.nextGaussian();
            }
            y[i] = (float) (Math.sin(x[i * IN]) + x[i * IN + 1] * x[i * IN + 2] + 0.1 * random.nextGaussian());
        }
        NDManager batch = data.newSubManager(); // closed with the batch
        NDArray xs = batch.create(x, new Shape(BATCH, IN));
        NDArray ys = batch.create(y, new Shape(BATCH, 1));
        return new Batch(batch, new NDList(xs), new NDList(ys), BATCH, Batchifier.STACK, Batchifier.STACK, 0, 0);
    }

    /** Forward and backward on the next batch through {@link EasyTrain#trainBatch}; returns the batch's loss. */
    float backward() {
        try (Batch batch = nextBatch()) {
            NDArray x = batch.getData().singletonOrThrow();
            NDArray y = batch.getLabels().singletonOrThrow();
            float loss;
            try (GradientCollector gc = trainer.newGradientCollector()) {
                NDList pred = trainer.forward(new NDList(x));
                NDArray l = trainer.getLoss().evaluate(new NDList(y), pred);
                loss = l.getFloat();
                gc.backward(l);
            }
            return loss;
        }
    }

    /** Forward and backward the way a DJL user writes it, through {@link EasyTrain#trainBatch}. */
    void trainBatch() {
        try (Batch batch = nextBatch()) {
            EasyTrain.trainBatch(trainer, batch);
        }
    }

    /** Every trainable parameter's values, copied out of PyTorch, by DJL's name. */
    Map<String, float[]> values() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            out.put(p.getKey(), p.getValue().getArray().toFloatArray());
        }
        return out;
    }

    /** Every trainable parameter's gradient, copied out of PyTorch, by DJL's name (zeros where there is none). */
    Map<String, float[]> gradients() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            try (NDArray g = p.getValue().getArray().getGradient()) {
                out.put(p.getKey(), g.toFloatArray());
            }
        }
        return out;
    }

    NDArray array(String name) {
        return model.getBlock().getParameters().get(name).getArray();
    }

    @Override
    public void close() {
        trainer.close();
        model.close();
    }
}
