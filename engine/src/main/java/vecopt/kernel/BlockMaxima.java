package vecopt.kernel;

import static vecopt.kernel.PanamaKernels.ORDER;
import static vecopt.kernel.PanamaKernels.SPECIES;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import vecopt.memory.BFloat16;
import vecopt.memory.Float16;

/**
 * The largest values of one block of 8-bit state that {@link MixedScalar#nextScales} takes, in full vectors of the
 * float species' shape (64 codes or 32 halves or 16 floats at a time; the rest element by element): the block's
 * largest codes and largest gradient (and parameter) magnitudes, each on integers, where the order of a magnitude's
 * bits is its order as a number. The block is read here just before the update reads it again, from L1: this pass
 * costs a few instructions per 16 elements, where finding the block's exact new largest moments took a second
 * decode-and-update of the block. Bitwise {@link MixedScalar}'s {@code largest*} (a maximum has one value whatever
 * the order it is taken in).
 */
final class BlockMaxima {
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, SPECIES.vectorShape());
    private static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, SPECIES.vectorShape());
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, SPECIES.vectorShape());

    private BlockMaxima() {
    }

    /** {@link MixedScalar#largestSignedCode}. */
    static int largestSignedCode(MemorySegment codes, int from, int to) {
        final int bound = from + ((to - from) & -BYTES.length());
        ByteVector max = ByteVector.zero(BYTES);
        for (int i = from; i < bound; i += BYTES.length()) {
            max = max.max(ByteVector.fromMemorySegment(BYTES, codes, i, ORDER).and((byte) 0x7F));
        }
        return Math.max(max.reduceLanes(VectorOperators.MAX), MixedScalar.largestSignedCode(codes, bound, to));
    }

    /** {@link MixedScalar#largestUnsignedCode}: the sign bit flipped, the signed order of bytes is the unsigned one. */
    static int largestUnsignedCode(MemorySegment codes, int from, int to) {
        final int bound = from + ((to - from) & -BYTES.length());
        ByteVector max = ByteVector.broadcast(BYTES, (byte) 0x80);
        for (int i = from; i < bound; i += BYTES.length()) {
            max = max.max(ByteVector.fromMemorySegment(BYTES, codes, i, ORDER).lanewise(VectorOperators.XOR, (byte) 0x80));
        }
        return Math.max((max.reduceLanes(VectorOperators.MAX) ^ 0x80) & 0xFF,
                MixedScalar.largestUnsignedCode(codes, bound, to));
    }

    /** {@link MixedScalar#largestMagnitude}: float bits or 16-bit bits, without widening each element. */
    static float largestMagnitude(MemorySegment x, int type, int from, int to) {
        if (type == 0) {
            final int bound = from + ((to - from) & -INTS.length());
            IntVector max = IntVector.zero(INTS);
            for (int i = from; i < bound; i += INTS.length()) {
                max = max.max(IntVector.fromMemorySegment(INTS, x, (long) i * 4, ORDER).and(0x7FFFFFFF));
            }
            return canonical(Math.max(Float.intBitsToFloat(max.reduceLanes(VectorOperators.MAX)),
                    MixedScalar.largestMagnitude(x, 0, bound, to)));
        }
        final int bound = from + ((to - from) & -SHORTS.length());
        ShortVector max = ShortVector.zero(SHORTS);
        for (int i = from; i < bound; i += SHORTS.length()) {
            max = max.max(ShortVector.fromMemorySegment(SHORTS, x, (long) i * 2, ORDER).and((short) 0x7FFF));
        }
        final short bits = max.reduceLanes(VectorOperators.MAX);
        return canonical(Math.max(type == 1 ? BFloat16.widen(bits) : Float16.widen(bits),
                MixedScalar.largestMagnitude(x, type, bound, to)));
    }

    /** Every NaN as {@link Float#NaN}: which NaN's bits a maximum keeps depends on the order it is taken in. */
    private static float canonical(float x) {
        return x != x ? Float.NaN : x;
    }
}
