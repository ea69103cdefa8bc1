/**
 * Learning-rate schedules: each a pure function of the step, in closed form, depending on nothing above
 * {@code java.base}. {@link vecopt.schedule.Schedule} is the type; the factories name their sources:
 * {@link vecopt.schedule.PyTorch} (PyTorch {@code torch.optim.lr_scheduler}), {@link vecopt.schedule.HuggingFace}
 * (Hugging Face {@code transformers.optimization}) and {@link vecopt.schedule.Schedules} (the warmup guide "Learning
 * Rate Warmup" and the optimizer guide "Optimizers and Schedules").
 *
 * <pre>{@code
 * Schedule schedule = HuggingFace.cosineScheduleWithWarmup(3e-4, 2_000, 100_000);
 * double lr = schedule.lr(step);
 * }</pre>
 */
package vecopt.schedule;
