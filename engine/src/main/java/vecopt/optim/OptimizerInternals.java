package vecopt.optim;

import vecopt.access.OptimizerAccess;
import vecopt.clip.NonFinite;
import vecopt.memory.Storage;

/** The {@link OptimizerAccess} of this package, registered by {@link Optimizer}'s static initializer. */
final class OptimizerInternals implements OptimizerAccess {
    @Override
    public String kind(Optimizer<?> o) {
        return switch (o) {
            case AdamW a -> "AdamW";
            case Adam a -> "Adam";
            case Sgd s -> "Sgd";
            default -> o.getClass().getSimpleName(); // Adagrad, ..., Asgd, Lamb, Lars
        };
    }

    @Override
    public void enter(Optimizer<?> o) {
        o.enter();
        try {
            o.checkReady();
        } catch (RuntimeException e) {
            o.leave();
            throw e;
        }
    }

    @Override
    public void leave(Optimizer<?> o) {
        o.leave();
    }

    @Override
    public Storage[] state(Optimizer<?> o, Storage params) {
        return o.stateOf(params);
    }

    @Override
    public java.util.List<String> bufferStateNames(Optimizer<?> o) {
        return o.bufferStateNames();
    }

    @Override
    public int eightBitMinSize(Optimizer<?> o) {
        return o.eightBitMinSize();
    }

    @Override
    public java.util.List<String> eightBitVariables(Optimizer<?> o) {
        return o.eightBitVariables();
    }

    @Override
    public boolean[] eightBitRoots(Optimizer<?> o) {
        return o.eightBitRoots();
    }

    @Override
    public EightBit eightBit(Optimizer<?> o, vecopt.param.Tensor t) {
        QuantizedState.Slot s = o.eightBitSlot(t);
        return new EightBit(s.quantized(), s.values().clone(), s.quantized() ? s.scales().clone() : null);
    }

    @Override
    public java.util.Map<String, java.lang.foreign.MemorySegment> factoredState(Optimizer<?> o, vecopt.param.Tensor t) {
        return o.factoredState(t);
    }

    @Override
    public Long stochasticRoundingSeed(Optimizer<?> o) {
        return o.stochastic ? o.roundingSeed : null;
    }

    @Override
    public Long bfloat16StateSeed(Optimizer<?> o) {
        return o.stateType == vecopt.memory.Dtype.BFLOAT16 ? o.stateSeed : null;
    }

    @Override
    public long skippedSteps(Optimizer<?> o) {
        return o.report().skippedSteps;
    }

    @Override
    public NonFinite nonFinite(Optimizer<?> o) {
        return o.guard().policy();
    }

    @Override
    public boolean checkParams(Optimizer<?> o) {
        return o.guard().checksParams();
    }

    @Override
    public java.util.List<String> scalarStateNames(Optimizer<?> o) {
        return o.scalarStateNames();
    }

    @Override
    public double scalarState(Optimizer<?> o, int group, String name) {
        return o.scalarState(group, name);
    }

    @Override
    public void restoreScalarState(Optimizer<?> o, int group, double[] values) {
        o.restoreScalarState(group, values);
    }

    @Override
    public void restoreCounters(Optimizer<?> o, long steps, long skippedSteps, long[] groupSteps) {
        o.restoreCounters(steps, skippedSteps, groupSteps);
    }
}
