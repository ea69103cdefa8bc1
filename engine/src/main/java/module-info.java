/**
 * vecopt: the optimizer step of neural-network training on the CPU. Parameters, gradients and optimizer state are
 * updated in place by fused SIMD kernels (AdamW, Adam, AMSGrad, SGD with momentum, Adagrad, RMSprop, Adadelta, Adamax,
 * NAdam, RAdam, Rprop, ASGD, Lion, schedule-free AdamW; the layer-wise LAMB and LARS in two passes; Adafactor in three) with global-norm clipping fused
 * into the update and the learning rate from a closed-form schedule.
 *
 * <p>Programs use the exported packages: {@link vecopt.memory} (buffers), {@link vecopt.param} (named tensors),
 * {@link vecopt.optim} (optimizers and their options), {@link vecopt.clip} (clipping and norms),
 * {@link vecopt.schedule} (learning-rate schedules), {@link vecopt.preset} (recipes combining both),
 * {@link vecopt.checkpoint} (saving and restoring the training state), {@link vecopt.monitor} (training-health
 * diagnostics from the step reports) and {@link vecopt.amp} (loss scaling). The kernels,
 * the work grid and the worker pool are internal.
 *
 * <p>On the module path the Vector API module is resolved because this module requires it; on the class path run
 * with {@code --add-modules jdk.incubator.vector}: without it the engine falls back to scalar kernels, 7 to 25
 * times slower, and logs that once.
 */
module vecopt {
    // Required, not optional: on the module path every user gets the SIMD kernels with no flag to remember.
    requires jdk.incubator.vector;

    exports vecopt.memory;
    exports vecopt.param;
    exports vecopt.optim;
    exports vecopt.clip;
    exports vecopt.schedule;
    exports vecopt.preset;
    exports vecopt.monitor;
    exports vecopt.checkpoint;
    exports vecopt.amp;
}
