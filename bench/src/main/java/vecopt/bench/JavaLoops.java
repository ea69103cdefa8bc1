package vecopt.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The plain-Java peer: the engine's formulas as ordinary loops, with no Vector API, so that what they reach is what
 * C2's auto-vectorizer gives for free. Per element the same float operations as the engine (Math.fma where the engine
 * uses fma), so the results are the engine's bit for bit. On the heap the loops index {@code float[]}s; off-heap they
 * read and write {@link MemorySegment}s.
 */
final class JavaLoops {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private JavaLoops() {
    }

    /** AdamW / Adam (L2 when {@code k.l2 != 0}) over buffers 0..3 = p, g, m, v. */
    static void adam(Buffers b, AdamScalars k) {
        if (b.isHeap()) {
            adamArrays(b.array(0), b.base(0), b.array(1), b.base(1), b.array(2), b.base(2), b.array(3), b.base(3),
                    b.length(), k);
        } else {
            adamSegments(b.segment(0), b.segment(1), b.segment(2), b.segment(3), b.length(), k);
        }
    }

    private static void adamArrays(float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int n,
                                   AdamScalars k) {
        final float b1 = k.beta1, c1 = k.oneMinusBeta1, b2 = k.beta2, c2 = k.oneMinusBeta2, eps = k.eps;
        final float decay = k.decay, l2 = k.l2, negStep = k.negStep, invBc2 = k.invBc2, scale = k.gradScale;
        if (l2 != 0f) {
            for (int i = 0; i < n; i++) {
                float pi = p[po + i];
                float gi = Math.fma(pi, l2, g[go + i] * scale);
                float mi = Math.fma(m[mo + i], b1, gi * c1);
                float vi = Math.fma(v[vo + i], b2, (gi * c2) * gi);
                m[mo + i] = mi;
                v[vo + i] = vi;
                float d = Math.fma((float) Math.sqrt(vi), invBc2, eps);
                p[po + i] = Math.fma(mi / d, negStep, pi * decay);
            }
        } else {
            for (int i = 0; i < n; i++) {
                float pi = p[po + i];
                float gi = g[go + i] * scale;
                float mi = Math.fma(m[mo + i], b1, gi * c1);
                float vi = Math.fma(v[vo + i], b2, (gi * c2) * gi);
                m[mo + i] = mi;
                v[vo + i] = vi;
                float d = Math.fma((float) Math.sqrt(vi), invBc2, eps);
                p[po + i] = Math.fma(mi / d, negStep, pi * decay);
            }
        }
    }

    private static void adamSegments(MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, long n,
                                     AdamScalars k) {
        final float b1 = k.beta1, c1 = k.oneMinusBeta1, b2 = k.beta2, c2 = k.oneMinusBeta2, eps = k.eps;
        final float decay = k.decay, l2 = k.l2, negStep = k.negStep, invBc2 = k.invBc2, scale = k.gradScale;
        for (long i = 0; i < n; i++) {
            float pi = p.getAtIndex(F, i);
            float gi = g.getAtIndex(F, i) * scale;
            if (l2 != 0f) {
                gi = Math.fma(pi, l2, gi);
            }
            float mi = Math.fma(m.getAtIndex(F, i), b1, gi * c1);
            float vi = Math.fma(v.getAtIndex(F, i), b2, (gi * c2) * gi);
            m.setAtIndex(F, i, mi);
            v.setAtIndex(F, i, vi);
            float d = Math.fma((float) Math.sqrt(vi), invBc2, eps);
            p.setAtIndex(F, i, Math.fma(mi / d, negStep, pi * decay));
        }
    }

    /** AMSGrad over buffers 0..4 = p, g, m, v, vmax. */
    static void amsgrad(Buffers b, AdamScalars k) {
        final float b1 = k.beta1, c1 = k.oneMinusBeta1, b2 = k.beta2, c2 = k.oneMinusBeta2, eps = k.eps;
        final float decay = k.decay, l2 = k.l2, negStep = k.negStep, invBc2 = k.invBc2, scale = k.gradScale;
        final int n = b.length();
        if (b.isHeap()) {
            final float[] p = b.array(0), g = b.array(1), m = b.array(2), v = b.array(3), x = b.array(4);
            final int po = b.base(0), go = b.base(1), mo = b.base(2), vo = b.base(3), xo = b.base(4);
            for (int i = 0; i < n; i++) {
                float pi = p[po + i];
                float gi = g[go + i] * scale;
                if (l2 != 0f) { // loop-invariant: C2 unswitches it
                    gi = Math.fma(pi, l2, gi);
                }
                float mi = Math.fma(m[mo + i], b1, gi * c1);
                float vi = Math.fma(v[vo + i], b2, (gi * c2) * gi);
                m[mo + i] = mi;
                v[vo + i] = vi;
                float xi = Math.max(x[xo + i], vi);
                x[xo + i] = xi;
                float d = Math.fma((float) Math.sqrt(xi), invBc2, eps);
                p[po + i] = Math.fma(mi / d, negStep, pi * decay);
            }
        } else {
            final MemorySegment p = b.segment(0), g = b.segment(1), m = b.segment(2), v = b.segment(3), x = b.segment(4);
            for (long i = 0; i < n; i++) {
                float pi = p.getAtIndex(F, i);
                float gi = g.getAtIndex(F, i) * scale;
                if (l2 != 0f) {
                    gi = Math.fma(pi, l2, gi);
                }
                float mi = Math.fma(m.getAtIndex(F, i), b1, gi * c1);
                float vi = Math.fma(v.getAtIndex(F, i), b2, (gi * c2) * gi);
                m.setAtIndex(F, i, mi);
                v.setAtIndex(F, i, vi);
                float xi = Math.max(x.getAtIndex(F, i), vi);
                x.setAtIndex(F, i, xi);
                float d = Math.fma((float) Math.sqrt(xi), invBc2, eps);
                p.setAtIndex(F, i, Math.fma(mi / d, negStep, pi * decay));
            }
        }
    }

    /** SGD with momentum (Nesterov when {@code k.nesterov}) over buffers 0..2 = p, g, buf. */
    static void sgdMomentum(Buffers b, SgdScalars k) {
        final float negLr = k.negLr, mom = k.momentum, damp1 = k.oneMinusDampening, wd = k.weightDecay;
        final float scale = k.gradScale;
        final boolean nesterov = k.nesterov;
        final int n = b.length();
        if (b.isHeap()) {
            final float[] p = b.array(0), g = b.array(1), buf = b.array(2);
            final int po = b.base(0), go = b.base(1), bo = b.base(2);
            for (int i = 0; i < n; i++) {
                float pi = p[po + i];
                float gi = Math.fma(pi, wd, g[go + i] * scale);
                float bi = Math.fma(buf[bo + i], mom, gi * damp1);
                buf[bo + i] = bi;
                float d = nesterov ? Math.fma(bi, mom, gi) : bi;
                p[po + i] = Math.fma(d, negLr, pi);
            }
        } else {
            final MemorySegment p = b.segment(0), g = b.segment(1), buf = b.segment(2);
            for (long i = 0; i < n; i++) {
                float pi = p.getAtIndex(F, i);
                float gi = Math.fma(pi, wd, g.getAtIndex(F, i) * scale);
                float bi = Math.fma(buf.getAtIndex(F, i), mom, gi * damp1);
                buf.setAtIndex(F, i, bi);
                float d = nesterov ? Math.fma(bi, mom, gi) : bi;
                p.setAtIndex(F, i, Math.fma(d, negLr, pi));
            }
        }
    }
}
