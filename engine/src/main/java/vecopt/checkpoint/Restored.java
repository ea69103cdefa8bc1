package vecopt.checkpoint;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What a successful {@link Checkpoint#load} restored beyond the optimizer: the trainer's step, its strings and
 * tensors, and the options that differ between the checkpoint and the optimizer it was loaded into (which keeps its
 * own: e.g. {@code "group 'default': weight_decay 0.1 -> 0.01"}).
 *
 * <pre>{@code
 * Restored r = Checkpoint.load(path, opt);
 * for (long step = r.globalStep(); step < total; step++) opt.step(schedule.lr(step));
 * }</pre>
 *
 * @param path        the file loaded
 * @param globalStep  the trainer's step saved with it: the first step to run after resuming
 * @param strings     the trainer's strings ({@link Extras#strings()})
 * @param tensors     the trainer's tensors ({@link Extras#tensors()})
 * @param differences options that differ, one line each, saved value first; empty when none
 * @param rejected    newer files that {@link CheckpointFiles#loadNewest} tried first and could not use, with why
 */
public record Restored(Path path, long globalStep, Map<String, String> strings, Map<String, float[]> tensors,
                       List<String> differences, List<String> rejected) {
    public Restored {
        strings = Map.copyOf(strings);
        tensors = Map.copyOf(tensors);
        differences = List.copyOf(differences);
        rejected = List.copyOf(rejected);
    }

    Restored withRejected(List<String> rejected) {
        return new Restored(path, globalStep, strings, tensors, differences, rejected);
    }
}
