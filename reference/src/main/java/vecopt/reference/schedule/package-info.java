/**
 * The learning-rate schedules of the warmup guide "Learning Rate Warmup" and the optimizer guide "Optimizers and
 * Schedules", of PyTorch ({@code torch/optim/lr_scheduler.py}, {@code _get_closed_form_lr}) and of Hugging Face
 * ({@code transformers/optimization.py}), transcribed line by line:
 * one static function of the step and the parameters per schedule, with the source's branches and operation order,
 * no phases, no composition, no checks. Python's {@code /} on ints is a true division in double; {@code //} on
 * non-negative ints is Java's {@code /} on longs; {@code **} is {@code Math.pow}.
 */
package vecopt.reference.schedule;
