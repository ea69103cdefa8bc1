package vecopt.optim;

import java.util.List;
import vecopt.param.Tensor;

/**
 * A parameter group: tensors that share hyperparameters and a step counter (typically "decay" and "no_decay",
 * the latter holding biases and norm weights), as in PyTorch's {@code param_groups}.
 *
 * @param <O> the optimizer's options type ({@link AdamOptions}, {@link SgdOptions})
 */
public final class ParamGroup<O extends GroupOptions> {
    private final String name;
    private final O options;
    private final List<Tensor> tensors;
    long steps; // updates applied to this group so far

    ParamGroup(String name, O options, List<Tensor> tensors) {
        this.name = name;
        this.options = options;
        this.tensors = List.copyOf(tensors);
    }

    public String name() {
        return name;
    }

    public O options() {
        return options;
    }

    public List<Tensor> tensors() {
        return tensors;
    }

    /** Number of updates applied so far; the next update is step {@code steps() + 1} of the bias correction. */
    public long steps() {
        return steps;
    }

    /** Number of parameters in the group. */
    public long size() {
        long n = 0;
        for (Tensor t : tensors) {
            n += t.length();
        }
        return n;
    }

    @Override
    public String toString() {
        return "ParamGroup[" + name + ", " + tensors.size() + " tensors, " + size() + " params, steps=" + steps + ", "
                + options + "]";
    }
}
