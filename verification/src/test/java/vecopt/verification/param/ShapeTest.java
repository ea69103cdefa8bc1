package vecopt.verification.param;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.CheckpointException;
import vecopt.checkpoint.SafetensorsFile;
import vecopt.memory.Storage;
import vecopt.optim.AdamW;
import vecopt.param.ParamSet;
import vecopt.param.Shape;
import vecopt.param.Tensor;

/**
 * Tensor shapes: 1-D by default, declared shapes validated with the tensor and the shape named, readable by
 * optimizers ({@code requireRank}), and recorded in checkpoints (loaded into the same shape, or from a flat file).
 */
class ShapeTest {
    private static final Storage P = Storage.of(new float[3100]), G = Storage.of(new float[3100]);

    private static void rejects(Runnable r, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should mention '" + f + "'");
        }
    }

    @Test
    void oneDimensionalByDefault() {
        Tensor t = new Tensor("b", P, G, 0, 100);
        assertEquals(Shape.of(100), t.shape());
        assertEquals(1, t.shape().rank());
        assertEquals("[0]", new Tensor("empty", P, G, 5, 0).shape().toString());
    }

    @Test
    void declaredShapeIsRowMajorAndReadable() {
        ParamSet set = ParamSet.builder().add("fc.weight", P, G, 0, 3000, Shape.of(30, 100))
                .add("fc.bias", P, G, 3000, 30).build();
        Shape s = set.tensor("fc.weight").shape();
        assertArrayEquals(new long[] {30, 100}, s.dims());
        assertEquals(30, s.rows());
        assertEquals(100, s.cols());
        assertEquals(3000, s.elements());
        assertEquals(Shape.of(2, 3, 500), set.tensor("fc.weight").withShape(2, 3, 500).shape());
        assertEquals(6 * 500 / 500, Shape.of(2, 3, 500).rows()); // rows: every dimension but the last
        assertEquals("[30, 100]", s.toString());
    }

    @Test
    void badShapesAreRejectedNamingTensorAndShape() {
        rejects(() -> new Tensor("fc.weight", P, G, 0, 3001, Shape.of(30, 100)), "fc.weight", "[30, 100]", "3000",
                "3001");
        rejects(() -> Shape.of(30, 0), "[30, 0]", "dimension", ">= 1", "0");
        rejects(() -> Shape.of(-2, 5), "[-2, 5]", "-2");
        rejects(() -> Shape.of(), "at least one dimension");
        rejects(() -> Shape.of(Long.MAX_VALUE, 3), "more elements than a long");
        rejects(() -> new Tensor("b", P, G, 0, 10).withShape(3, 3), "'b'", "[3, 3]", "9", "10");
        rejects(() -> ParamSet.builder().add("emb", P, G, 0, 64, Shape.of(8, 9)).build(), "emb", "[8, 9]");
    }

    @Test
    void anOptimizerThatNeedsAShapeSaysSo() {
        Tensor flat = new Tensor("fc.weight", P, G, 0, 3000);
        rejects(() -> flat.requireRank(2, "Adafactor's factored second moment"), "'fc.weight'", "[3000]",
                "Adafactor's factored second moment", "at least 2 dimensions", "Shape.of(out, in)");
        assertEquals(Shape.of(30, 100), flat.withShape(30, 100).requireRank(2, "x"));
    }

    /** A 2-D tensor is saved with its shape; it loads into the same shape or a flat tensor, not into another shape. */
    @Test
    void checkpointsRecordTheShape(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ckpt.safetensors");
        Storage p = Storage.of(new float[3030]), g = Storage.of(new float[3030]);
        for (int i = 0; i < 3030; i++) {
            p.set(i, i * 0.001f);
            g.set(i, 0.01f);
        }
        ParamSet matrix = ParamSet.builder().add("fc.weight", p, g, 0, 3000, Shape.of(30, 100))
                .add("fc.bias", p, g, 3000, 30).build();
        try (AdamW opt = AdamW.builder(matrix).threads(1).build()) {
            opt.step(1e-3);
            Checkpoint.save(file, opt, 1);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new long[] {30, 100}, f.tensor("param/fc.weight").shape());
            assertArrayEquals(new long[] {30, 100}, f.tensor("state/fc.weight/exp_avg").shape());
            assertArrayEquals(new long[] {30}, f.tensor("param/fc.bias").shape());
        }
        Storage q = Storage.of(new float[3030]), h = Storage.of(new float[3030]);
        try (AdamW same = AdamW.builder(ParamSet.builder().add("fc.weight", q, h, 0, 3000, Shape.of(30, 100))
                .add("fc.bias", q, h, 3000, 30).build()).threads(1).build()) {
            Checkpoint.load(file, same);
            assertArrayEquals(p.toArray(0, 3030), q.toArray(0, 3030));
        }
        Storage flatP = Storage.of(new float[3030]), flatG = Storage.of(new float[3030]);
        try (AdamW flat = AdamW.builder(ParamSet.builder().add("fc.weight", flatP, flatG, 0, 3000)
                .add("fc.bias", flatP, flatG, 3000, 30).build()).threads(1).build()) {
            // a file's [30, 100] into a flat [3000]: refused (the flat form is accepted the other way only)
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file, flat));
            assertTrue(e.getMessage().contains("fc.weight") && e.getMessage().contains("[30, 100]"), e.getMessage());
        }
        Storage r = Storage.of(new float[3030]), k = Storage.of(new float[3030]);
        try (AdamW other = AdamW.builder(ParamSet.builder().add("fc.weight", r, k, 0, 3000, Shape.of(100, 30))
                .add("fc.bias", r, k, 3000, 30).build()).threads(1).build()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(file, other));
            assertTrue(e.getMessage().contains("has shape [30, 100], expected [100, 30] (or [3000])"), e.getMessage());
        }
        // and a flat file (written before shapes, or by a converter that flattens) loads into the 2-D tensor
        Path flatFile = dir.resolve("flat.safetensors");
        Storage s = Storage.of(new float[3030]), u = Storage.of(new float[3030]);
        for (int i = 0; i < 3030; i++) {
            s.set(i, -i * 0.002f);
        }
        try (AdamW flat = AdamW.builder(ParamSet.builder().add("fc.weight", s, u, 0, 3000)
                .add("fc.bias", s, u, 3000, 30).build()).threads(1).build()) {
            Checkpoint.save(flatFile, flat, 0);
        }
        Storage v = Storage.of(new float[3030]), w = Storage.of(new float[3030]);
        try (AdamW matrixOpt = AdamW.builder(ParamSet.builder().add("fc.weight", v, w, 0, 3000, Shape.of(30, 100))
                .add("fc.bias", v, w, 3000, 30).build()).threads(1).build()) {
            Checkpoint.load(flatFile, matrixOpt);
            assertArrayEquals(s.toArray(0, 3030), v.toArray(0, 3030));
        }
    }
}
