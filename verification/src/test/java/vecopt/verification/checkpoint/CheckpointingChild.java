package vecopt.verification.checkpoint;

import java.nio.file.Path;
import vecopt.checkpoint.BackgroundSave;
import vecopt.checkpoint.CheckpointFiles;
import vecopt.optim.AdamOptions;
import vecopt.optim.Optimizer;

/**
 * The process {@link CheckpointKillTest} kills: resumes from the newest checkpoint in the directory it is given (or
 * starts at step 0), then steps and saves a checkpoint after every step, forever, printing "saved N" after each:
 * synchronously ({@code sync}) or through a {@link BackgroundSave} ({@code background}: the write of step N runs while
 * step N + 1 is computed).
 */
public final class CheckpointingChild {
    static final Setup SETUP = Setup.adamW(AdamOptions.LLM_PRETRAINING);
    static final long[] NAN_STEPS = {5, 17, 40};
    static final int KEEP = 3;

    private CheckpointingChild() {
    }

    static Model model() {
        return new Model(false, 3, NAN_STEPS);
    }

    static double lr(long step) {
        return 1e-3 * (1 + step % 7);
    }

    public static void main(String[] args) throws Exception {
        CheckpointFiles files = new CheckpointFiles(Path.of(args[0]), KEEP);
        boolean background = args[1].equals("background");
        try (Model m = model(); Optimizer<?> opt = SETUP.build().apply(m.set, 2);
             BackgroundSave saves = new BackgroundSave(opt, files)) {
            long step = files.newest().isPresent() ? files.loadNewest(opt).globalStep() : 0;
            System.out.println("resumed " + step);
            while (true) {
                m.gradients(step);
                opt.step(lr(step));
                step++;
                if (background) {
                    saves.start(step); // waits for the previous write, throws its failure
                } else {
                    files.save(opt, step);
                }
                System.out.println("saved " + step);
                System.out.flush();
            }
        }
    }
}
