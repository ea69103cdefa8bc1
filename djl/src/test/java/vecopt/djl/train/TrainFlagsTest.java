package vecopt.djl.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainFlagsTest {
    @Test
    void defaultsRunEveryRecipe() {
        TrainFlags f = TrainFlags.parse();
        assertEquals(Recipe.ALL, f.recipes());
        assertEquals(TrainFlags.DEFAULT_LR, f.config().peakLr());
        assertEquals(TrainFlags.DEFAULT_STEPS, f.config().steps());
        assertEquals(1, f.config().threads());
        assertEquals(Path.of("out"), f.out());
        long params = f.config().model(vecopt.djl.gpt.GptConfig.Norm.PRE).parameterCount();
        assertTrue(params > 500_000 && params < 5_000_000, "the demo's model is about a million parameters: " + params);
    }

    @Test
    void flagsTakeSpaceOrEqualsSeparatedValues() {
        TrainFlags f = TrainFlags.parse("--width", "64", "--steps=100", "--recipes", "warmup,post-ln", "--seed", "7",
                "--threads=2", "--torch-threads", "1", "--out", "/tmp/x", "--progress", "none", "--layers", "2",
                "--heads", "2", "--context", "16", "--vocab", "8", "--batch", "4", "--lr", "1e-3");
        TrainConfig c = f.config();
        assertEquals(64, c.width());
        assertEquals(100, c.steps());
        assertEquals(List.of(Recipe.named("warmup"), Recipe.named("post-ln")), f.recipes());
        assertEquals(7, c.seed());
        assertEquals(2, c.threads());
        assertEquals(1, f.torchThreads());
        assertEquals(Path.of("/tmp/x"), f.out());
        assertEquals(Progress.Mode.NONE, f.progress());
        assertEquals(2, c.layers());
        assertEquals(2, c.heads());
        assertEquals(16, c.context());
        assertEquals(8, c.vocab());
        assertEquals(4, c.batch());
        assertEquals(1e-3, c.peakLr());
    }

    @Test
    void badInputIsRejectedNamingTheFlagAndValue() {
        assertMessage("unknown flag '--widht'", "--widht", "3");
        assertMessage("--steps must be an integer, got 'ten'", "--steps", "ten");
        assertMessage("steps must be > 0, got 0", "--steps", "0");
        assertMessage("threads must be > 0, got -2", "--threads", "-2");
        assertMessage("--torch-threads must be > 0, got 0", "--torch-threads", "0");
        assertMessage("peakLr must be finite and > 0, got NaN", "--lr", "NaN");
        assertMessage("width must be a multiple of heads 4, got 66", "--width", "66");
        assertMessage("unknown recipe 'warmpu'", "--recipes", "warmup,warmpu");
        assertMessage("--recipes names 'post-ln' twice", "--recipes", "post-ln,post-ln");
        assertMessage("--seed needs a value", "--seed");
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

    private static void assertMessage(String expected, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainFlags.parse(args));
        assertTrue(e.getMessage().contains(expected), () -> "message '" + e.getMessage() + "' lacks '" + expected + "'");
    }
}
