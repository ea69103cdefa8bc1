package vecopt.kernel;

/**
 * The prepared step of one parameter group of an optimizer run through {@link Kernels#update}: its per-step scalars,
 * computed once per step in double and rounded to the floats the loops multiply by. Each implementation is
 * mutable and reused (a step allocates nothing), states its per-element formula in its Javadoc, and holds the
 * scalar loop; the vector loop is in a package-private class of the same name with {@code Panama} in place of
 * {@code Step}.
 */
public sealed interface UpdateStep permits AdagradStep, RmspropStep, LionStep, AdamaxStep, NAdamStep,
        RAdamStep, AdadeltaStep, RpropStep, AsgdStep, ScheduleFreeStep {
}
