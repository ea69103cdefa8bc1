package vecopt.verification;

import static vecopt.verification.Traced.Precision.DOUBLE;
import static vecopt.verification.Traced.Precision.FLOAT;
import static vecopt.verification.Traced.add;
import static vecopt.verification.Traced.div;
import static vecopt.verification.Traced.doubleConstant;
import static vecopt.verification.Traced.exact;
import static vecopt.verification.Traced.floatConstant;
import static vecopt.verification.Traced.fma;
import static vecopt.verification.Traced.max;
import static vecopt.verification.Traced.mul;
import static vecopt.verification.Traced.sqrt;
import static vecopt.verification.Traced.sub;

/**
 * The tolerance for one element of an Adam-family step: the bound on |engine - exact| from tracing the engine's float
 * operations (see {@code AdamStep}'s javadoc for the sequence) plus the bound on |reference - exact| from tracing the
 * reference's double operations and its three float stores. Typically a few float ULPs of the terms involved.
 */
record AdamBound(double m, double v, double vmax, double p) {

    static AdamBound of(AdamConfig c, double lr, long t, float p0, float g0, float m0, float v0, float vmax0) {
        double bc1 = 1 - Math.pow(c.beta1(), t);
        double bc2 = 1 - Math.pow(c.beta2(), t);
        boolean l2 = !c.decoupled() && c.weightDecay() != 0;
        double decay = c.decoupled() ? 1 - lr * c.weightDecay() : 1;

        // Engine: float operations, hyperparameters rounded to float once per step.
        Traced g = mul(exact(g0), exact(c.signedScale()), FLOAT);
        if (l2) {
            g = fma(exact(p0), floatConstant(c.weightDecay()), g, FLOAT);
        }
        Traced m = fma(exact(m0), floatConstant(c.beta1()), mul(g, floatConstant(1 - c.beta1()), FLOAT), FLOAT);
        Traced v = fma(exact(v0), floatConstant(c.beta2()),
                mul(mul(g, floatConstant(1 - c.beta2()), FLOAT), g, FLOAT), FLOAT);
        Traced vm = c.amsgrad() ? max(exact(vmax0), v) : v;
        Traced d = fma(sqrt(vm, FLOAT), floatConstant(1 / Math.sqrt(bc2)), floatConstant(c.eps()), FLOAT);
        Traced p = fma(div(m, d, FLOAT), floatConstant(-lr / bc1), mul(exact(p0), floatConstant(decay), FLOAT), FLOAT);

        // Reference: double operations; m, v and p rounded to float where it stores them.
        Traced rg = mul(exact(g0), exact(c.signedScale()), DOUBLE);
        if (l2) {
            rg = add(rg, mul(doubleConstant(c.weightDecay()), exact(p0), DOUBLE), DOUBLE);
        }
        Traced rp = mul(exact(p0), doubleConstant(decay), DOUBLE);
        Traced rm = add(mul(doubleConstant(c.beta1()), exact(m0), DOUBLE),
                mul(doubleConstant(1 - c.beta1()), rg, DOUBLE), DOUBLE).round(FLOAT);
        Traced rv = add(mul(doubleConstant(c.beta2()), exact(v0), DOUBLE),
                mul(mul(doubleConstant(1 - c.beta2()), rg, DOUBLE), rg, DOUBLE), DOUBLE).round(FLOAT);
        Traced rvm = c.amsgrad() ? max(exact(vmax0), rv) : rv;
        Traced rd = add(div(sqrt(rvm, DOUBLE), doubleConstant(Math.sqrt(bc2)), DOUBLE), doubleConstant(c.eps()), DOUBLE);
        Traced rpNew = sub(rp, mul(doubleConstant(lr / bc1), div(rm, rd, DOUBLE), DOUBLE), DOUBLE).round(FLOAT);

        return new AdamBound(m.err() + rm.err(), v.err() + rv.err(), vm.err() + rvm.err(), p.err() + rpNew.err());
    }
}
