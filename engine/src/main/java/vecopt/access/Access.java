package vecopt.access;

import java.util.Objects;

/**
 * Where {@code vecopt.optim} registers its {@link OptimizerAccess} (from {@code Optimizer}'s static initializer) for
 * {@code vecopt.checkpoint} to use. {@link #optimizer()} initializes {@code Optimizer} first if no code has yet (a
 * program that only inspects a checkpoint file never builds an optimizer).
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
            try {
                Class.forName("vecopt.optim.Optimizer", true, Access.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("vecopt.optim.Optimizer is missing from the engine", e);
            }
            a = optimizer;
            if (a == null) {
                throw new IllegalStateException("vecopt.optim.Optimizer did not register its access");
            }
        }
        return a;
    }
}
