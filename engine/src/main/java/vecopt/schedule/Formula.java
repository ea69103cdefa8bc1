package vecopt.schedule;

import java.util.function.LongToDoubleFunction;

/** A schedule given by one closed-form expression of the step. */
record Formula(String name, long warmupSteps, LongToDoubleFunction f) implements Schedule {
    @Override
    public double lr(long step) {
        return f.applyAsDouble(Args.step(step));
    }

    @Override
    public String toString() {
        return name;
    }
}
