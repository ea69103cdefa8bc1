package vecopt.examples.train;

/** The update rule of a comparison: AdamW with each recipe's hyperparameters, or SGD with momentum 0.9. */
public enum OptimizerKind { ADAMW, SGD }
