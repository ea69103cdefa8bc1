package vecopt.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainFlagsTest {
    @Test
    void defaultsRunEveryRecipeWithAdamW() {
        TrainFlags f = TrainFlags.parse();
        assertEquals(Recipe.ALL, f.recipes());
        assertEquals(OptimizerKind.ADAMW, f.config().optimizer());
        assertEquals(TrainFlags.DEFAULT_ADAMW_LR, f.config().peakLr());
        assertEquals(Path.of("out"), f.out());
    }

    @Test
    void flagsTakeSpaceOrEqualsSeparatedValues() {
        TrainFlags f = TrainFlags.parse("--hidden", "64", "--steps=100", "--recipes", "warmup,clip", "--seed", "7",
                "--threads=1", "--out", "/tmp/x", "--optimizer", "sgd", "--progress", "none");
        assertEquals(64, f.config().hidden());
        assertEquals(100, f.config().steps());
        assertEquals(List.of(Recipe.named("warmup"), Recipe.named("clip")), f.recipes());
        assertEquals(7, f.config().seed());
        assertEquals(1, f.config().threads());
        assertEquals(Path.of("/tmp/x"), f.out());
        assertEquals(OptimizerKind.SGD, f.config().optimizer());
        assertEquals(TrainFlags.DEFAULT_SGD_LR, f.config().peakLr());
        assertEquals(Progress.Mode.NONE, f.progress());
    }

    @Test
    void badInputIsRejectedNamingTheFlagAndValue() {
        assertMessage("unknown flag '--hiden'", "--hiden", "3");
        assertMessage("--steps must be an integer, got 'ten'", "--steps", "ten");
        assertMessage("steps must be > 0, got 0", "--steps", "0");
        assertMessage("threads must be > 0, got -2", "--threads", "-2");
        assertMessage("peakLr must be finite and > 0, got NaN", "--lr", "NaN");
        assertMessage("unknown recipe 'warmpu'", "--recipes", "warmup,warmpu");
        assertMessage("--recipes names 'clip' twice", "--recipes", "clip,clip");
        assertMessage("--optimizer must be adamw or sgd, got 'adam'", "--optimizer", "adam");
        assertMessage("--seed needs a value", "--seed");
    }

    private static void assertMessage(String expected, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainFlags.parse(args));
        assertTrue(e.getMessage().contains(expected), () -> "message '" + e.getMessage() + "' lacks '" + expected + "'");
    }

    @Test
    void checkpointFlags() {
        TrainFlags none = TrainFlags.parse();
        assertEquals(0, none.checkpoints().every());
        assertEquals(null, none.checkpoints().resume());
        TrainFlags f = TrainFlags.parse("--checkpoint-every", "50", "--out", "/tmp/x", "--resume=/tmp/c.safetensors");
        assertEquals(50, f.checkpoints().every());
        assertEquals(Path.of("/tmp/x/checkpoints"), f.checkpoints().dir());
        assertEquals(Path.of("/tmp/c.safetensors"), f.checkpoints().resume());
        assertEquals(Path.of("/d"), TrainFlags.parse("--checkpoint-dir", "/d").checkpoints().dir());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainFlags.parse("--checkpoint-every", "-1"));
        assertTrue(e.getMessage().contains("--checkpoint-every must be >= 0, got -1"), e.getMessage());
    }
}
