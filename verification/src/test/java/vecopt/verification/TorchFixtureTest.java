package vecopt.verification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vecopt.verification.Traced.Precision.FLOAT;
import static vecopt.verification.Traced.add;
import static vecopt.verification.Traced.div;
import static vecopt.verification.Traced.exact;
import static vecopt.verification.Traced.floatConstant;
import static vecopt.verification.Traced.mul;
import static vecopt.verification.Traced.sqrt;
import static vecopt.verification.Traced.sub;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import vecopt.checkpoint.Checkpoint;
import vecopt.checkpoint.Restored;
import vecopt.memory.Storage;
import vecopt.optim.AdamOptions;
import vecopt.optim.AdamW;
import vecopt.optim.Asgd;
import vecopt.optim.AsgdOptions;
import vecopt.optim.NAdam;
import vecopt.optim.NAdamOptions;
import vecopt.optim.Optimizer;
import vecopt.optim.Sgd;
import vecopt.optim.SgdOptions;
import vecopt.param.ParamSet;
import vecopt.param.Tensor;

/**
 * Checkpoints made by PyTorch ({@code tools/torch_checkpoint.py make-fixture}: a tiny model trained 3 steps by
 * {@code torch.optim.AdamW}, by {@code torch.optim.SGD} with momentum, by {@code NAdam} and by {@code ASGD} (whose
 * per-tensor scalar state the converter writes as vecopt's per-group scalars), converted to vecopt's format by that
 * script's own safetensors writer) load into vecopt, and vecopt's step 4 from them equals PyTorch's step 4 (saved in
 * the same files) within a derived bound: the engine's bound from the suite ({@link AdamBound}, {@link SgdBound}:
 * engine plus double reference) plus a trace of PyTorch's own float32 operation sequence
 * ({@code _single_tensor_adam} / {@code _single_tensor_sgd} on the CPU), each operation rounded once. Where the order
 * of PyTorch's fused kernels ({@code addcmul}, {@code addcdiv}) is not certain, the larger bound of the two orders
 * is taken.
 */
class TorchFixtureTest {
    static final String[] NAMES = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
    static final int[] SIZES = {12, 4, 8, 2};

    static Path fixture(String name) throws URISyntaxException {
        return Path.of(TorchFixtureTest.class.getResource("/torch/" + name).toURI());
    }

    static ParamSet model() {
        ParamSet.Builder b = ParamSet.builder();
        for (int i = 0; i < NAMES.length; i++) {
            b.add(NAMES[i], Storage.of(new float[SIZES[i]]), Storage.of(new float[SIZES[i]]), 0, SIZES[i]);
        }
        return b.build();
    }

    static boolean bias(Tensor t) {
        return t.name().endsWith(".bias");
    }

    /** Loads the fixture, copies PyTorch's step-4 gradients in, steps; returns the restored extras. */
    static Restored loadAndStep(Path file, Optimizer<?> opt, Map<String, float[]> before) throws IOException {
        Restored r = Checkpoint.load(file, opt);
        assertEquals(3, r.globalStep());
        assertTrue(r.strings().get("torch.version").matches("\\d+\\.\\d+.*"), "made by PyTorch: " + r.strings());
        for (Tensor t : opt.params().tensors()) {
            before.put(t.name(), t.params().toArray(0, (int) t.length()));
            for (String s : opt.stateNames()) {
                before.put(t.name() + "/" + s, opt.state(t.name(), s).toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT));
            }
            t.grads().copyFrom(r.tensors().get("torch/next_grad/" + t.name()), 0);
        }
        opt.step(Double.parseDouble(r.strings().get("torch.next_lr")));
        return r;
    }

    @Test
    void adamWStepFourFromAPyTorchCheckpointIsPyTorchs() throws Exception {
        AdamOptions o = new AdamOptions(0.9, 0.999, 1e-8, 0.01, false, 1.0);
        ParamSet set = model();
        try (AdamW opt = AdamW.builder(set).options(o).group("no_decay", o.withWeightDecay(0), TorchFixtureTest::bias)
                .threads(1).build()) {
            Map<String, float[]> before = new LinkedHashMap<>();
            Restored r = loadAndStep(fixture("torch-adamw.safetensors"), opt, before);
            double lr = Double.parseDouble(r.strings().get("torch.next_lr"));
            int compared = 0;
            for (Tensor t : set.tensors()) {
                double wd = bias(t) ? 0 : o.weightDecay();
                AdamConfig c = new AdamConfig(true, o.beta1(), o.beta2(), o.eps(), wd, false, 1.0, false);
                float[] p0 = before.get(t.name()), m0 = before.get(t.name() + "/exp_avg");
                float[] v0 = before.get(t.name() + "/exp_avg_sq");
                float[] g = r.tensors().get("torch/next_grad/" + t.name());
                float[] torchP = r.tensors().get("torch/next_param/" + t.name());
                float[] torchM = r.tensors().get("torch/next_state/" + t.name() + "/exp_avg");
                float[] torchV = r.tensors().get("torch/next_state/" + t.name() + "/exp_avg_sq");
                float[] p = t.params().toArray(0, (int) t.length());
                float[] m = opt.state(t.name(), "exp_avg").toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
                float[] v = opt.state(t.name(), "exp_avg_sq").toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
                for (int i = 0; i < p.length; i++) {
                    AdamBound engine = AdamBound.of(c, lr, 4, p0[i], g[i], m0[i], v0[i], 0);
                    Traced[] torch = torchAdamW(c, lr, 4, p0[i], g[i], m0[i], v0[i]);
                    String at = t.name() + "[" + i + "]";
                    Check.within("exp_avg", at, m[i], torchM[i], engine.m() + torch[0].err());
                    Check.within("exp_avg_sq", at, v[i], torchV[i], engine.v() + torch[1].err());
                    Check.within("param", at, p[i], torchP[i], engine.p() + torch[2].err());
                    compared++;
                }
            }
            assertEquals(26, compared);
        }
    }

    /** PyTorch's float32 AdamW step as it runs on the CPU: {m, v, p} traced. */
    static Traced[] torchAdamW(AdamConfig c, double lr, long t, float p0, float g0, float m0, float v0) {
        Traced p = c.weightDecay() != 0 ? mul(exact(p0), floatConstant(1 - lr * c.weightDecay()), FLOAT) : exact(p0);
        Traced g = exact(g0);
        // exp_avg.lerp_(grad, 1 - beta1): weight < 0.5, so self + weight * (end - self)
        Traced m = add(exact(m0), mul(floatConstant(1 - c.beta1()), sub(g, exact(m0), FLOAT), FLOAT), FLOAT);
        // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        Traced vs = mul(exact(v0), floatConstant(c.beta2()), FLOAT);
        Traced a1 = mul(mul(floatConstant(1 - c.beta2()), g, FLOAT), g, FLOAT);
        Traced a2 = mul(floatConstant(1 - c.beta2()), mul(g, g, FLOAT), FLOAT);
        Traced v = add(vs, a1.err() >= a2.err() ? a1 : a2, FLOAT);
        double bc1 = 1 - Math.pow(c.beta1(), t), bc2 = 1 - Math.pow(c.beta2(), t);
        // denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps); param.addcdiv_(exp_avg, denom, -step_size)
        Traced d = add(div(sqrt(v, FLOAT), floatConstant(Math.sqrt(bc2)), FLOAT), floatConstant(c.eps()), FLOAT);
        Traced q1 = div(mul(floatConstant(-lr / bc1), m, FLOAT), d, FLOAT);
        Traced q2 = mul(floatConstant(-lr / bc1), div(m, d, FLOAT), FLOAT);
        Traced pNew = add(p, q1.err() >= q2.err() ? q1 : q2, FLOAT);
        return new Traced[] {m, v, pNew};
    }

    /**
     * ASGD's per-group scalars come from PyTorch's per-tensor {@code eta} and {@code mu} (t0 1: mu is 1/2 after
     * step 3, so step 4 averages): vecopt's step 4 is PyTorch's within the bounds, and the eta and mu it leaves for
     * step 5 are PyTorch's bit for bit (both compute them in double from the same float inputs and round once).
     */
    @Test
    void asgdStepFourFromAPyTorchCheckpointIsPyTorchs() throws Exception {
        AsgdOptions o = AsgdOptions.DEFAULTS.withLambd(0.05).withAlpha(0.75).withT0(1).withWeightDecay(1e-4);
        ParamSet set = model();
        try (Asgd opt = Asgd.builder(set).options(o).group("no_decay", o.withWeightDecay(0), TorchFixtureTest::bias)
                .threads(1).build()) {
            Map<String, float[]> before = new LinkedHashMap<>();
            Restored r = Checkpoint.load(fixture("torch-asgd.safetensors"), opt);
            // the converter's guard setting (PROCEED) differs; every option of every group is PyTorch's
            assertEquals(java.util.List.of("on_non_finite PROCEED -> SKIP"), r.differences());
            float eta = (float) opt.eta("default"), mu = (float) opt.mu("default"); // as PyTorch left them
            assertEquals(0.5f, mu, "mu after step 3 with t0 1: 1 / max(1, 3 - 1)");
            assertEquals(eta, (float) opt.eta("no_decay"));
            restep(fixture("torch-asgd.safetensors"), opt, before, r);
            int compared = 0;
            for (Tensor t : set.tensors()) {
                double wd = bias(t) ? 0 : o.weightDecay();
                AsgdProperties.Config c = new AsgdProperties.Config(o.lambd(), o.alpha(), o.t0(), wd, 1.0, false);
                float[] p0 = before.get(t.name()), ax0 = before.get(t.name() + "/ax");
                float[] g = r.tensors().get("torch/next_grad/" + t.name());
                float[] torchP = r.tensors().get("torch/next_param/" + t.name());
                float[] torchAx = r.tensors().get("torch/next_state/" + t.name() + "/ax");
                assertEquals(r.tensors().get("torch/next_state/" + t.name() + "/eta")[0],
                        (float) opt.eta(group(t)), "eta for step 5");
                assertEquals(r.tensors().get("torch/next_state/" + t.name() + "/mu")[0],
                        (float) opt.mu(group(t)), "mu for step 5");
                float[] p = t.params().toArray(0, (int) t.length());
                float[] ax = opt.state(t.name(), "ax").toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
                for (int i = 0; i < p.length; i++) {
                    double[] engine = AsgdProperties.bound(c, eta, mu, p0[i], g[i], ax0[i]);
                    // grad.add(param, alpha=wd); param.mul_(1 - lambd * eta); param.add_(grad, alpha=-eta);
                    // ax.add_(param.sub(ax).mul_(mu)): each a float operation, rounded once
                    Traced tg = wd != 0 ? add(exact(g[i]), mul(floatConstant(wd), exact(p0[i]), FLOAT), FLOAT)
                            : exact(g[i]);
                    Traced tp = add(mul(exact(p0[i]), floatConstant(1 - o.lambd() * eta), FLOAT),
                            mul(exact(-eta), tg, FLOAT), FLOAT);
                    Traced tax = add(exact(ax0[i]), mul(sub(tp, exact(ax0[i]), FLOAT), exact(mu), FLOAT), FLOAT);
                    String at = t.name() + "[" + i + "]";
                    Check.within("param", at, p[i], torchP[i], engine[0] + tp.err());
                    Check.within("ax", at, ax[i], torchAx[i], engine[1] + tax.err());
                    compared++;
                }
            }
            assertEquals(26, compared);
        }
    }

    /**
     * NAdam's {@code mu_product} comes from PyTorch's per-tensor state: vecopt's step 4 is PyTorch's within the
     * bounds, and the mu_product after it is PyTorch's bit for bit (a float32 product in both).
     */
    @Test
    void nadamStepFourFromAPyTorchCheckpointIsPyTorchs() throws Exception {
        NAdamOptions o = NAdamOptions.DEFAULTS.withWeightDecay(0.01);
        ParamSet set = model();
        try (NAdam opt = NAdam.builder(set).options(o).group("no_decay", o.withWeightDecay(0), TorchFixtureTest::bias)
                .threads(1).build()) {
            Map<String, float[]> before = new LinkedHashMap<>();
            Restored r = Checkpoint.load(fixture("torch-nadam.safetensors"), opt);
            // the converter's guard setting (PROCEED) differs; every option of every group is PyTorch's
            assertEquals(java.util.List.of("on_non_finite PROCEED -> SKIP"), r.differences());
            restep(fixture("torch-nadam.safetensors"), opt, before, r);
            double lr = Double.parseDouble(r.strings().get("torch.next_lr"));
            int compared = 0;
            for (Tensor t : set.tensors()) {
                double wd = bias(t) ? 0 : o.weightDecay();
                NAdamProperties.Config c = new NAdamProperties.Config(o.beta1(), o.beta2(), o.eps(), wd,
                        o.momentumDecay(), false, 1.0, false);
                float muProduct = (float) opt.muProduct(group(t));
                assertEquals(r.tensors().get("torch/next_state/" + t.name() + "/mu_product")[0], muProduct,
                        "mu_product after step 4");
                float[] p0 = before.get(t.name()), m0 = before.get(t.name() + "/exp_avg");
                float[] v0 = before.get(t.name() + "/exp_avg_sq");
                float[] g = r.tensors().get("torch/next_grad/" + t.name());
                float[] torchP = r.tensors().get("torch/next_param/" + t.name());
                float[] torchM = r.tensors().get("torch/next_state/" + t.name() + "/exp_avg");
                float[] torchV = r.tensors().get("torch/next_state/" + t.name() + "/exp_avg_sq");
                float[] p = t.params().toArray(0, (int) t.length());
                float[] m = opt.state(t.name(), "exp_avg").toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
                float[] v = opt.state(t.name(), "exp_avg_sq").toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
                for (int i = 0; i < p.length; i++) {
                    double[] engine = NAdamProperties.bound(c, lr, 4, muProduct, p0[i], g[i], m0[i], v0[i]);
                    Traced[] torch = torchNAdam(c, lr, 4, muProduct, p0[i], g[i], m0[i], v0[i]);
                    String at = t.name() + "[" + i + "]";
                    Check.within("exp_avg", at, m[i], torchM[i], engine[0] + torch[0].err());
                    Check.within("exp_avg_sq", at, v[i], torchV[i], engine[1] + torch[1].err());
                    Check.within("param", at, p[i], torchP[i], engine[2] + torch[2].err());
                    compared++;
                }
            }
            assertEquals(26, compared);
        }
    }

    /** PyTorch's float32 NAdam step (L2 decay) as it runs on the CPU: {m, v, p} traced. */
    static Traced[] torchNAdam(NAdamProperties.Config c, double lr, long t, float muProduct, float p0, float g0,
                               float m0, float v0) {
        double bc2 = 1 - Math.pow(c.beta2(), t);
        double mu = c.beta1() * (1. - 0.5 * Math.pow(0.96, t * c.momentumDecay()));
        double muNext = c.beta1() * (1. - 0.5 * Math.pow(0.96, (t + 1) * c.momentumDecay()));
        double c1 = -lr * (1 - mu) / (1 - muProduct), c2 = (-lr * muNext) / (1 - muProduct * muNext);
        Traced g = c.weightDecay() != 0
                ? add(exact(g0), mul(floatConstant(c.weightDecay()), exact(p0), FLOAT), FLOAT) : exact(g0);
        Traced m = add(exact(m0), mul(floatConstant(1 - c.beta1()), sub(g, exact(m0), FLOAT), FLOAT), FLOAT);
        Traced vs = mul(exact(v0), floatConstant(c.beta2()), FLOAT);
        Traced a1 = mul(mul(floatConstant(1 - c.beta2()), g, FLOAT), g, FLOAT);
        Traced a2 = mul(floatConstant(1 - c.beta2()), mul(g, g, FLOAT), FLOAT);
        Traced v = add(vs, a1.err() >= a2.err() ? a1 : a2, FLOAT);
        // denom = exp_avg_sq.div(bias_correction2).sqrt(); denom.add_(eps); then two addcdiv_ with scalar values
        Traced d = add(sqrt(div(v, floatConstant(bc2), FLOAT), FLOAT), floatConstant(c.eps()), FLOAT);
        Traced p1 = add(exact(p0), larger(div(mul(floatConstant(c1), g, FLOAT), d, FLOAT),
                mul(floatConstant(c1), div(g, d, FLOAT), FLOAT)), FLOAT);
        Traced p = add(p1, larger(div(mul(floatConstant(c2), m, FLOAT), d, FLOAT),
                mul(floatConstant(c2), div(m, d, FLOAT), FLOAT)), FLOAT);
        return new Traced[] {m, v, p};
    }

    /** Of two orders of one fused PyTorch kernel, the trace with the larger bound. */
    private static Traced larger(Traced a, Traced b) {
        return a.err() >= b.err() ? a : b;
    }

    private static String group(Tensor t) {
        return bias(t) ? "no_decay" : "default";
    }

    /** As {@link #loadAndStep}, for a checkpoint already loaded into {@code opt} as {@code r}. */
    private static void restep(Path file, Optimizer<?> opt, Map<String, float[]> before, Restored r) {
        assertEquals(3, r.globalStep(), file.toString());
        for (Tensor t : opt.params().tensors()) {
            before.put(t.name(), t.params().toArray(0, (int) t.length()));
            for (String s : opt.stateNames()) {
                before.put(t.name() + "/" + s, opt.state(t.name(), s).toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT));
            }
            t.grads().copyFrom(r.tensors().get("torch/next_grad/" + t.name()), 0);
        }
        opt.step(Double.parseDouble(r.strings().get("torch.next_lr")));
    }

    @Test
    void sgdMomentumStepFourFromAPyTorchCheckpointIsPyTorchs() throws Exception {
        SgdOptions o = new SgdOptions(0.9, 0, 1e-4, false, 1.0);
        ParamSet set = model();
        try (Sgd opt = Sgd.builder(set).options(o).group("no_decay", o.withWeightDecay(0), TorchFixtureTest::bias)
                .threads(1).build()) {
            Map<String, float[]> before = new LinkedHashMap<>();
            Restored r = loadAndStep(fixture("torch-sgd.safetensors"), opt, before);
            double lr = Double.parseDouble(r.strings().get("torch.next_lr"));
            int compared = 0;
            for (Tensor t : set.tensors()) {
                double wd = bias(t) ? 0 : o.weightDecay();
                SgdConfig c = new SgdConfig(o.momentum(), o.dampening(), wd, false, 1.0, false);
                float[] p0 = before.get(t.name()), b0 = before.get(t.name() + "/momentum_buffer");
                float[] g = r.tensors().get("torch/next_grad/" + t.name());
                float[] torchP = r.tensors().get("torch/next_param/" + t.name());
                float[] torchB = r.tensors().get("torch/next_state/" + t.name() + "/momentum_buffer");
                float[] p = t.params().toArray(0, (int) t.length());
                float[] b = opt.state(t.name(), "momentum_buffer").toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
                for (int i = 0; i < p.length; i++) {
                    SgdBound engine = SgdBound.of(c, lr, false, p0[i], g[i], b0[i]);
                    // d_p = grad.add(param, alpha=wd); buf.mul_(momentum).add_(d_p, alpha=1 - dampening);
                    // param.add_(buf, alpha=-lr)
                    Traced dp = wd != 0 ? add(exact(g[i]), mul(floatConstant(wd), exact(p0[i]), FLOAT), FLOAT)
                            : exact(g[i]);
                    Traced buf = add(mul(exact(b0[i]), floatConstant(c.momentum()), FLOAT),
                            mul(floatConstant(1 - c.dampening()), dp, FLOAT), FLOAT);
                    Traced pNew = add(exact(p0[i]), mul(floatConstant(-lr), buf, FLOAT), FLOAT);
                    String at = t.name() + "[" + i + "]";
                    Check.within("momentum_buffer", at, b[i], torchB[i], engine.buf() + buf.err());
                    Check.within("param", at, p[i], torchP[i], engine.p() + pNew.err());
                    compared++;
                }
            }
            assertEquals(26, compared);
        }
    }
}
