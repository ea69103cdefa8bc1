package vecopt.checkpoint;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import vecopt.access.Access;
import vecopt.access.OptimizerAccess;
import vecopt.memory.Storage;
import vecopt.optim.Optimizer;
import vecopt.param.Tensor;

/**
 * {@link Checkpoint#loadPieces}: an optimizer over pieces of whole tensors restored from checkpoints over other
 * pieces of the same tensors. Everything is checked first (each file as {@link Checkpoint#load} checks it, except
 * that a group may hold other tensors; the files are of one save; every element of every tensor here comes from
 * exactly one file), then the ranges are copied and the counters set.
 */
final class PieceLoad {
    private static final OptimizerAccess ACCESS = Access.optimizer();

    /** A range to copy: elements [from, from + count) of a file's tensor to element {@code at} of a buffer. */
    private record Copy(SafetensorsFile file, TensorEntry entry, long from, long count, Storage storage, long at) {
    }

    private PieceLoad() {
    }

    static Restored load(List<PieceFile> pieces, Optimizer<?> opt, Map<String, Long> starts) throws IOException {
        if (pieces == null || pieces.isEmpty()) {
            throw new IllegalArgumentException("files must name at least one checkpoint");
        }
        if (opt == null || starts == null) {
            throw new IllegalArgumentException("opt and starts must not be null");
        }
        for (Tensor t : opt.params().tensors()) {
            Long a = starts.get(t.name());
            if (a == null || a < 0) {
                throw new IllegalArgumentException("starts must give tensor '" + t.name() + "' a start >= 0, got " + a);
            }
        }
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            for (PieceFile p : pieces) {
                files.add(SafetensorsFile.open(p.path()));
            }
            ACCESS.enter(opt);
            try {
                return loadChecked(pieces, files, opt, starts);
            } finally {
                ACCESS.leave(opt);
            }
        } finally {
            IOException first = null;
            for (SafetensorsFile f : files) {
                try {
                    f.close();
                } catch (IOException e) {
                    first = first == null ? e : first;
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    private static Restored loadChecked(List<PieceFile> pieces, List<SafetensorsFile> files, Optimizer<?> opt,
                                        Map<String, Long> starts) throws IOException {
        List<String> differences = new ArrayList<>();
        String name0 = name(files.get(0));
        Map<String, String> meta0 = files.get(0).metadata();
        List<TrainingState.SavedGroup> groups0 = TrainingState.check(name0, meta0, opt, differences, false);
        List<String> names = opt.stateNames();
        for (int i = 0; i < files.size(); i++) {
            SafetensorsFile f = files.get(i);
            String name = name(f);
            List<TrainingState.SavedGroup> groups = i == 0 ? groups0
                    : TrainingState.check(name, f.metadata(), opt, new ArrayList<>(), false);
            for (String key : List.of("optimizer.steps", "optimizer.skipped_steps", "trainer.global_step")) {
                long a = TrainingState.count(name0, meta0, key), b = TrainingState.count(name, f.metadata(), key);
                if (a != b) {
                    throw new CheckpointException(name + ": " + key + " is " + b + " but " + a + " in " + name0
                            + ": the files are not of one save");
                }
            }
            for (int g = 0; g < groups.size(); g++) {
                if (groups.get(g).steps() != groups0.get(g).steps()) {
                    throw new CheckpointException(name + ": group '" + groups.get(g).name() + "' has "
                            + groups.get(g).steps() + " updates but " + groups0.get(g).steps() + " in " + name0
                            + ": the files are not of one save");
                }
            }
            for (TensorEntry e : f.tensors()) {
                String n = e.name();
                if (n.startsWith(TrainingState.EXTRA)) {
                    continue;
                }
                String tensor = tensorOf(n, names);
                if (tensor == null) {
                    throw new CheckpointException(name + ": tensor '" + n + "' is not a parameter or one of the state"
                            + " variables " + names);
                }
                if (e.shape().length != 1) {
                    throw new CheckpointException(name + ": tensor '" + n + "' is " + e.dtype() + " of shape "
                            + java.util.Arrays.toString(e.shape()) + ", expected one dimension");
                }
                if (!pieces.get(i).starts().containsKey(tensor)) {
                    throw new CheckpointException(name + ": tensor '" + n + "' has no start among the pieces given"
                            + " for this file");
                }
            }
            Checkpoint.verifyChecksums(name, f);
        }
        List<Copy> copies = new ArrayList<>();
        for (Tensor t : opt.params().tensors()) {
            plan(t, starts.get(t.name()), pieces, files, opt, copies);
        }
        // Everything is checked: from here on nothing can fail but the reads themselves.
        for (Copy c : copies) {
            c.file().copy(c.entry(), c.from(), c.count(), c.storage().segment(), c.storage().dtype(), c.at());
        }
        long[] groupSteps = groups0.stream().mapToLong(TrainingState.SavedGroup::steps).toArray();
        ACCESS.restoreCounters(opt, TrainingState.count(name0, meta0, "optimizer.steps"),
                TrainingState.count(name0, meta0, "optimizer.skipped_steps"), groupSteps);
        Map<String, String> strings = new LinkedHashMap<>();
        meta0.forEach((k, v) -> {
            if (k.startsWith(TrainingState.USER)) {
                strings.put(k.substring(TrainingState.USER.length()), v);
            }
        });
        Map<String, float[]> tensors = new LinkedHashMap<>();
        for (TensorEntry e : files.get(0).tensors()) {
            if (e.name().startsWith(TrainingState.EXTRA) && e.elements() <= Integer.MAX_VALUE - 8) {
                float[] a = new float[(int) e.elements()];
                files.get(0).copyFloats(e, MemorySegment.ofArray(a), 0);
                tensors.put(e.name().substring(TrainingState.EXTRA.length()), a);
            }
        }
        return new Restored(pieces.get(0).path(), TrainingState.count(name0, meta0, "trainer.global_step"), strings,
                tensors, differences, List.of());
    }

    /**
     * The copies that fill tensor {@code t} (elements [a, a + length) of its whole tensor): the files' pieces of it
     * must cover that range exactly once, each with its parameter and every state variable.
     */
    private static void plan(Tensor t, long a, List<PieceFile> pieces, List<SafetensorsFile> files, Optimizer<?> opt,
                             List<Copy> copies) throws CheckpointException {
        record Part(int file, long lo, long hi, long start) {
        }
        List<Part> parts = new ArrayList<>();
        long b = a + t.length();
        for (int i = 0; i < files.size(); i++) {
            TensorEntry e = files.get(i).tensor(TrainingState.paramName(t));
            if (e == null) {
                continue;
            }
            long c = pieces.get(i).starts().get(t.name());
            long lo = Math.max(a, c), hi = Math.min(b, c + e.elements());
            if (lo < hi) {
                parts.add(new Part(i, lo, hi, c));
            }
        }
        parts.sort(Comparator.comparingLong(Part::lo));
        long next = a;
        for (Part p : parts) {
            if (p.lo() != next) {
                throw new CheckpointException("tensor '" + t.name() + "': " + (p.lo() > next
                        ? "elements [" + next + ", " + p.lo() + ") are in none of the files"
                        : "elements [" + p.lo() + ", " + Math.min(next, p.hi()) + ") are in two files, "
                        + name(files.get(p.file())) + " and another"));
            }
            next = p.hi();
        }
        if (next != b) {
            throw new CheckpointException("tensor '" + t.name() + "': elements [" + next + ", " + b + ") are in none"
                    + " of the files");
        }
        Storage[] state = ACCESS.state(opt, t.params());
        List<String> names = opt.stateNames();
        for (Part p : parts) {
            SafetensorsFile f = files.get(p.file());
            TensorEntry param = f.tensor(TrainingState.paramName(t));
            long from = p.lo() - p.start(), count = p.hi() - p.lo(), at = t.offset() + (p.lo() - a);
            checkDtype(f, param, t.params());
            copies.add(new Copy(f, param, from, count, t.params(), at));
            for (int v = 0; v < names.size(); v++) {
                TensorEntry e = f.tensor(TrainingState.stateName(t, names.get(v)));
                if (e == null || e.elements() != param.elements()) {
                    throw new CheckpointException(name(f) + ": tensor '" + TrainingState.stateName(t, names.get(v))
                            + "' is " + (e == null ? "missing" : "of " + e.elements() + " elements") + ", expected "
                            + param.elements() + " as its parameter");
                }
                checkDtype(f, e, state[v]);
                copies.add(new Copy(f, e, from, count, state[v], at));
            }
        }
    }

    /** The tensor must load exactly into its buffer here: the same type, or widened (16-bit into float32). */
    private static void checkDtype(SafetensorsFile f, TensorEntry e, Storage buffer) throws CheckpointException {
        if (!e.dtype().loadsExactlyInto(buffer.dtype())) {
            throw new CheckpointException(name(f) + ": tensor '" + e.name() + "' is " + e.dtype() + " in the checkpoint"
                    + " but its buffer here is " + buffer.dtype().torchName() + " (" + Dtype.of(buffer.dtype()) + ")");
        }
    }

    /** The parameter tensor a checkpoint tensor name belongs to, or null. */
    private static String tensorOf(String entry, List<String> stateNames) {
        if (entry.startsWith(TrainingState.PARAM)) {
            return entry.substring(TrainingState.PARAM.length());
        }
        if (entry.startsWith(TrainingState.STATE)) {
            for (String v : stateNames) {
                if (entry.endsWith("/" + v) && entry.length() > TrainingState.STATE.length() + v.length() + 1) {
                    return entry.substring(TrainingState.STATE.length(), entry.length() - v.length() - 1);
                }
            }
        }
        return null;
    }

    private static String name(SafetensorsFile f) {
        return f.path().getFileName().toString();
    }
}
