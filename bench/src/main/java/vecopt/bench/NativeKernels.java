package vecopt.bench;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * FFM downcalls into the native peer ({@code src/main/c/vecopt_native.c}, built by Maven into
 * {@code target/classes/native}). The handles are {@code static final} so that C2 sees them as constants and a call
 * costs a few nanoseconds; they are "critical" downcalls (no thread-state transition, heap segments allowed), so the
 * C code runs on exactly the memory the engine benchmark uses, heap or off-heap.
 *
 * <p>Which library: {@code -Dvecopt.bench.native=gcc} (the default: {@code -O3 -march=native -fno-math-errno}, gcc's
 * own vector width), {@code 512} (the same plus {@code -mprefer-vector-width=512}), or a path to a library.
 *
 * <pre>{@code
 * if (NativeKernels.available()) NativeKernels.triad(a, b, c, n, 3f);
 * else System.out.println(NativeKernels.unavailableReason());
 * }</pre>
 */
final class NativeKernels {
    private static final String REASON;
    private static final String LIBRARY;
    private static final MethodHandle SET_THREADS, ADAM, AMSGRAD, SGD_MOMENTUM, SUM_SQUARES, SCALE, TRIAD, TRAFFIC, READ,
            ADAM_PIECES, PASS_TRAFFIC, UPDATE_TRAFFIC;

    static {
        String reason = null;
        Path lib = null;
        try {
            lib = locate(System.getProperty("vecopt.bench.native", "gcc"));
        } catch (IllegalStateException e) {
            reason = e.getMessage();
        }
        MethodHandle[] h = new MethodHandle[12];
        if (lib != null) {
            try {
                SymbolLookup lookup = SymbolLookup.libraryLookup(lib, Arena.global());
                Linker linker = Linker.nativeLinker();
                Linker.Option critical = Linker.Option.critical(true);
                FunctionDescriptor adam = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
                        JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT,
                        JAVA_FLOAT, JAVA_FLOAT);
                FunctionDescriptor ams = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
                        JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT,
                        JAVA_FLOAT, JAVA_FLOAT);
                h[0] = linker.downcallHandle(lookup.findOrThrow("vo_set_threads"), FunctionDescriptor.ofVoid(JAVA_INT));
                h[1] = linker.downcallHandle(lookup.findOrThrow("vo_adam"), adam, critical);
                h[2] = linker.downcallHandle(lookup.findOrThrow("vo_amsgrad"), ams, critical);
                h[3] = linker.downcallHandle(lookup.findOrThrow("vo_sgd_momentum"), FunctionDescriptor.ofVoid(ADDRESS,
                        ADDRESS, ADDRESS, JAVA_LONG, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_INT),
                        critical);
                h[4] = linker.downcallHandle(lookup.findOrThrow("vo_sum_squares"),
                        FunctionDescriptor.of(JAVA_DOUBLE, ADDRESS, JAVA_LONG), critical);
                h[5] = linker.downcallHandle(lookup.findOrThrow("vo_scale"),
                        FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_FLOAT), critical);
                h[6] = linker.downcallHandle(lookup.findOrThrow("vo_triad"),
                        FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_FLOAT), critical);
                h[7] = linker.downcallHandle(lookup.findOrThrow("vo_adamw_traffic"),
                        FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG), critical);
                h[8] = linker.downcallHandle(lookup.findOrThrow("vo_read"),
                        FunctionDescriptor.of(JAVA_FLOAT, ADDRESS, JAVA_LONG), critical);
                h[9] = linker.downcallHandle(lookup.findOrThrow("vo_adam_pieces"), FunctionDescriptor.ofVoid(JAVA_LONG,
                        ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT,
                        JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT), critical);
                h[10] = linker.downcallHandle(lookup.findOrThrow("vo_pass_traffic"), FunctionDescriptor.of(JAVA_FLOAT,
                        ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT), critical);
                h[11] = linker.downcallHandle(lookup.findOrThrow("vo_update_traffic"), FunctionDescriptor.ofVoid(
                        ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT), critical);
            } catch (RuntimeException e) {
                reason = "native peer " + lib + " could not be loaded: " + e;
                Arrays.fill(h, null);
            }
        }
        REASON = reason;
        LIBRARY = lib == null ? null : lib.toString();
        SET_THREADS = h[0];
        ADAM = h[1];
        AMSGRAD = h[2];
        SGD_MOMENTUM = h[3];
        SUM_SQUARES = h[4];
        SCALE = h[5];
        TRIAD = h[6];
        TRAFFIC = h[7];
        READ = h[8];
        ADAM_PIECES = h[9];
        PASS_TRAFFIC = h[10];
        UPDATE_TRAFFIC = h[11];
    }

    private NativeKernels() {
    }

    private static Path locate(String which) {
        String file = switch (which) {
            case "gcc" -> "libvecoptbench.so";
            case "512" -> "libvecoptbench512.so";
            default -> null;
        };
        if (file == null) {
            Path p = Path.of(which);
            if (!Files.isRegularFile(p)) {
                throw new IllegalStateException("vecopt.bench.native: no library at '" + which + "'");
            }
            return p.toAbsolutePath();
        }
        URL url = NativeKernels.class.getResource("/native/" + file);
        if (url == null || !"file".equals(url.getProtocol())) {
            throw new IllegalStateException("native peer not built (no C compiler at build time?): " + file
                    + " is not in target/classes/native; the native benchmarks are skipped");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("native peer: bad location " + url, e);
        }
    }

    static boolean available() {
        return REASON == null;
    }

    /** Why the native peer is not available, or null when it is. */
    static String unavailableReason() {
        return REASON;
    }

    static String library() {
        return LIBRARY;
    }

    /** Throws, with the reason, when the native peer is missing (a benchmark's setup calls this: JMH then skips it). */
    static void require() {
        if (REASON != null) {
            throw new IllegalStateException(REASON);
        }
    }

    static void setThreads(int n) {
        try {
            SET_THREADS.invokeExact(n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void adam(MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, long n, AdamScalars k) {
        try {
            ADAM.invokeExact(p, g, m, v, n, k.beta1, k.oneMinusBeta1, k.beta2, k.oneMinusBeta2, k.eps, k.decay, k.l2,
                    k.negStep, k.invBc2, k.gradScale);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * AdamW over many separate tensors: piece i is {@code n[i]} floats at the addresses {@code p[i]}, {@code g[i]},
     * {@code m[i]}, {@code v[i]} (arrays of pointers, {@code n} of longs); the threads take the runs of pieces
     * {@code starts[r] .. starts[r + 1]} ({@code runs + 1} longs) dynamically.
     */
    static void adamPieces(long runs, MemorySegment starts, MemorySegment p, MemorySegment g, MemorySegment m,
                           MemorySegment v, MemorySegment n, AdamScalars k) {
        try {
            ADAM_PIECES.invokeExact(runs, starts, p, g, m, v, n, k.beta1, k.oneMinusBeta1, k.beta2, k.oneMinusBeta2,
                    k.eps, k.decay, k.l2, k.negStep, k.invBc2, k.gradScale);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** AdamW with the gradients scaled by {@code gradScale} (the clipping coefficient) in registers. */
    static void adamScaled(MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, long n, AdamScalars k,
                           float gradScale) {
        try {
            ADAM.invokeExact(p, g, m, v, n, k.beta1, k.oneMinusBeta1, k.beta2, k.oneMinusBeta2, k.eps, k.decay, k.l2,
                    k.negStep, k.invBc2, gradScale);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void amsgrad(MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, MemorySegment vmax,
                        long n, AdamScalars k) {
        try {
            AMSGRAD.invokeExact(p, g, m, v, vmax, n, k.beta1, k.oneMinusBeta1, k.beta2, k.oneMinusBeta2, k.eps,
                    k.decay, k.l2, k.negStep, k.invBc2, k.gradScale);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void sgdMomentum(MemorySegment p, MemorySegment g, MemorySegment buf, long n, SgdScalars k) {
        try {
            SGD_MOMENTUM.invokeExact(p, g, buf, n, k.negLr, k.momentum, k.oneMinusDampening, k.weightDecay,
                    k.gradScale, k.nesterov ? 1 : 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static double sumOfSquares(MemorySegment g, long n) {
        try {
            return (double) SUM_SQUARES.invokeExact(g, n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void scale(MemorySegment g, long n, float coef) {
        try {
            SCALE.invokeExact(g, n, coef);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void triad(MemorySegment a, MemorySegment b, MemorySegment c, long n, float s) {
        try {
            TRIAD.invokeExact(a, b, c, n, s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void adamwTraffic(MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, long n) {
        try {
            TRAFFIC.invokeExact(p, g, m, v, n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * One pass of a multi-pass optimizer's traffic ({@code vo_pass_traffic}): reads the first {@code reads} of a0..a3,
     * writes back the first {@code writes} of them; returns a sum when it writes nothing.
     */
    static float passTraffic(MemorySegment a0, MemorySegment a1, MemorySegment a2, MemorySegment a3, long n, int reads,
                             int writes) {
        try {
            return (float) PASS_TRAFFIC.invokeExact(a0, a1, a2, a3, n, reads, writes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * An elementwise optimizer's streams with next to no arithmetic ({@code vo_update_traffic}): reads p, g and the
     * first {@code states} of s0..s2, writes p and those states (12 + 8 * states bytes per element).
     */
    static void updateTraffic(MemorySegment p, MemorySegment g, MemorySegment s0, MemorySegment s1, MemorySegment s2,
                              long n, int states) {
        try {
            UPDATE_TRAFFIC.invokeExact(p, g, s0, s1, s2, n, states);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static float read(MemorySegment a, long n) {
        try {
            return (float) READ.invokeExact(a, n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A downcall's throwable as an unchecked exception (errors rethrown as they are). */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
