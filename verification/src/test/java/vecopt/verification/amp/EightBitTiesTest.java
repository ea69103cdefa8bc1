package vecopt.verification.amp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import vecopt.clip.NonFinite;
import vecopt.memory.Dtype;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Optimizer;
import vecopt.optim.Rmsprop;
import vecopt.optim.RmspropOptions;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.param.ParamSet;

/**
 * The 8-bit codes' rounding rule (nearest, ties away from zero: {@code BlockCodes}, {@code BlockQuantization}) as
 * the step's own loops apply it, on values that land exactly on a tie. The random properties
 * ({@code EightBitStateProperties}, {@code ElementwiseEightBitStateProperties}) almost never produce an exact tie (a
 * float product hits one with probability about 2^-20), so a loop that rounded ties another way would pass them;
 * here one first step from zero state is chosen so that every quantity is exact: a block's largest {@code |g|} is 1,
 * every gradient a short binary fraction, and the coefficients powers of two, so each value coded is the gradient
 * itself (or its magnitude) and the expected codes are computed by hand below. Each pattern sits in the whole vectors
 * of block 0 (the vector loop) and in the last elements of block 1 (the scalar twin), with float32 gradients and
 * parameters and with bfloat16 ones (a master copy): the Adam loop ({@code MixedPanama}'s {@code adamQuantized}),
 * SGD's and RMSprop's ({@code eightBitStore}'s signed and unsigned code).
 *
 * <p>Code values (signed magnitude {@code k}: {@code (1 + ((k-1) & 7)/8) * 2^(((k-1) >> 3) - 15)}; unsigned
 * {@code k}: {@code (1 + ((k-1) & 15)/16) * 2^(((k-1) >> 4) - 15)}): around 0.5 the signed codes are 0.5 (k = 113)
 * and 0.5625 (114), the unsigned 0.5 (225), 0.53125 (226) and 0.5625 (227); the smallest of each is 2^-15.
 */
class EightBitTiesTest {
    /** Elements: block 0 whole, block 1 of 39 (32 in whole vectors of 8 or 16 lanes, the last 7 in the scalar twin). */
    static final int N = 256 + 39;
    /** Where the pattern starts in each block: in block 0's vectors, and block 1's scalar tail. */
    static final int[] AT = {1, 256 + 32};

    /**
     * The pattern of gradients, and the code value each codes to when the value coded is {@code g} itself (signed)
     * and {@code |g|} (unsigned), each derived from the code values above.
     */
    record Element(float g, double signed, double unsigned) {
    }

    static Element[] pattern(Dtype type) {
        // the largest value of the gradient's type below x (bfloat16: 8 significant bits)
        Function<Float, Float> below = x -> type == Dtype.FLOAT32 ? Math.nextDown(x)
                : x - Math.scalb(1f, Math.getExponent(x) - 7) / (x == Math.scalb(1f, Math.getExponent(x)) ? 2 : 1);
        float tieS = 17f / 32, tieU = 33f / 64, tiny = 0x1p-16f;
        return new Element[] {
                // 17/32 = 0.53125: halfway between signed 0.5 and 0.5625, away from zero: 0.5625; an unsigned code
                new Element(tieS, 0.5625, 0.53125),
                new Element(-tieS, -0.5625, 0.53125),
                // just below the signed tie: 0.5; unsigned: nearer 0.53125 than the tie 0.515625 below it
                new Element(below.apply(tieS), 0.5, 0.53125),
                // 2^-16: halfway between signed 0 and 2^-15, away from zero: 2^-15; unsigned: up to the smallest code
                new Element(tiny, 0x1p-15, 0x1p-15),
                // below it: signed 0; unsigned still the smallest code (a positive value never codes 0)
                new Element(below.apply(tiny), 0, 0x1p-15),
                // 33/64 = 0.515625: halfway between unsigned 0.5 and 0.53125, away: 0.53125; signed: nearer 0.5
                new Element(tieU, 0.5, 0.53125),
                // just below the unsigned tie: 0.5 (signed 0.5 too)
                new Element(below.apply(tieU), 0.5, 0.5),
        };
    }

    /** Gradient type and parameter type (bfloat16 parameters with a float32 master). */
    static final Dtype[] TYPES = {Dtype.FLOAT32, Dtype.BFLOAT16};

    /** Gradients: 1 at each block's first element (its largest), the pattern at AT, 0 elsewhere. */
    static Storage gradients(Arena arena, Dtype type) {
        Storage g = Storage.allocate(arena, N, type);
        Element[] e = pattern(type);
        for (int b = 0; b < AT.length; b++) {
            g.set(b * 256L, 1f);
            for (int i = 0; i < e.length; i++) {
                g.set(AT[b] + i, e[i].g());
            }
        }
        return g;
    }

    /**
     * Checks a state's decoded values: element {@code AT[b] + i} is its code value times {@code scale}, squared for
     * a variable kept as its square root ({@code squared}); each block's first element codes 1 (signed k = 121,
     * unsigned 241); every other element, whose gradient is 0, codes 0 (zero state plus a zero gradient is 0).
     */
    static void check(float[] state, boolean signed, boolean squared, float scale, Dtype type, String what) {
        Element[] e = pattern(type);
        double[] code = new double[N];
        String[] which = new String[N];
        java.util.Arrays.fill(which, "g 0");
        for (int b = 0; b < AT.length; b++) {
            code[b * 256] = 1;
            which[b * 256] = "g 1, the block's largest";
            for (int i = 0; i < e.length; i++) {
                code[AT[b] + i] = signed ? e[i].signed() : e[i].unsigned();
                which[AT[b] + i] = "pattern " + i + ", g " + e[i].g();
            }
        }
        for (int at = 0; at < N; at++) {
            float value = (float) code[at] * scale; // both factors powers of two or short fractions: exact
            float expected = squared ? value * value : value;
            int i = at;
            assertEquals(expected, state[at], () -> what + " of element " + i + " (" + which[i] + "), " + type);
        }
    }

    @Test
    void adamCodesTiesAwayFromZero() {
        for (Dtype type : TYPES) {
            try (Arena arena = Arena.ofShared()) {
                Storage p = Storage.allocate(arena, N, type), g = gradients(arena, type);
                // betas 0.5 and 0.75: from zero state m = g / 2 and v = g^2 / 4, sqrt(v) = |g| / 2, all exact; the
                // scales are 0.5 * 0 + 0.5 * 1 and sqrt(0.75 * 0 + 0.25 * 1^2): 0.5 each, so m and sqrt(v) are
                // coded as g and |g| (times the reciprocal 2)
                AdamOptions o = new AdamOptions(0.5, 0.75, 1e-8, 0.0, false, 1.0, false);
                try (Optimizer<AdamOptions> opt = AdamW.builder(ParamSet.builder().add("w", p, g, 0, N).build())
                        .options(o).onNonFinite(NonFinite.PROCEED).eightBitState(256).build()) {
                    assertTrue(opt.eightBitState());
                    opt.step(1e-3);
                    check(opt.stateValues("w", "exp_avg"), true, false, 0.5f, type, "exp_avg");
                    check(opt.stateValues("w", "exp_avg_sq"), false, true, 0.5f, type, "exp_avg_sq");
                }
            }
        }
    }

    @Test
    void sgdMomentumCodesTiesAwayFromZero() {
        for (Dtype type : TYPES) {
            try (Arena arena = Arena.ofShared()) {
                Storage p = Storage.allocate(arena, N, type), g = gradients(arena, type);
                // the first step's buffer is g itself, against the scale 1 (the largest |g|): coded as g
                try (Optimizer<SgdOptions> opt = Sgd.builder(ParamSet.builder().add("w", p, g, 0, N).build())
                        .options(SgdOptions.MOMENTUM).onNonFinite(NonFinite.PROCEED).eightBitState(256).build()) {
                    assertTrue(opt.eightBitState());
                    opt.step(1e-3);
                    check(opt.stateValues("w", "momentum_buffer"), true, false, 1f, type, "momentum_buffer");
                }
            }
        }
    }

    @Test
    void rmspropCodesTiesAwayFromZero() {
        for (Dtype type : TYPES) {
            try (Arena arena = Arena.ofShared()) {
                Storage p = Storage.allocate(arena, N, type), g = gradients(arena, type);
                // alpha 0.75: from zero state square_avg = g^2 / 4, its root |g| / 2, against the scale
                // sqrt(0.75 * 0 + 0.25 * 1^2) = 0.5: coded as |g|
                RmspropOptions o = new RmspropOptions(0.75, 1e-8, 0, 0, false, 1.0, false);
                try (Optimizer<RmspropOptions> opt = Rmsprop.builder(ParamSet.builder().add("w", p, g, 0, N).build())
                        .options(o).onNonFinite(NonFinite.PROCEED).eightBitState(256).build()) {
                    assertTrue(opt.eightBitState());
                    opt.step(1e-3);
                    check(opt.stateValues("w", "square_avg"), false, true, 0.5f, type, "square_avg");
                }
            }
        }
    }
}
