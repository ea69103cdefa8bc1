/**
 * The vecopt engine: the packages a trainer programs against. Kernels, the chunk grid and the worker pool are not
 * exported.
 */
module vecopt {
    requires jdk.incubator.vector;

    exports vecopt.memory;
    exports vecopt.param;
    exports vecopt.optim;
    exports vecopt.clip;
    exports vecopt.schedule;
}
