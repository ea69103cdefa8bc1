package vecopt.djl.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;

/**
 * The language model's loss: the mean over all positions of the cross-entropy of the next token,
 * {@code -log softmax(logits)[target]}, as PyTorch's {@code F.cross_entropy(logits.view(-1, V), targets.view(-1))}
 * in nanoGPT. Predictions: logits {@code (batch, time, vocab)}; labels: int64 ids {@code (batch, time)}. Written with
 * a one-hot product rather than DJL's {@code SoftmaxCrossEntropyLoss} so that every operation is a plain dense one
 * whose gradient PyTorch computes (the vocabulary is tens of tokens, so the one-hot costs nothing).
 */
final class NextTokenLoss extends Loss {
    NextTokenLoss() {
        super("next_token_xent");
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        NDArray logits = predictions.singletonOrThrow();
        long vocab = logits.getShape().get(logits.getShape().dimension() - 1);
        NDArray oneHot = labels.singletonOrThrow().oneHot(Math.toIntExact(vocab));
        return logits.logSoftmax(-1).mul(oneHot).sum(new int[] {-1}).mean().neg();
    }
}
