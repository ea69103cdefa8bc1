package vecopt.verification.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import vecopt.param.ParamSet;
import vecopt.param.Shape;
import vecopt.memory.Storage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.CheckpointException;
import vecopt.checkpoint.Restored;
import vecopt.optim.Adafactor;
import vecopt.optim.Asgd;
import vecopt.optim.AsgdOptions;
import vecopt.optim.NAdam;
import vecopt.optim.Optimizer;
import vecopt.optim.Rmsprop;
import vecopt.optim.RmspropOptions;

/**
 * Checkpoints of the optimizers after AdamW, Adam and SGD (their bitwise resume is in
 * {@link CheckpointRoundTripTest}): state and per-group scalars under PyTorch's names, options that may differ
 * reported, options that change the state's meaning refused by name.
 */
class OtherOptimizersCheckpointTest {
    @TempDir
    Path dir;

    private Path saveAfterThreeSteps(Optimizer<?> opt, Model m) throws IOException {
        for (long step = 0; step < 3; step++) {
            m.gradients(step);
            opt.step(1e-2);
        }
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, opt, 3);
        return file;
    }

    @Test
    void stateAndScalarsAreRecordedUnderPyTorchsNames() throws IOException {
        try (Model m = new Model(false, 1); Asgd opt = Asgd.builder(m.set).build()) {
            Path file = saveAfterThreeSteps(opt, m);
            String d = Checkpoint.describe(file);
            assertTrue(d.contains("Asgd, 3 updates"), d);
            assertTrue(d.contains("state/fc.bias/ax"), d);
            assertTrue(d.contains("t0=1000000.0") && d.contains("lambd=1.0E-4"), d);
            assertTrue(d.contains("state {eta=" + opt.eta("default") + ", mu=1.0}"), d);
        }
        try (Model m = new Model(false, 1); NAdam opt = NAdam.builder(m.set).build()) {
            Path file = saveAfterThreeSteps(opt, m);
            String d = Checkpoint.describe(file);
            assertTrue(d.contains("state/emb.weight/exp_avg_sq"), d);
            assertTrue(d.contains("momentum_decay=0.004"), d);
            assertTrue(d.contains("state {mu_product=" + opt.muProduct("default") + "}"), d);
        }
    }

    @Test
    void optionsThatMayDifferAreReported() throws IOException {
        Path file;
        try (Model m = new Model(false, 1);
             Asgd opt = Asgd.builder(m.set).options(AsgdOptions.DEFAULTS.withT0(3)).build()) {
            file = saveAfterThreeSteps(opt, m);
        }
        try (Model m = new Model(true, 2);
             Asgd opt = Asgd.builder(m.set).options(AsgdOptions.DEFAULTS.withT0(5).withLrScale(0.5)).build()) {
            Restored r = Checkpoint.load(file, opt);
            assertEquals(List.of("group 'default': t0 3.0 -> 5.0", "group 'default': lr_scale 1.0 -> 0.5"),
                    r.differences());
        }
    }

    @Test
    void optionsThatChangeTheStatesMeaningAreRefusedByName() throws IOException {
        RmspropOptions centered = RmspropOptions.DEFAULTS.withCentered(true).withMomentum(0.9);
        Path file;
        try (Model m = new Model(false, 1); Rmsprop opt = Rmsprop.builder(m.set).options(centered).build()) {
            file = saveAfterThreeSteps(opt, m);
        }
        try (Model m = new Model(false, 1);
             Rmsprop opt = Rmsprop.builder(m.set).options(centered.withCentered(false)).build()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file, opt));
            assertTrue(e.getMessage().contains("state variables are [square_avg, momentum_buffer, grad_avg] in the"
                    + " checkpoint but [square_avg, momentum_buffer] here"), e.getMessage());
        }
        // centered in one group only: the same buffers, another meaning in the group that switched
        try (Model m = new Model(false, 1);
             Rmsprop opt = Rmsprop.builder(m.set).options(centered.withCentered(false))
                     .group("centered_bias", centered, Setup::noDecay).build()) {
            Path two = dir.resolve("two-groups.safetensors");
            for (long step = 0; step < 3; step++) {
                m.gradients(step);
                opt.step(1e-2);
            }
            Checkpoint.save(two, opt, 3);
            try (Model m2 = new Model(false, 1);
                 Rmsprop swapped = Rmsprop.builder(m2.set).options(centered)
                         .group("centered_bias", centered.withCentered(false), Setup::noDecay).build()) {
                CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(two, swapped));
                assertTrue(e.getMessage().contains("group 'default': centered is false in the checkpoint but true"
                        + " here (the state's meaning differs)"), e.getMessage());
            }
        }
    }

    /**
     * Adafactor's checkpoints are held bitwise in {@link AdafactorCheckpointTest}; here, what it refuses by name:
     * another optimizer's file, and loading pieces of tensors (its factored state belongs to the whole matrix).
     */
    @Test
    void adafactorRefusesAnotherKindAndPiecesByName() throws IOException {
        float[] g = new float[12];
        java.util.Arrays.fill(g, 0.5f);
        Storage params = Storage.of(new float[12]), grads = Storage.of(g);
        ParamSet set = ParamSet.builder()
                .add("w", params, grads, 0, 8, Shape.of(2, 4))
                .add("b", params, grads, 8, 4)
                .build();
        try (Adafactor opt = Adafactor.builder(set).build()) {
            opt.step(1.0);
            Path file = dir.resolve("adafactor.safetensors");
            Checkpoint.save(file, opt, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.loadPieces(
                    java.util.List.of(new vecopt.checkpoint.PieceFile(file, java.util.Map.of("w", 0L, "b", 0L))), opt,
                    java.util.Map.of("w", 0L, "b", 0L)));
            assertTrue(e.getMessage().contains("Adafactor") && e.getMessage().contains("exp_avg_sq_row"),
                    e.getMessage());
            try (Model m = new Model(false, 1); Asgd other = Asgd.builder(m.set).build()) {
                Path saved = saveAfterThreeSteps(other, m);
                CheckpointException l = assertThrows(CheckpointException.class, () -> Checkpoint.load(saved, opt));
                assertTrue(l.getMessage().contains("optimizer is 'Asgd' in the checkpoint but Adafactor here"),
                        l.getMessage());
            }
        }
    }
}
