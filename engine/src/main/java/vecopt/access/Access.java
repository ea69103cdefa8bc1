package vecopt.access;

import java.util.Objects;

/**
 * Where {@code vecopt.optim} registers its {@link OptimizerAccess} (from {@code Optimizer}'s static initializer) for
 * {@code vecopt.checkpoint} to use. Any code holding an {@code Optimizer} instance has caused that initializer to run,
 * so {@link #optimizer()} never sees the slot empty when called with an optimizer at hand.
 */
public final class Access {
    private static volatile OptimizerAccess optimizer;

    private Access() {
    }

    public static void setOptimizer(OptimizerAccess access) {
        optimizer = Objects.requireNonNull(access, "access");
    }

    public static OptimizerAccess optimizer() {
        OptimizerAccess a = optimizer;
        if (a == null) {
            throw new IllegalStateException("vecopt.optim.Optimizer has not been initialized");
        }
        return a;
    }
}
