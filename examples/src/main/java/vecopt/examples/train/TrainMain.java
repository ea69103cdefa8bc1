package vecopt.examples.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./vecopt train}: trains the demo model under several recipes at one peak lr, prints a summary table and
 * writes a chart. See {@link TrainFlags} for the flags.
 */
public final class TrainMain {
    private TrainMain() {
    }

    public static void main(String[] args) throws IOException {
        TrainFlags flags;
        try {
            flags = TrainFlags.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("vecopt train: " + e.getMessage());
            System.err.println(TrainFlags.USAGE);
            System.exit(2);
            return;
        }
        if (flags.help()) {
            System.out.println(TrainFlags.USAGE);
            return;
        }
        PrintStream out = System.out;
        TrainConfig cfg = flags.config();
        List<Recipe> recipes = flags.recipes();
        if (flags.checkpoints().resume() != null) { // a resume continues the one recipe its checkpoint is of
            String name;
            try (vecopt.checkpoint.SafetensorsFile f = vecopt.checkpoint.SafetensorsFile.open(
                    flags.checkpoints().resume())) {
                name = f.metadata().get("user.recipe");
            }
            if (name == null || (flags.recipesGiven() && !flags.recipes().equals(List.of(Recipe.named(name))))) {
                System.err.println("vecopt train: " + flags.checkpoints().resume() + " is a checkpoint of recipe '"
                        + name + "'; resume it alone (--recipes " + name + " or no --recipes)");
                System.exit(2);
                return;
            }
            recipes = List.of(Recipe.named(name));
            out.println("vecopt train: resuming recipe '" + name + "' from " + flags.checkpoints().resume());
        }
        TeacherTask task = TeacherTask.DEFAULT;
        long t0 = System.nanoTime();
        TeacherTask.Split data = task.generate(cfg.seed(), cfg.trainCount(), cfg.heldOutCount());
        Mlp.Shape shape = cfg.shape(task);
        out.printf(Locale.ROOT, "vecopt train: %s MLP %d-%d-%d-%d with LayerNorm, %,d parameters in one off-heap shard%n",
                cfg.optimizer() == OptimizerKind.ADAMW ? "AdamW" : "SGD-momentum", shape.inputs(),
                shape.hidden(), shape.hidden(), shape.classes(), parameterCount(shape));
        out.printf(Locale.ROOT, "  task: teacher-network classification, %d classes, %d train / %d held-out examples,"
                        + " %.0f%% label noise, seed %d%n", task.classes(), cfg.trainCount(), cfg.heldOutCount(),
                task.labelNoise() * 100, cfg.seed());
        out.printf(Locale.ROOT, "  %d steps of batch %d per recipe, peak lr %s, %d optimizer thread(s), kernels: %s%n",
                cfg.steps(), cfg.batch(), Double.toString(cfg.peakLr()), cfg.threads(),
                vecopt.optim.Optimizer.defaultKernels());
        Progress progress = new Progress(flags.progress(), System.err);
        List<RunLog> logs = new ArrayList<>();
        for (Recipe r : recipes) {
            logs.add(TrainingRun.run(cfg, r, task, data, progress, flags.checkpoints()));
        }
        out.println();
        Summary.print(out, logs, cfg);
        Path dir = flags.out();
        Files.createDirectories(dir);
        Path svg = dir.resolve("training.svg");
        String chartNote;
        try {
            chartNote = svg + ", " + TrainingFigure.of(logs, cfg).write(svg) + ", ";
        } catch (Error | RuntimeException e) { // a JDK without fontconfig throws from java.awt's font set-up
            chartNote = "(no chart: java.awt cannot render here: " + e + "), ";
        }
        Path csv = dir.resolve("training.csv");
        Files.writeString(csv, Summary.csv(logs));
        Path table = dir.resolve("summary.md");
        Files.writeString(table, Summary.markdown(logs, cfg));
        out.printf(Locale.ROOT, "%nwrote %s%s, %s  (%.1fs in all)%n", chartNote, table, csv,
                (System.nanoTime() - t0) / 1e9);
    }

    private static long parameterCount(Mlp.Shape s) {
        long d = s.inputs(), h = s.hidden(), k = s.classes();
        return d * h + h + 2 * h + h * h + h + 2 * h + h * k + k;
    }
}
