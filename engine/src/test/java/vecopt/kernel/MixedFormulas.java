package vecopt.kernel;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The formula templates {@link MixedKernelGenerator} expands into one file per optimizer ({@code MixedSgdPanama},
 * {@code MixedAdagradPanama}, ...): each optimizer's vector loop body as its {@code *Panama} class writes it for
 * float32 (the formula is the one its {@code *Step} class states), with the parameter and gradient loads and the
 * parameter store left to the storage stages. A body reads {@code p} (the parameter, or its float32 master copy,
 * widened) and {@code g0} (the gradient, widened, unscaled) at byte offset {@code o4} of the float32 state buffers,
 * and leaves the new parameter in {@code pNew}; the generator writes the stages around it.
 */
final class MixedFormulas {
    private MixedFormulas() {
    }

    /** The lists one after another. */
    @SafeVarargs
    static List<String> concat(List<String>... parts) {
        List<String> all = new java.util.ArrayList<>();
        for (List<String> p : parts) {
            all.addAll(p);
        }
        return List.copyOf(all);
    }

    /**
     * One loop of an optimizer: the method-name prefix, the state segments it declares (after {@code ps}, {@code gs}),
     * the loop-invariant set-up, the body, and whether the body reads the gradient {@code g0} (false for a pass that
     * only moves the parameters, as schedule-free AdamW's train/eval switch: its gradient is not loaded).
     */
    record Formula(String name, String segments, String setup, List<String> body, boolean readsGradient) {
        Formula(String name, String segments, String setup, List<String> body) {
            this(name, segments, setup, body, true);
        }
    }

    /**
     * An optimizer's generated class: its name, its step class, the scalar twin in {@link MixedScalar} that runs the
     * tail, and its loops, each under the condition (on the prepared step {@code k}) that selects it; the last one's
     * condition is null (the rest).
     */
    record Optimizer(String className, String stepClass, String scalarRange, String description,
                     List<String> conditions, List<Formula> loops) {
    }

    static final String SGD_SETUP = """
            final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
            final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
            final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
            final boolean useWd = k.useWeightDecay;
            """;

    static final String SGD_MOMENTUM_SETUP = SGD_SETUP + """
            final FloatVector mom = FloatVector.broadcast(SPECIES, k.momentum);
            final FloatVector damp1 = FloatVector.broadcast(SPECIES, k.oneMinusDampening);
            final boolean nesterov = k.nesterov;
            """;

    /** SGD ({@code SgdStep}): plain, the first momentum step (buffer = gradient), the later momentum steps. */
    static final Optimizer SGD = new Optimizer("MixedSgdPanama", "SgdStep", "sgdRange",
            "SGD's", Arrays.asList("!k.useMomentum", "k.firstStep", null),
            List.of(
                    new Formula("sgdPlain", "", SGD_SETUP, List.of(
                            "FloatVector g = g0.mul(scale);",
                            "if (useWd) {",
                            "    g = p.fma(wd, g);",
                            "}",
                            "FloatVector pNew = g.fma(negLr, p);")),
                    new Formula("sgdMomentumFirst", ", bs = c.state[0]", SGD_MOMENTUM_SETUP, List.of(
                            "FloatVector g = g0.mul(scale);",
                            "if (useWd) {",
                            "    g = p.fma(wd, g);",
                            "}",
                            "FloatVector buf = g; // PyTorch: the first step sets the buffer to the gradient",
                            "buf.intoMemorySegment(bs, o4, ORDER);",
                            "FloatVector d = nesterov ? buf.fma(mom, g) : buf;",
                            "FloatVector pNew = d.fma(negLr, p);")),
                    new Formula("sgdMomentum", ", bs = c.state[0]", SGD_MOMENTUM_SETUP, List.of(
                            "FloatVector g = g0.mul(scale);",
                            "if (useWd) {",
                            "    g = p.fma(wd, g);",
                            "}",
                            "FloatVector buf = FloatVector.fromMemorySegment(SPECIES, bs, o4, ORDER).fma(mom, g.mul(damp1));",
                            "buf.intoMemorySegment(bs, o4, ORDER);",
                            "FloatVector d = nesterov ? buf.fma(mom, g) : buf;",
                            "FloatVector pNew = d.fma(negLr, p);"))));

    /** Adagrad ({@code AdagradStep}). */
    static final Optimizer ADAGRAD = new Optimizer("MixedAdagradPanama", "AdagradStep", "adagradRange", "Adagrad's",
            Collections.singletonList(null), List.of(
                    new Formula("adagrad", ", ss = c.state[0]", """
                            final FloatVector negClr = FloatVector.broadcast(SPECIES, k.negClr);
                            final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
                            final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
                            final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
                            final boolean useWd = k.useWeightDecay;
                            """, List.of(
                            "FloatVector g = g0.mul(scale);",
                            "if (useWd) {",
                            "    g = p.fma(wd, g);",
                            "}",
                            "FloatVector sum = g.fma(g, FloatVector.fromMemorySegment(SPECIES, ss, o4, ORDER));",
                            "sum.intoMemorySegment(ss, o4, ORDER);",
                            "FloatVector std = sum.lanewise(VectorOperators.SQRT).add(eps);",
                            "FloatVector pNew = g.div(std).fma(negClr, p);"))));

    static final String RMSPROP_CENTERED_MOMENTUM_SEGMENTS = ", ss = c.state[0];\n"
            + "        final MemorySegment as = c.state[k.gradAvg], bs = c.state[k.momentumBuffer]";

    static final String RMSPROP_CENTERED_MOMENTUM_SETUP = """
            final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
            final FloatVector alpha = FloatVector.broadcast(SPECIES, k.alpha);
            final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusAlpha);
            final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
            final FloatVector mom = FloatVector.broadcast(SPECIES, k.momentum);
            final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
            """;

    /** RMSprop's centered-with-momentum body after the gradient (and its weight decay): every load first. */
    static final List<String> RMSPROP_CENTERED_MOMENTUM_BODY = List.of(
            "FloatVector sa = sa0.fma(alpha, g.mul(c1).mul(g));",
            "FloatVector ga = ga0.fma(alpha, g.mul(c1));",
            "FloatVector d = b0.fma(mom, g.div(sa.sub(ga.mul(ga)).lanewise(VectorOperators.SQRT).add(eps)));",
            "sa.intoMemorySegment(ss, o4, ORDER);",
            "ga.intoMemorySegment(as, o4, ORDER);",
            "d.intoMemorySegment(bs, o4, ORDER);",
            "FloatVector pNew = d.fma(negLr, p);");

    static final List<String> RMSPROP_CENTERED_MOMENTUM_LOADS = List.of(
            "FloatVector g = g0.mul(scale);",
            "FloatVector sa0 = FloatVector.fromMemorySegment(SPECIES, ss, o4, ORDER);",
            "FloatVector ga0 = FloatVector.fromMemorySegment(SPECIES, as, o4, ORDER);",
            "FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, bs, o4, ORDER);");

    /**
     * RMSprop ({@code RmspropStep}), as the float32 loops: centered with momentum in two loops of its own (without and
     * with weight decay, every load first), the other variants in one loop whose variants are loop-invariant flags.
     */
    static final Optimizer RMSPROP = new Optimizer("MixedRmspropPanama", "RmspropStep", "rmspropRange",
            "RMSprop's", Arrays.asList("k.centered && k.useMomentum && !k.useWeightDecay",
                    "k.centered && k.useMomentum", null), List.of(
                    new Formula("rmspropCenteredMomentum", RMSPROP_CENTERED_MOMENTUM_SEGMENTS,
                            RMSPROP_CENTERED_MOMENTUM_SETUP, concat(RMSPROP_CENTERED_MOMENTUM_LOADS,
                                    RMSPROP_CENTERED_MOMENTUM_BODY)),
                    new Formula("rmspropCenteredMomentumWeightDecay", RMSPROP_CENTERED_MOMENTUM_SEGMENTS,
                            RMSPROP_CENTERED_MOMENTUM_SETUP
                                    + "final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);\n",
                            concat(RMSPROP_CENTERED_MOMENTUM_LOADS, List.of("g = p.fma(wd, g);"),
                                    RMSPROP_CENTERED_MOMENTUM_BODY)),
                    new Formula("rmsprop", ", ss = c.state[0];\n"
                            + "        final MemorySegment as = k.centered ? c.state[k.gradAvg] : null;\n"
                            + "        final MemorySegment bs = k.useMomentum ? c.state[k.momentumBuffer] : null", """
                            final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
                            final FloatVector alpha = FloatVector.broadcast(SPECIES, k.alpha);
                            final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusAlpha);
                            final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
                            final FloatVector mom = FloatVector.broadcast(SPECIES, k.momentum);
                            final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
                            final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
                            final boolean useWd = k.useWeightDecay, centered = k.centered, useMom = k.useMomentum;
                            """, List.of(
                            "FloatVector g = g0.mul(scale);",
                            "if (useWd) {",
                            "    g = p.fma(wd, g);",
                            "}",
                            "FloatVector sa = FloatVector.fromMemorySegment(SPECIES, ss, o4, ORDER).fma(alpha, g.mul(c1).mul(g));",
                            "sa.intoMemorySegment(ss, o4, ORDER);",
                            "FloatVector var = sa;",
                            "if (centered) {",
                            "    FloatVector ga = FloatVector.fromMemorySegment(SPECIES, as, o4, ORDER).fma(alpha, g.mul(c1));",
                            "    ga.intoMemorySegment(as, o4, ORDER);",
                            "    var = sa.sub(ga.mul(ga));",
                            "}",
                            "FloatVector d = g.div(var.lanewise(VectorOperators.SQRT).add(eps));",
                            "if (useMom) {",
                            "    d = FloatVector.fromMemorySegment(SPECIES, bs, o4, ORDER).fma(mom, d);",
                            "    d.intoMemorySegment(bs, o4, ORDER);",
                            "}",
                            "FloatVector pNew = d.fma(negLr, p);"))));

    static final String ADAMAX_SETUP = """
            final FloatVector negClr = FloatVector.broadcast(SPECIES, k.negClr);
            final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1);
            final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
            final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2);
            final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
            final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
            """;

    /** Adamax's body after the gradient (and its weight decay). */
    static final List<String> ADAMAX_BODY = List.of(
            "FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, o4, ORDER).fma(b1, g.mul(c1));",
            "FloatVector u = FloatVector.fromMemorySegment(SPECIES, us, o4, ORDER).mul(b2).max(g.abs().add(eps));",
            "m.intoMemorySegment(ms, o4, ORDER);",
            "u.intoMemorySegment(us, o4, ORDER);",
            "FloatVector pNew = m.div(u).fma(negClr, p);");

    /** Adamax ({@code AdamaxStep}), as the float32 loops: without and with weight decay, one loop each. */
    static final Optimizer ADAMAX = new Optimizer("MixedAdamaxPanama", "AdamaxStep", "adamaxRange", "Adamax's",
            Arrays.asList("!k.useWeightDecay", null), List.of(
                    new Formula("adamax", ", ms = c.state[0], us = c.state[1]", ADAMAX_SETUP,
                            concat(List.of("FloatVector g = g0.mul(scale);"), ADAMAX_BODY)),
                    new Formula("adamaxWeightDecay", ", ms = c.state[0], us = c.state[1]", ADAMAX_SETUP
                            + "final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);\n",
                            concat(List.of("FloatVector g = p.fma(wd, g0.mul(scale));"), ADAMAX_BODY))));

    static final String ADAM_LIKE_SETUP = """
            final FloatVector decay = FloatVector.broadcast(SPECIES, k.decay);
            final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
            final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1);
            final FloatVector o1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
            final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2);
            final FloatVector o2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
            final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
            final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
            """;

    /** NAdam ({@code NAdamStep}). */
    static final Optimizer NADAM = new Optimizer("MixedNAdamPanama", "NAdamStep", "nadamRange", "NAdam's",
            Collections.singletonList(null), List.of(
                    new Formula("nadam", ", ms = c.state[0], vs = c.state[1]", ADAM_LIKE_SETUP + """
                            final FloatVector bc2 = FloatVector.broadcast(SPECIES, k.bc2);
                            final FloatVector c1 = FloatVector.broadcast(SPECIES, k.c1);
                            final FloatVector c2 = FloatVector.broadcast(SPECIES, k.c2);
                            final boolean useL2 = k.useL2;
                            """, List.of(
                            "FloatVector g = g0.mul(scale);",
                            "if (useL2) {",
                            "    g = p.fma(wd, g);",
                            "}",
                            "p = p.mul(decay);",
                            "FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, o4, ORDER).fma(b1, g.mul(o1));",
                            "FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, o4, ORDER).fma(b2, g.mul(o2).mul(g));",
                            "m.intoMemorySegment(ms, o4, ORDER);",
                            "v.intoMemorySegment(vs, o4, ORDER);",
                            "FloatVector d = v.div(bc2).lanewise(VectorOperators.SQRT).add(eps);",
                            "FloatVector pNew = m.div(d).fma(c2, g.div(d).fma(c1, p));"))));

    /** RAdam ({@code RAdamStep}). */
    static final Optimizer RADAM = new Optimizer("MixedRAdamPanama", "RAdamStep", "radamRange", "RAdam's",
            Collections.singletonList(null), List.of(
                    new Formula("radam", ", ms = c.state[0], vs = c.state[1]", ADAM_LIKE_SETUP + """
                            final FloatVector negK = FloatVector.broadcast(SPECIES, k.negK);
                            final boolean useL2 = k.useL2, rectified = k.rectified;
                            """, List.of(
                            "FloatVector g = g0.mul(scale);",
                            "if (useL2) {",
                            "    g = p.fma(wd, g);",
                            "}",
                            "p = p.mul(decay);",
                            "FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, o4, ORDER).fma(b1, g.mul(o1));",
                            "FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, o4, ORDER).fma(b2, g.mul(o2).mul(g));",
                            "m.intoMemorySegment(ms, o4, ORDER);",
                            "v.intoMemorySegment(vs, o4, ORDER);",
                            "FloatVector d = rectified ? m.div(v.lanewise(VectorOperators.SQRT).add(eps)) : m;",
                            "FloatVector pNew = d.fma(negK, p);"))));

    /**
     * ASGD ({@code AsgdStep}). The average {@code ax} takes the new parameter as computed in float32 (the master
     * copy's value), not its 16-bit rounding, so that it is the float32 step's average.
     */
    static final Optimizer ASGD = new Optimizer("MixedAsgdPanama", "AsgdStep", "asgdRange", "ASGD's",
            Collections.singletonList(null), List.of(
                    new Formula("asgd", ", as = c.state[0]", """
                            final FloatVector decay = FloatVector.broadcast(SPECIES, k.decay);
                            final FloatVector negEta = FloatVector.broadcast(SPECIES, k.negEta);
                            final FloatVector mu = FloatVector.broadcast(SPECIES, k.mu);
                            final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
                            final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
                            final boolean useWd = k.useWeightDecay, average = k.average;
                            """, List.of(
                            "FloatVector g = g0.mul(scale);",
                            "if (useWd) {",
                            "    g = p.fma(wd, g);",
                            "}",
                            "FloatVector pNew = g.fma(negEta, p.mul(decay));",
                            "if (average) {",
                            "    FloatVector ax = FloatVector.fromMemorySegment(SPECIES, as, o4, ORDER);",
                            "    ax.add(pNew.sub(ax).mul(mu)).intoMemorySegment(as, o4, ORDER);",
                            "} else {",
                            "    pNew.intoMemorySegment(as, o4, ORDER);",
                            "}"))));

    static final String RPROP_SETUP = """
            final FloatVector etaMinus = FloatVector.broadcast(SPECIES, k.etaMinus);
            final FloatVector etaPlus = FloatVector.broadcast(SPECIES, k.etaPlus);
            final IntVector lo = IntVector.broadcast(INTS, Float.floatToRawIntBits(k.stepMin));
            final IntVector hi = IntVector.broadcast(INTS, Float.floatToRawIntBits(k.stepMax));
            final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
            final FloatVector one = FloatVector.broadcast(SPECIES, 1f), minusOne = FloatVector.broadcast(SPECIES, -1f);
            final FloatVector zero = FloatVector.zero(SPECIES);
            """;

    /**
     * Rprop's body ({@code RpropPanama}'s, the clamp on the floats' bits as there) with {@code stepSizes} the
     * expression of the old step sizes: the state's, or the lr on the first step.
     */
    static List<String> rpropBody(String stepSizes) {
        return List.of(
                "FloatVector g = g0.mul(scale);",
                "FloatVector s = g.mul(FloatVector.fromMemorySegment(SPECIES, prevs, o4, ORDER));",
                "var neg = s.compare(VectorOperators.LT, 0f);",
                "FloatVector f = one.blend(etaPlus, s.compare(VectorOperators.GT, 0f)).blend(etaMinus, neg);",
                "FloatVector x = " + stepSizes + ".mul(f);",
                "FloatVector ss = x.reinterpretAsInts().max(lo).min(hi).reinterpretAsFloats()",
                "        .blend(x, x.test(VectorOperators.IS_NAN));",
                "ss.intoMemorySegment(sss, o4, ORDER);",
                "g = g.blend(zero, neg);",
                "FloatVector u = g.blend(one, g.compare(VectorOperators.GT, 0f))",
                "        .blend(minusOne, g.compare(VectorOperators.LT, 0f));",
                "FloatVector pNew = u.fma(ss.neg(), p);",
                "g.intoMemorySegment(prevs, o4, ORDER);");
    }

    /**
     * Rprop ({@code RpropStep}): the first step (the step sizes start at the lr, the state only written) and the
     * later steps, a loop each as in the float32 kernel ({@code RpropPanama} says why).
     */
    static final Optimizer RPROP = new Optimizer("MixedRpropPanama", "RpropStep", "rpropRange", "Rprop's",
            Arrays.asList("k.firstStep", null), List.of(
                    new Formula("rpropFirst", ", prevs = c.state[0], sss = c.state[1]", RPROP_SETUP
                            + "final FloatVector lr = FloatVector.broadcast(SPECIES, k.lr);\n", rpropBody("lr")),
                    new Formula("rprop", ", prevs = c.state[0], sss = c.state[1]", RPROP_SETUP,
                            rpropBody("FloatVector.fromMemorySegment(SPECIES, sss, o4, ORDER)"))));

    /**
     * Adadelta ({@code AdadeltaStep}): every load before the first store, as {@code AdadeltaPanama} orders them (its
     * note says why).
     */
    static final Optimizer ADADELTA = new Optimizer("MixedAdadeltaPanama", "AdadeltaStep", "adadeltaRange",
            "Adadelta's", Collections.singletonList(null), List.of(
                    new Formula("adadelta", ", ss = c.state[0], as = c.state[1]", """
                            final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
                            final FloatVector rho = FloatVector.broadcast(SPECIES, k.rho);
                            final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusRho);
                            final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
                            final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
                            final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
                            final boolean useWd = k.useWeightDecay;
                            """, List.of(
                            "FloatVector ad = FloatVector.fromMemorySegment(SPECIES, as, o4, ORDER);",
                            "FloatVector sa0 = FloatVector.fromMemorySegment(SPECIES, ss, o4, ORDER);",
                            "FloatVector g = g0.mul(scale);",
                            "if (useWd) {",
                            "    g = p.fma(wd, g);",
                            "}",
                            "FloatVector sa = sa0.fma(rho, g.mul(c1).mul(g));",
                            "FloatVector d = ad.add(eps).lanewise(VectorOperators.SQRT)",
                            "        .div(sa.add(eps).lanewise(VectorOperators.SQRT)).mul(g);",
                            "sa.intoMemorySegment(ss, o4, ORDER);",
                            "ad.fma(rho, d.mul(c1).mul(d)).intoMemorySegment(as, o4, ORDER);",
                            "FloatVector pNew = d.fma(negLr, p);"))));

    /**
     * Lion ({@code LionStep}), from the float32 loop of {@code LionPanama} as it stands ({@code Math.signum} per lane
     * as two compares and two blends).
     */
    static final Optimizer LION = new Optimizer("MixedLionPanama", "LionStep", "lionRange", "Lion's",
            Collections.singletonList(null), List.of(
                    new Formula("lion", ", ms = c.state[0]", """
                            final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
                            final FloatVector decay = FloatVector.broadcast(SPECIES, k.decay);
                            final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1);
                            final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
                            final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2);
                            final FloatVector c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
                            final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
                            final FloatVector one = FloatVector.broadcast(SPECIES, 1f), minusOne = FloatVector.broadcast(SPECIES, -1f);
                            """, List.of(
                            "FloatVector g = g0.mul(scale);",
                            "FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, o4, ORDER);",
                            "FloatVector u = m.fma(b1, g.mul(c1));",
                            "u = u.blend(one, u.compare(VectorOperators.GT, 0f)).blend(minusOne, u.compare(VectorOperators.LT, 0f));",
                            "FloatVector pNew = u.fma(negLr, p.mul(decay));",
                            "m.fma(b2, g.mul(c2)).intoMemorySegment(ms, o4, ORDER);"))));

    /**
     * Schedule-free AdamW ({@code ScheduleFreeStep}): the train/eval switch and the step, from
     * {@code ScheduleFreePanama}'s loops (weight decay and the lerp's branch as loop-invariant masks, as there). The
     * parameter the body reads is y in train mode (the master copy where there is one); the first step's
     * {@code z = y} is a blend of the parameter into the lanes of z (the state is 0 then), as the float32 loop's read
     * of z from the parameters. The switch, {@code p = lerp(p, z, w)}, reads no gradient, and does nothing for a
     * group that has not stepped (no z yet): its loop returns before it starts, as the scalar twin does.
     */
    static final Optimizer SCHEDULE_FREE = new Optimizer("MixedScheduleFreePanama", "ScheduleFreeStep",
            "scheduleFreeRange", "Schedule-free AdamW's", Arrays.asList("k.switching", null), List.of(
                    new Formula("scheduleFreeSwitch", ", zs = c.state[0]", """
                            if (!k.moves) {
                                return;
                            }
                            final FloatVector lc = FloatVector.broadcast(SPECIES, k.lerpCoef);
                            final var fromEnd = SPECIES.maskAll(k.lerpFromEnd);
                            """, List.of(
                            "FloatVector z = FloatVector.fromMemorySegment(SPECIES, zs, o4, ORDER);",
                            "FloatVector pNew = z.sub(p).fma(lc, p.blend(z, fromEnd));"), false),
                    new Formula("scheduleFree", ", zs = c.state[0], vs = c.state[1]", """
                            final var first = SPECIES.maskAll(k.first);
                            final var fromEnd = SPECIES.maskAll(k.lerpFromEnd);
                            final var decay = SPECIES.maskAll(k.useWeightDecay);
                            final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2);
                            final FloatVector c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
                            final FloatVector bc2 = FloatVector.broadcast(SPECIES, k.bc2);
                            final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
                            final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
                            final FloatVector lc = FloatVector.broadcast(SPECIES, k.lerpCoef);
                            final FloatVector yc = FloatVector.broadcast(SPECIES, k.yCoef);
                            final FloatVector negLr = FloatVector.broadcast(SPECIES, k.negLr);
                            final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
                            """, List.of(
                            "FloatVector g = g0.mul(scale);",
                            "FloatVector z = FloatVector.fromMemorySegment(SPECIES, zs, o4, ORDER).blend(p, first);",
                            "FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, o4, ORDER).fma(b2, g.mul(c2).mul(g));",
                            "FloatVector u = g.div(v.div(bc2).lanewise(VectorOperators.SQRT).add(eps));",
                            "u = u.blend(p.fma(wd, u), decay);",
                            "FloatVector yl = z.sub(p).fma(lc, p.blend(z, fromEnd));",
                            "FloatVector pNew = u.fma(yc, yl);",
                            "u.fma(negLr, z).intoMemorySegment(zs, o4, ORDER);",
                            "v.intoMemorySegment(vs, o4, ORDER);"))));

    /**
     * A pass that reduces: per element the update {@code u} (as the loop's formula computes it, leaving it in
     * {@code u#}) and the sums of {@code u^2} and {@code p^2} in double, added to the chunk's two halves of its norm
     * slot. The body reads {@code p#} (the parameter: the master copy where there is one, else the stored
     * parameters, widened), {@code g0#} (the gradient, widened, unscaled) at byte offset {@code o4#} of the float32
     * state buffers; the generator replaces {@code #} by the copy's suffix, as the wide loop repeats the body once per
     * accumulator chain. {@code half}: the body runs on {@code PanamaKernels.HALF} vectors (one double vector's lanes)
     * in blocks of 8, one chain per half vector, then half vector by half vector into chain 0 ({@code LarsPanama}'s
     * shape); else on whole float vectors, each widened in two halves into two chains ({@code LambPanama}'s). Either
     * way the chains are added in the float32 loop's order, so the sums are bitwise the float32 kernel's on the same
     * values.
     */
    record Reduction(String name, String segments, String setup, List<String> body, boolean half) {
    }

    /**
     * A layer-wise optimizer's generated class: pass 1, a {@link Reduction}, and pass 2, a {@link Formula} whose loop
     * also takes the tensor's factor ({@code float factor}), with the scalar twins of both passes in
     * {@link MixedScalar}; {@code stateNote} says in its Javadoc which state value the update takes with bfloat16
     * state. A reduction's state stores are rounded and the update then takes the stored values (so that pass 2,
     * reading them back, recomputes the update whose norm pass 1 summed); pass 2's state stores, as an elementwise
     * formula's, are rounded while the update takes the value as computed.
     */
    record Layerwise(String className, String stepClass, String normsScalar, String applyScalar, String description,
                     Reduction norms, Formula apply, String stateNote) {
    }

    /** LAMB ({@code LambStep}), from {@code LambPanama}'s two loops. */
    static final Layerwise LAMB = new Layerwise("MixedLambPanama", "LambStep", "lambNorms", "lambApply", "LAMB's",
            new Reduction("lambNorms", ", ms = c.state[0], vs = c.state[1]", """
                    final FloatVector b1 = FloatVector.broadcast(SPECIES, k.beta1);
                    final FloatVector c1 = FloatVector.broadcast(SPECIES, k.oneMinusBeta1);
                    final FloatVector b2 = FloatVector.broadcast(SPECIES, k.beta2);
                    final FloatVector c2 = FloatVector.broadcast(SPECIES, k.oneMinusBeta2);
                    final FloatVector ib1 = FloatVector.broadcast(SPECIES, k.invBc1);
                    final FloatVector ib2 = FloatVector.broadcast(SPECIES, k.invBc2);
                    final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
                    final FloatVector epsRoot = FloatVector.broadcast(SPECIES, k.epsRoot);
                    final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
                    final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
                    """, List.of(
                    "FloatVector g# = g0#.mul(scale);",
                    "FloatVector m# = FloatVector.fromMemorySegment(SPECIES, ms, o4#, ORDER).fma(b1, g#.mul(c1));",
                    "FloatVector v# = FloatVector.fromMemorySegment(SPECIES, vs, o4#, ORDER).fma(b2, g#.mul(c2).mul(g#));",
                    "m#.intoMemorySegment(ms, o4#, ORDER);",
                    "v#.intoMemorySegment(vs, o4#, ORDER);",
                    "FloatVector u# = p#.fma(wd, m#.mul(ib1).div(v#.mul(ib2).add(epsRoot).lanewise(VectorOperators.SQRT).add(eps)));"),
                    false),
            new Formula("lambApply", ", ms = c.state[0], vs = c.state[1]", """
                    final FloatVector ib1 = FloatVector.broadcast(SPECIES, k.invBc1);
                    final FloatVector ib2 = FloatVector.broadcast(SPECIES, k.invBc2);
                    final FloatVector eps = FloatVector.broadcast(SPECIES, k.eps);
                    final FloatVector epsRoot = FloatVector.broadcast(SPECIES, k.epsRoot);
                    final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
                    final FloatVector f = FloatVector.broadcast(SPECIES, factor);
                    """, List.of(
                    "FloatVector m = FloatVector.fromMemorySegment(SPECIES, ms, o4, ORDER);",
                    "FloatVector v = FloatVector.fromMemorySegment(SPECIES, vs, o4, ORDER);",
                    "FloatVector u = p.fma(wd, m.mul(ib1).div(v.mul(ib2).add(epsRoot).lanewise(VectorOperators.SQRT).add(eps)));",
                    "FloatVector pNew = u.fma(f, p);"), false),
            "pass 1's update takes the moments as stored (their rounding,\n"
                    + " * widened), as AdamW's does, so pass 2 reads them back and recomputes it bit for bit.");

    /**
     * LARS ({@code LarsStep}), from {@code LarsPanama}'s two loops: pass 1 on half vectors in eight accumulator
     * chains per sum (the note there says why), pass 2 the update with the trace.
     */
    static final Layerwise LARS = new Layerwise("MixedLarsPanama", "LarsStep", "larsNorms", "larsApply", "LARS's",
            new Reduction("larsNorms", "", """
                    final FloatVector wd = FloatVector.broadcast(HALF, k.weightDecay);
                    final FloatVector scale = FloatVector.broadcast(HALF, k.gradScale);
                    """, List.of(
                    "FloatVector u# = p#.fma(wd, g0#.mul(scale));"), true),
            new Formula("larsApply", ", ts = c.state[0]", """
                    final FloatVector wd = FloatVector.broadcast(SPECIES, k.weightDecay);
                    final FloatVector scale = FloatVector.broadcast(SPECIES, k.gradScale);
                    final FloatVector mom = FloatVector.broadcast(SPECIES, k.momentum);
                    final FloatVector f = FloatVector.broadcast(SPECIES, factor);
                    final boolean nesterov = k.nesterov;
                    """, List.of(
                    "FloatVector u = p.fma(wd, g0.mul(scale)).mul(f);",
                    "FloatVector t = FloatVector.fromMemorySegment(SPECIES, ts, o4, ORDER).fma(mom, u);",
                    "t.intoMemorySegment(ts, o4, ORDER);",
                    "FloatVector pNew = p.add(nesterov ? t.fma(mom, u) : t);")),
            "the parameters move by the new trace as computed in float32,\n"
                    + " * before its rounding, as SGD's by its momentum buffer (pass 1 reads no state).");

    // ---- 8-bit block-quantized state: the same templates, their state loads and stores made the 8-bit stage's ------

    /**
     * A state variable of an optimizer's 8-bit loops: the template's segment name ({@code bs}), the expression of its
     * index in {@code c.state}, whether it is coded as its square root (the unsigned code, for a non-negative
     * variable) rather than as itself (the signed code), and the condition (on {@code k}) under which a group keeps
     * it, or null for always.
     */
    record Coded(String segment, String index, boolean root, String when) {
    }

    /**
     * An optimizer's 8-bit state class: its name, step class, the scalar twins in {@link MixedScalar} (the range, run
     * on each block's last elements, and the block's scales from its largest codes and gradient), the condition
     * under which the bound takes the parameters ({@code g + wd p}; null where it never does), its coded variables
     * in state order, and its loops (templates of {@link #ALL}'s), each under the condition that selects it.
     */
    record EightBit(String className, String stepClass, String scalarRange, String scales, String description,
                    String l2, List<Coded> variables, List<String> conditions, List<Formula> loops) {
    }

    /**
     * {@code body} without the block that starts with the line {@code opening} (through its closing brace at the
     * same indentation): a variant the 8-bit state refuses (RMSprop's momentum) left out of the template it shares.
     */
    static List<String> without(List<String> body, String opening) {
        List<String> out = new java.util.ArrayList<>();
        boolean skipping = false;
        for (String line : body) {
            if (line.equals(opening)) {
                skipping = true;
            } else if (skipping && line.equals("}")) {
                skipping = false;
            } else if (!skipping) {
                out.add(line);
            }
        }
        return List.copyOf(out);
    }

    /** SGD with momentum: the first step's loop and the later steps' (momentum 0 keeps no state: refused). */
    static final EightBit SGD_8BIT = new EightBit("EightBitSgdPanama", "SgdStep", "sgdRange", "sgdScales", "SGD's",
            "k.useWeightDecay", List.of(new Coded("bs", "0", false, null)), Arrays.asList("k.firstStep", null),
            SGD.loops().subList(1, 3));

    /** Lion: exp_avg, stored as {@code beta2 m + (1 - beta2) g}. */
    static final EightBit LION_8BIT = new EightBit("EightBitLionPanama", "LionStep", "lionRange", "lionScales",
            "Lion's", null, List.of(new Coded("ms", "0", false, null)), Collections.singletonList(null), LION.loops());

    /**
     * RMSprop without momentum (its loop with the momentum block left out; the optimizer refuses momentum with 8-bit
     * state): square_avg coded as its square root, centered's grad_avg as itself.
     */
    static final EightBit RMSPROP_8BIT = new EightBit("EightBitRmspropPanama", "RmspropStep", "rmspropRange",
            "rmspropScales", "RMSprop's", "k.useWeightDecay", List.of(new Coded("ss", "0", true, null),
                    new Coded("as", "k.gradAvg", false, "k.centered")), Collections.singletonList(null),
            List.of(new Formula("rmsprop", ", ss = c.state[0];\n"
                    + "        final MemorySegment as = k.centered ? c.state[k.gradAvg] : null", RMSPROP.loops().get(2).setup(),
                    without(RMSPROP.loops().get(2).body(), "if (useMom) {"))));

    /** Adagrad: sum coded as its square root. */
    static final EightBit ADAGRAD_8BIT = new EightBit("EightBitAdagradPanama", "AdagradStep", "adagradRange",
            "adagradScales", "Adagrad's", "k.useWeightDecay", List.of(new Coded("ss", "0", true, null)),
            Collections.singletonList(null), ADAGRAD.loops());

    /**
     * NAdam: Adam's moments, exp_avg coded as itself and exp_avg_sq as its square root; the bound takes the
     * parameters where the decay enters the gradient (L2), not for decoupled decay. The update uses the new moments as
     * computed in float32, before they are coded: the generated loops' convention, and Adam's too (its hand-wired
     * loop codes m and sqrt(v) after the update has read them), so the two conventions are one here.
     */
    static final EightBit NADAM_8BIT = new EightBit("EightBitNAdamPanama", "NAdamStep", "nadamRange", "nadamScales",
            "NAdam's", "k.useL2", List.of(new Coded("ms", "0", false, null), new Coded("vs", "1", true, null)),
            Collections.singletonList(null), NADAM.loops());

    /** RAdam: NAdam's moments and bound; its one loop takes both branches (rectified or the momentum step). */
    static final EightBit RADAM_8BIT = new EightBit("EightBitRAdamPanama", "RAdamStep", "radamRange", "radamScales",
            "RAdam's", "k.useL2", List.of(new Coded("ms", "0", false, null), new Coded("vs", "1", true, null)),
            Collections.singletonList(null), RADAM.loops());

    /**
     * Adamax: exp_avg coded as itself; exp_inf, non-negative, as its square root (the unsigned code of Adam's
     * exp_avg_sq: never 0 for a positive value, so m / u never divides by a zero that was not there); its two loops
     * (without and with weight decay) as the float32 kernel's.
     */
    static final EightBit ADAMAX_8BIT = new EightBit("EightBitAdamaxPanama", "AdamaxStep", "adamaxRange",
            "adamaxScales", "Adamax's", "k.useWeightDecay", List.of(new Coded("ms", "0", false, null),
                    new Coded("us", "1", true, null)), ADAMAX.conditions(), ADAMAX.loops());

    /**
     * Rprop: prev (the scaled gradient, 0 where its sign flipped) coded as itself; step_size, positive, as its square
     * root (the unsigned code never codes a positive value 0); the first step's loop and the later steps', as the
     * float32 kernel's.
     */
    static final EightBit RPROP_8BIT = new EightBit("EightBitRpropPanama", "RpropStep", "rpropRange", "rpropScales",
            "Rprop's", null, List.of(new Coded("prevs", "0", false, null), new Coded("sss", "1", true, null)),
            RPROP.conditions(), RPROP.loops());

    /** Every optimizer the generator writes an 8-bit state class for. */
    static final List<EightBit> EIGHT_BIT = List.of(SGD_8BIT, LION_8BIT, RMSPROP_8BIT, ADAGRAD_8BIT, NADAM_8BIT,
            RADAM_8BIT, ADAMAX_8BIT, RPROP_8BIT);

    /** Every optimizer the generator writes a file for, in the order of the mixed-precision issue. */
    static final List<Optimizer> ALL = List.of(SGD, ADAGRAD, RMSPROP, ADAMAX, NADAM, RADAM, ASGD, RPROP, ADADELTA,
            LION, SCHEDULE_FREE);

    /** Every layer-wise optimizer the generator writes a file for. */
    static final List<Layerwise> LAYERWISE = List.of(LAMB, LARS);

    // ---- 8-bit block-quantized state of the layer-wise optimizers: LAMB's and LARS's templates, 8-bit stage -------

    /**
     * A layer-wise optimizer's 8-bit state class: its name, its float32 templates ({@code base}), its coded variables
     * in state order, and its scalar twins in {@link MixedScalar}: the block scales (a bound known before the pass
     * that stores the state; {@code scalesTakeFactor}: they also take the tensor's factor, known only between the
     * passes), the pass-1 block driver (null where pass 1 reads no state) and the pass-2 one. {@code l2}: the
     * condition under which the bound takes the parameters' largest magnitude (null: never). The pass that stores
     * the state sets the block's scales; where that is pass 1 (LAMB) pass 2 decodes against the scales pass 1 set.
     */
    record LayerwiseEightBit(String className, Layerwise base, List<Coded> variables, String scales,
                             boolean scalesTakeFactor, String l2, String quantizedNorms, String quantizedApply) {
    }

    /** LAMB: {@code mu} as itself (signed), {@code nu} as its square root, Adam's bounds; pass 1 stores them. */
    static final LayerwiseEightBit LAMB_8BIT = new LayerwiseEightBit("EightBitLambPanama", LAMB,
            List.of(new Coded("ms", "0", false, null), new Coded("vs", "1", true, null)), "lambScales", false, null,
            "lambQuantizedNorms", "lambQuantizedApply");

    /** LARS: {@code trace} as itself (signed), its bound taking the factor; pass 2 stores it, pass 1 reads no state. */
    static final LayerwiseEightBit LARS_8BIT = new LayerwiseEightBit("EightBitLarsPanama", LARS,
            List.of(new Coded("ts", "0", false, null)), "larsScales", true, "k.weightDecay != 0f", null,
            "larsQuantizedApply");

    /** Every layer-wise optimizer the generator writes an 8-bit state class for. */
    static final List<LayerwiseEightBit> LAYERWISE_EIGHT_BIT = List.of(LAMB_8BIT, LARS_8BIT);
}
