package vecopt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Every benchmark of {@link CheckpointBench} runs once on a small state, and load restores what save wrote. */
class CheckpointBenchTest {
    @Test
    void everyBenchmarkRunsOnASmallState() throws Exception {
        CheckpointBench b = new CheckpointBench();
        b.size = 100_000;
        b.setUp();
        try {
            b.rawWrite();
            b.rawWriteForce();
            b.save();
            b.saveForce();
            assertEquals(12L * b.size, b.rawRead());
            assertEquals(2, b.load());
            b.snapshotCopy();
            b.asyncStall();
            b.awaitBackground();
        } finally {
            b.tearDown();
        }
    }
}
