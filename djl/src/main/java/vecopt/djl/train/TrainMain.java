package vecopt.djl.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./vecopt train}, the main job: trains a small GPT-style transformer (DJL blocks, PyTorch engine) on a
 * synthetic next-token task under several recipes at one peak lr, with vecopt's AdamW doing each step through the
 * DJL bridge; prints a summary table and the health monitor's findings, and writes a chart, the table and a CSV.
 * See {@link TrainFlags} for the flags.
 *
 * <pre>
 *   ./vecopt train --recipes no-warmup,warmup --steps 200
 * </pre>
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
        // Before DJL's engine starts, which reads them once: no telemetry call, and PyTorch's thread counts.
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(flags.torchThreads()));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
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
        long t0 = System.nanoTime();
        MarkovTask task = cfg.task();
        MarkovTask.Split data = task.generate(cfg.trainCount(), cfg.heldOutCount(), cfg.context(), cfg.seed());
        double floor = task.oracleLoss(data.heldOut());
        out.printf(Locale.ROOT, "vecopt train: GPT, %d layers, width %d, %d heads, context %d, %,d parameters"
                        + " (pre-LN; post-LN has no final LayerNorm: %,d); DJL %s, PyTorch engine%n",
                cfg.layers(), cfg.width(), cfg.heads(), cfg.context(),
                cfg.model(vecopt.djl.gpt.GptConfig.Norm.PRE).parameterCount(),
                cfg.model(vecopt.djl.gpt.GptConfig.Norm.POST).parameterCount(), ai.djl.engine.Engine.getDjlVersion());
        out.printf(Locale.ROOT, "  task: next token of a random order-2 Markov source, %d tokens, %d successors per"
                        + " context; %d train / %d held-out sequences; floor (the source's own probabilities) %.4f,"
                        + " uniform guess %.4f%n", cfg.vocab(), TrainConfig.SUCCESSORS, cfg.trainCount(),
                cfg.heldOutCount(), floor, Math.log(cfg.vocab()));
        out.printf(Locale.ROOT, "  %d steps of batch %d per recipe, AdamW peak lr %s, vecopt %d thread(s), PyTorch"
                        + " %d thread(s), seed %d, kernels: %s%n", cfg.steps(), cfg.batch(),
                Double.toString(cfg.peakLr()), cfg.threads(), flags.torchThreads(), cfg.seed(),
                vecopt.optim.Optimizer.defaultKernels());
        Progress progress = new Progress(flags.progress(), System.err);
        List<RunLog> logs = new ArrayList<>();
        for (Recipe r : recipes) {
            logs.add(TrainingRun.run(cfg, r, data, progress, flags.checkpoints()));
        }
        out.println();
        Summary.print(out, logs, cfg, floor);
        Path dir = flags.out();
        Files.createDirectories(dir);
        Path svg = dir.resolve("training.svg");
        String chartNote;
        try {
            chartNote = svg + ", " + TrainingFigure.of(logs, cfg, floor).write(svg) + ", ";
        } catch (Error | RuntimeException e) { // a JDK without fontconfig throws from java.awt's font set-up
            chartNote = "(no chart: java.awt cannot render here: " + e + "), ";
        }
        Path csv = dir.resolve("training.csv");
        Files.writeString(csv, Summary.csv(logs));
        Path table = dir.resolve("summary.md");
        Files.writeString(table, Summary.markdown(logs, cfg, floor));
        out.printf(Locale.ROOT, "%nwrote %s%s, %s  (%.1fs in all)%n", chartNote, table, csv,
                (System.nanoTime() - t0) / 1e9);
    }
}
