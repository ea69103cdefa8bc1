package vecopt.bench;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * The native peer's {@code vo_mix_traffic}: the memory traffic of AdamW under each storage mix, with next to no
 * arithmetic, in C on OpenMP threads - each mix's own ceiling ({@link MixedBench}). Modes, by bytes per parameter:
 * 0 float32 (28), 1 bfloat16 gradients (26), 2 bfloat16 parameters with a float32 master (30: 28 and the
 * write-allocate read of the 16-bit copy, which is only written), 3 bfloat16 parameters without a master (22),
 * 4 everything bfloat16, state too (14); with 8-bit state (a byte per moment; the block scales, 0.06 bytes, left out):
 * 5 float32 parameters and gradients (16), 6 bfloat16 gradients and parameters with a float32 master (18), 7 bfloat16
 * parameters without a master (10).
 */
final class MixedTraffic {
    private static final MethodHandle MIX, MIX16, MIX8;

    static {
        MethodHandle h = null, h16 = null, h8 = null;
        if (NativeKernels.available()) {
            SymbolLookup lookup = SymbolLookup.libraryLookup(Path.of(NativeKernels.library()), Arena.global());
            h = Linker.nativeLinker().downcallHandle(lookup.findOrThrow("vo_mix_traffic"), FunctionDescriptor.ofVoid(
                    ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT),
                    Linker.Option.critical(true));
            h16 = Linker.nativeLinker().downcallHandle(lookup.findOrThrow("vo_mix_traffic16"),
                    FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG), Linker.Option.critical(true));
            h8 = Linker.nativeLinker().downcallHandle(lookup.findOrThrow("vo_mix_traffic8"), FunctionDescriptor.ofVoid(
                    ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT),
                    Linker.Option.critical(true));
        }
        MIX = h;
        MIX16 = h16;
        MIX8 = h8;
    }

    private MixedTraffic() {
    }

    /** One pass; a buffer a mode does not use may be {@link MemorySegment#NULL}. */
    static void run(MemorySegment p32, MemorySegment p16, MemorySegment g32, MemorySegment g16, MemorySegment m,
                    MemorySegment v, long n, int mode) {
        try {
            if (mode == 4) {
                MIX16.invokeExact(p16, g16, m, v, n);
                return;
            }
            if (mode >= 5) { // m and v hold one byte per element
                MIX8.invokeExact(p32, p16, g32, g16, m, v, n, mode);
                return;
            }
            MIX.invokeExact(p32, p16, g32, g16, m, v, n, mode);
        } catch (Throwable t) {
            throw t instanceof RuntimeException e ? e : new IllegalStateException(t);
        }
    }
}
