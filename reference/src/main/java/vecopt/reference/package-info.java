/**
 * The oracle: every formula of vecopt, scalar, written the way the warmup and optimizer guides and PyTorch state it,
 * step by step, computing in double and rounding to float only where state is stored. Knows nothing of the engine.
 */
package vecopt.reference;
