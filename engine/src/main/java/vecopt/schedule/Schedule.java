package vecopt.schedule;

import java.util.function.LongToDoubleFunction;
import vecopt.check.Require;

/**
 * A learning rate as a pure function of the step number, in closed form: {@code lr(n)} is the value the step with
 * 0-based index {@code n} uses (PyTorch {@code torch.optim.lr_scheduler}'s {@code last_epoch}, Hugging Face
 * {@code transformers.optimization}'s {@code current_step}), whatever was evaluated before. A run resumed at step N
 * therefore gets exactly the value it would have had, with no replay and no drift from a recursive update.
 *
 * <pre>{@code
 * Schedule schedule = HuggingFace.cosineScheduleWithWarmup(3e-4, 2_000, 100_000);
 * for (long step = optimizer.steps(); step < 100_000; step++) {   // resuming is just starting at another step
 *     // ... forward, backward ...
 *     optimizer.step(schedule.lr(step));
 * }
 * }</pre>
 *
 * <p>Schedules built by {@link Schedules}, {@link PyTorch} and {@link HuggingFace} are immutable and allocate nothing
 * in {@link #lr(long)}. Every one of them rejects a negative step with an {@link IllegalArgumentException}. Their
 * {@code toString()} states the formula and its parameters, e.g. {@code StepLR(0.05, step_size=30, gamma=0.1)}.
 *
 * <p><b>Multipliers.</b> A schedule built with base lr 1 is the multiplier view (what Hugging Face's functions and
 * PyTorch's {@code LambdaLR} work with); {@link #scaled(double)} turns it into the schedule of a group with another
 * base lr, computing {@code base * multiplier(step)} exactly as {@code LambdaLR} does.
 */
public interface Schedule {
    /** The learning rate of step {@code step} (0-based); throws if {@code step < 0}. */
    double lr(long step);

    /**
     * This schedule times {@code factor}: the schedule of a parameter group whose base lr is {@code factor} times
     * this one's (or, for a multiplier schedule, the group's base lr itself).
     *
     * @param factor finite, {@code >= 0}
     */
    default Schedule scaled(double factor) {
        return new Scaled(this, Require.nonNegative("factor", factor));
    }

    /**
     * A schedule from a function of the step, which must be pure (the same value for the same step, whenever asked).
     * Negative steps are rejected before {@code f} is called.
     *
     * <pre>{@code
     * Schedule inverseSqrt = Schedule.of(t -> 1e-3 / Math.sqrt(Math.max(1, t)));
     * }</pre>
     */
    static Schedule of(LongToDoubleFunction f) {
        return new Formula("a function of the step", Require.notNull("f", f));
    }
}
