package vecopt.reference;

/**
 * Adafactor as Hugging Face's {@code transformers.optimization.Adafactor.step} ({@code src/transformers/optimization.py})
 * states it, one tensor at a time, in double; the tensors HF keeps ({@code exp_avg_sq_row}, {@code exp_avg_sq_col},
 * {@code exp_avg_sq}, {@code exp_avg}, the parameter) are rounded to float where HF stores them. Each line names the
 * HF statement it transcribes.
 */
public final class AdafactorReference {
    /** HF's options ({@code lr} and {@code beta1} null for None); {@code lrFactor} is vecopt's step lr times lrScale. */
    public record Options(Double lr, double eps1, double eps2, double clipThreshold, double decayRate, Double beta1,
                          double weightDecay, boolean scaleParameter, boolean relativeStep, boolean warmupInit) {
    }

    /** One tensor's state under HF's names; {@code rms} and {@code lr} are the last step's. */
    public static final class State {
        public long step;
        public float[] expAvgSqRow;
        public float[] expAvgSqCol;
        public float[] expAvgSq;
        public float[] expAvg;
        public double rms;
        public double lr;
    }

    private AdafactorReference() {
    }

    /** HF's state initialization for a gradient of shape {@code shape}: zeros. */
    public static State init(long[] shape, Options o) {
        State s = new State();
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (o.beta1() != null) {
            s.expAvg = new float[(int) n];                             // zeros_like(grad)
        }
        if (shape.length >= 2) {                                      // factored = len(shape) >= 2
            long c = shape[shape.length - 1], r = shape[shape.length - 2];
            s.expAvgSqRow = new float[(int) (n / c)];                 // zeros(grad_shape[:-1])
            s.expAvgSqCol = new float[(int) (n / r)];                 // zeros(grad_shape[:-2] + grad_shape[-1:])
        } else {
            s.expAvgSq = new float[(int) n];                          // zeros_like(grad)
        }
        return s;
    }

    /**
     * One step of one tensor, in place.
     *
     * @param lrFactor  vecopt's factor of HF's learning rate (the step's lr times lrScale; 1 for HF)
     * @param gradScale a factor applied to each gradient first (the clipping coefficient; 1 for none)
     */
    public static void step(float[] p, float[] g, long[] shape, State s, Options o, double lrFactor, double gradScale,
                            boolean maximize) {
        final int n = p.length;
        double[] grad = new double[n];
        for (int i = 0; i < n; i++) {
            grad[i] = g[i] * (double) (float) gradScale * (maximize ? -1 : 1);
        }
        s.step += 1;                                                  // state["step"] += 1
        s.rms = rms(toDouble(p));                                     // state["RMS"] = self._rms(p_data_fp32)
        double relStepSz = o.relativeStep() ? 0 : o.lr();            // _get_lr: rel_step_sz = param_group["lr"]
        if (o.relativeStep()) {
            double minStep = o.warmupInit() ? 1e-6 * s.step : 1e-2;
            relStepSz = Math.min(minStep, 1.0 / Math.sqrt(s.step));
        }
        relStepSz *= lrFactor;
        double paramScale = 1.0;
        if (o.scaleParameter()) {
            paramScale = Math.max(o.eps2(), s.rms);                   // max(eps[1], state["RMS"])
        }
        double lr = paramScale * relStepSz;
        s.lr = lr;
        double beta2t = 1.0 - Math.pow(s.step, o.decayRate());        // 1.0 - math.pow(step, decay_rate)
        double[] update = new double[n];
        for (int i = 0; i < n; i++) {
            update[i] = grad[i] * grad[i] + o.eps1();                 // (grad**2) + eps[0]
        }
        if (shape.length >= 2) {
            int c = (int) shape[shape.length - 1], r = (int) shape[shape.length - 2], batches = n / (r * c);
            float[] row = s.expAvgSqRow, col = s.expAvgSqCol;
            for (int b = 0; b < batches; b++) {
                for (int i = 0; i < r; i++) {                         // exp_avg_sq_row.mul_(beta2t).add_(update.mean(dim=-1), alpha=1 - beta2t)
                    double sum = 0;
                    for (int j = 0; j < c; j++) {
                        sum += update[(b * r + i) * c + j];
                    }
                    row[b * r + i] = (float) (row[b * r + i] * beta2t + (sum / c) * (1.0 - beta2t));
                }
                for (int j = 0; j < c; j++) {                         // exp_avg_sq_col ... update.mean(dim=-2)
                    double sum = 0;
                    for (int i = 0; i < r; i++) {
                        sum += update[(b * r + i) * c + j];
                    }
                    col[b * c + j] = (float) (col[b * c + j] * beta2t + (sum / r) * (1.0 - beta2t));
                }
                double rowMean = 0;                                   // exp_avg_sq_row.mean(dim=-1, keepdim=True)
                for (int i = 0; i < r; i++) {
                    rowMean += row[b * r + i];
                }
                rowMean /= r;
                for (int i = 0; i < r; i++) {                         // _approx_sq_grad(...), then update.mul_(grad)
                    double rFactor = 1 / Math.sqrt(row[b * r + i] / rowMean);
                    for (int j = 0; j < c; j++) {
                        double cFactor = 1 / Math.sqrt(col[b * c + j]);
                        int k = (b * r + i) * c + j;
                        update[k] = rFactor * cFactor * grad[k];
                    }
                }
            }
        } else {
            float[] v = s.expAvgSq;
            for (int i = 0; i < n; i++) {                             // exp_avg_sq.mul_(beta2t).add_(update, alpha=1 - beta2t)
                v[i] = (float) (v[i] * beta2t + update[i] * (1.0 - beta2t));
                update[i] = 1 / Math.sqrt(v[i]) * grad[i];            // exp_avg_sq.rsqrt().mul_(grad)
            }
        }
        double clip = Math.max(rms(update) / o.clipThreshold(), 1.0); // (self._rms(update) / clip_threshold).clamp_(min=1.0)
        for (int i = 0; i < n; i++) {
            update[i] = update[i] / clip * lr;                        // update.div_(...); update.mul_(lr)
        }
        if (o.beta1() != null) {
            double b1 = o.beta1();
            for (int i = 0; i < n; i++) {                             // exp_avg.mul_(beta1).add_(update, alpha=1 - beta1)
                s.expAvg[i] = (float) (s.expAvg[i] * b1 + update[i] * (1 - b1));
                update[i] = s.expAvg[i];                              // update = exp_avg
            }
        }
        for (int i = 0; i < n; i++) {
            if (o.weightDecay() != 0) {                               // p.add_(p, alpha=-weight_decay * lr)
                p[i] = (float) (p[i] + p[i] * (-o.weightDecay() * lr));
            }
            p[i] = (float) (p[i] - update[i]);                        // p.add_(-update)
        }
    }

    /** HF's {@code _rms}: {@code tensor.norm(2) / (tensor.numel() ** 0.5)}. */
    static double rms(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v * v;
        }
        return Math.sqrt(s) / Math.sqrt(x.length);
    }

    private static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }
}
