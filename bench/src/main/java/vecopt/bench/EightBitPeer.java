package vecopt.bench;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import vecopt.kernel.AdamStep;

/**
 * The native peer of AdamW with 8-bit block-quantized state ({@code vo_adam_q8} in {@code vecopt_native.c}): per
 * block of 256 elements the block's largest codes and gradient, the new scales known before the step, and one pass
 * that decodes the moments, steps and codes them, as the engine's {@code MixedPanama.adamQuantized} does, bitwise
 * (held to it by {@code EightBitPeerTest}). Three forms of the element loop: {@code "c"}, plain C that gcc
 * vectorizes; {@code "avx512"}, AVX-512 intrinsics (present only where the library was built for AVX-512BW); and
 * {@code "avx512bf16"}, those with the bfloat16 copy rounded by the CPU's {@code vcvtneps2bf16} where that is
 * vecopt's rounding (built where the compiler targets AVX512-BF16; the Vector API has no such operation). Two storage
 * mixes, {@link MixedBench}'s modes: 5 float32 parameters and gradients, 6 bfloat16 gradients and bfloat16
 * parameters with a float32 master.
 *
 * <pre>{@code
 * MemorySegment k = EightBitPeer.scalars(AdamScalars.of("adamw", 10), arena);
 * EightBitPeer.run("c", p32, MemorySegment.NULL, g32, MemorySegment.NULL, m, r, scaleM, scaleR, n, 5, k);
 * }</pre>
 */
final class EightBitPeer {
    private static final MethodHandle AUTO, AVX512, AVX512BF16;

    static {
        MethodHandle auto = null, avx = null, bf = null;
        if (NativeKernels.available()) {
            SymbolLookup lookup = SymbolLookup.libraryLookup(Path.of(NativeKernels.library()), Arena.global());
            FunctionDescriptor d = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                    ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS);
            Linker linker = Linker.nativeLinker();
            auto = linker.downcallHandle(lookup.findOrThrow("vo_adam_q8"), d, Linker.Option.critical(true));
            avx = lookup.find("vo_adam_q8_avx512")
                    .map(s -> linker.downcallHandle(s, d, Linker.Option.critical(true))).orElse(null);
            bf = lookup.find("vo_adam_q8_avx512bf16")
                    .map(s -> linker.downcallHandle(s, d, Linker.Option.critical(true))).orElse(null);
        }
        AUTO = auto;
        AVX512 = avx;
        AVX512BF16 = bf;
    }

    private EightBitPeer() {
    }

    /** Whether form {@code variant} ("c", "avx512" or "avx512bf16") is in the library. */
    static boolean has(String variant) {
        return handle(variant) != null;
    }

    /** The floats {@code vo_adam_q8} reads, in its order: b1, c1, b2, c2, eps, decay, neg_step, inv_bc2, grad_scale. */
    static MemorySegment scalars(AdamScalars k, Arena arena) {
        if (!k.decoupled || k.amsgrad) {
            throw new IllegalArgumentException("the 8-bit native peer is AdamW's (decoupled, no AMSGrad)");
        }
        return arena.allocateFrom(JAVA_FLOAT, k.beta1, k.oneMinusBeta1, k.beta2, k.oneMinusBeta2, k.eps, k.decay,
                k.negStep, k.invBc2, k.gradScale);
    }

    /**
     * As above, for an engine step {@code step} prepared from {@code h} with gradient scale {@code gradScale} (the
     * clipping coefficient): each float rounded from double as {@link AdamStep#prepare} rounds it.
     */
    static MemorySegment scalars(AdamStep.Hyper h, AdamStep step, double gradScale, Arena arena) {
        if (!h.decoupled() || h.amsgrad()) {
            throw new IllegalArgumentException("the 8-bit native peer is AdamW's (decoupled, no AMSGrad)");
        }
        return arena.allocateFrom(JAVA_FLOAT, (float) h.beta1(), (float) (1.0 - h.beta1()), (float) h.beta2(),
                (float) (1.0 - h.beta2()), (float) h.eps(), step.decay(), step.negStepSize(), step.invSqrtBc2(),
                (float) gradScale);
    }

    /**
     * One step over {@code n} elements: {@code pw} the float32 parameters (mode 5) or master (mode 6), {@code p16}
     * the bfloat16 parameters (mode 6), {@code g32} / {@code g16} the gradients, {@code m} and {@code r} the codes,
     * {@code scaleM} and {@code scaleR} the blocks' scales ({@code ceil(n / 256)} floats each, updated).
     */
    static void run(String variant, MemorySegment pw, MemorySegment p16, MemorySegment g32, MemorySegment g16,
                    MemorySegment m, MemorySegment r, MemorySegment scaleM, MemorySegment scaleR, long n, int mode,
                    MemorySegment k) {
        if (mode != 5 && mode != 6) {
            throw new IllegalArgumentException("mode must be 5 (fp32-q8) or 6 (bf16-master-q8), got " + mode);
        }
        MethodHandle h = handle(variant);
        if (h == null) {
            throw new IllegalStateException("8-bit native peer '" + variant + "' is not in the library "
                    + NativeKernels.library() + (NativeKernels.available() ? "" : ": " + NativeKernels.unavailableReason()));
        }
        try {
            h.invokeExact(pw, p16, g32, g16, m, r, scaleM, scaleR, n, mode, k);
        } catch (Throwable t) {
            throw t instanceof RuntimeException e ? e : new IllegalStateException(t);
        }
    }

    private static MethodHandle handle(String variant) {
        return switch (variant) {
            case "c" -> AUTO;
            case "avx512" -> AVX512;
            case "avx512bf16" -> AVX512BF16;
            default -> throw new IllegalArgumentException("variant must be c, avx512 or avx512bf16, got '" + variant + "'");
        };
    }
}
