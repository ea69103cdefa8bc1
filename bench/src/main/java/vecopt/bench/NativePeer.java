package vecopt.bench;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * A state that only native benchmarks take as a parameter: its setup fails with the reason when the native peer was
 * not built (no C compiler), so JMH reports that benchmark as skipped with the message and goes on with the others.
 */
@State(Scope.Benchmark)
public class NativePeer {
    @Setup(Level.Trial)
    public void check() {
        NativeKernels.require();
    }
}
