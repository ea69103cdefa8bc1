package vecopt.schedule;

import java.util.function.LongToDoubleFunction;
import vecopt.check.Require;

/**
 * A schedule given by one closed-form expression of the step.
 *
 * @param formula what {@code f} computes, with its parameters: the {@code toString()}
 * @param f       the expression; called only with steps {@code >= 0}
 */
record Formula(String formula, LongToDoubleFunction f) implements Schedule {
    @Override
    public double lr(long step) {
        return f.applyAsDouble(Require.nonNegative("step", step));
    }

    @Override
    public String toString() {
        return formula;
    }
}
