package vecopt.verification;

import static vecopt.verification.Traced.Precision.DOUBLE;
import static vecopt.verification.Traced.Precision.FLOAT;
import static vecopt.verification.Traced.add;
import static vecopt.verification.Traced.doubleConstant;
import static vecopt.verification.Traced.exact;
import static vecopt.verification.Traced.floatConstant;
import static vecopt.verification.Traced.fma;
import static vecopt.verification.Traced.mul;
import static vecopt.verification.Traced.sub;

/** The tolerance for one element of an SGD step: engine trace bound plus reference trace bound (see {@link Traced}). */
record SgdBound(double buf, double p) {

    static SgdBound of(SgdConfig c, double lr, boolean first, float p0, float g0, float buf0) {
        Traced g = mul(exact(g0), exact(c.signedScale()), FLOAT);
        if (c.weightDecay() != 0) {
            g = fma(exact(p0), floatConstant(c.weightDecay()), g, FLOAT);
        }
        Traced d = g;
        Traced b = exact(0);
        if (c.momentum() != 0) {
            b = first ? g : fma(exact(buf0), floatConstant(c.momentum()), mul(g, floatConstant(1 - c.dampening()), FLOAT), FLOAT);
            d = c.nesterov() ? fma(b, floatConstant(c.momentum()), g, FLOAT) : b;
        }
        Traced p = fma(d, floatConstant(-lr), exact(p0), FLOAT);

        Traced rg = mul(exact(g0), exact(c.signedScale()), DOUBLE);
        if (c.weightDecay() != 0) {
            rg = add(rg, mul(doubleConstant(c.weightDecay()), exact(p0), DOUBLE), DOUBLE);
        }
        Traced rd = rg;
        Traced rb = exact(0);
        if (c.momentum() != 0) {
            rb = first ? rg.round(FLOAT) : add(mul(doubleConstant(c.momentum()), exact(buf0), DOUBLE),
                    mul(doubleConstant(1 - c.dampening()), rg, DOUBLE), DOUBLE).round(FLOAT);
            rd = c.nesterov() ? add(rg, mul(doubleConstant(c.momentum()), rb, DOUBLE), DOUBLE) : rb;
        }
        Traced rp = sub(exact(p0), mul(doubleConstant(lr), rd, DOUBLE), DOUBLE).round(FLOAT);
        return new SgdBound(b.err() + rb.err(), p.err() + rp.err());
    }
}
