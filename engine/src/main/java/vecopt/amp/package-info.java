/**
 * Mixed-precision training support: {@link vecopt.amp.GradScaler}, dynamic loss scaling with PyTorch's
 * {@code GradScaler} semantics, folded into the optimizer's step.
 */
package vecopt.amp;
