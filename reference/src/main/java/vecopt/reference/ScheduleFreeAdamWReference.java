package vecopt.reference;

/**
 * Schedule-free AdamW as {@code facebookresearch/schedule_free}'s {@code schedulefree/adamw_schedulefree.py} states
 * it ({@code AdamWScheduleFree}: {@code step}'s per-tensor loop, {@code train()} and {@code eval()}), one element at a
 * time: the per-step scalars in double as the original's Python floats; each tensor operation in double, rounded to
 * float where the original's in-place float32 tensor op stores its result. The group's running scalars are
 * {@link Scalars}.
 */
public final class ScheduleFreeAdamWReference {
    /** The original's group scalars: {@code k}, {@code lr_max}, {@code weight_sum}, {@code train_mode}. */
    public static final class Scalars {
        public long k;
        public double lrMax = -1.0;
        public double weightSum;
        public boolean trainMode;

        /** The scalars as a checkpoint or an optimizer recorded them. */
        public static Scalars of(long k, double lrMax, double weightSum, boolean trainMode) {
            Scalars s = new Scalars();
            s.k = k;
            s.lrMax = lrMax;
            s.weightSum = weightSum;
            s.trainMode = trainMode;
            return s;
        }
    }

    /** One step's scalars, as the original computes them before its loop over the parameters. */
    public record StepScalars(double lr, double bc2, double ckp1) {
    }

    private ScheduleFreeAdamWReference() {
    }

    /**
     * The scalars of the group's next step, advancing {@code lr_max}, {@code weight_sum} and {@code k} (once per
     * step, as the original's per-group code).
     */
    public static StepScalars advance(Scalars s, double groupLr, double beta2, long warmupSteps, double r,
                                      double weightLrPower) {
        if (!s.trainMode) {
            throw new IllegalStateException("Optimizer was not in train mode when step is called.");
        }
        long k = s.k;
        double sched = k < warmupSteps ? (double) (k + 1) / warmupSteps : 1.0; // (k+1) / warmup_steps
        double bc2 = 1 - Math.pow(beta2, k + 1);                                 // 1 - beta2 ** (k+1)
        double lr = groupLr * sched;                                             // group['lr']*sched
        s.lrMax = Math.max(lr, s.lrMax);                                         // max(lr, group['lr_max'])
        double weight = Math.pow(k + 1, r) * Math.pow(s.lrMax, weightLrPower);   // ((k+1)**r) * (lr_max**wlp)
        s.weightSum = s.weightSum + weight;
        double ckp1 = s.weightSum == 0 ? 0 : weight / s.weightSum;              // ZeroDivisionError: ckp1 = 0
        s.k = k + 1;
        return new StepScalars(lr, bc2, ckp1);
    }

    /**
     * One step over elements {@code [from, to)}, in place, with this step's scalars ({@link #advance}); {@code first}
     * for the group's first step, where the original creates {@code z = clone(p)}.
     *
     * @param gradScale a factor applied to each gradient first (the clipping coefficient; 1 for none)
     */
    public static void step(float[] p, float[] g, float[] z, float[] v, int from, int to, StepScalars sc,
                            boolean first, double beta1, double beta2, double eps, double weightDecay,
                            double gradScale, boolean maximize) {
        for (int i = from; i < to; i++) {
            if (first) {
                z[i] = p[i];                                                    // state['z'] = clone(p)
            }
            float grad = (float) (g[i] * (double) (float) gradScale);           // clip_grad_norm_: grad.mul_(coef)
            if (maximize) {
                grad = -grad;
            }
            float vi = (float) (v[i] * beta2);                                  // exp_avg_sq.mul_(beta2)
            vi = (float) (vi + (1 - beta2) * grad * (double) grad);             // .addcmul_(grad, grad, 1-beta2)
            v[i] = vi;
            float denom = (float) (vi / sc.bc2());                              // exp_avg_sq.div(bias_correction2)
            denom = (float) Math.sqrt(denom);                                   // .sqrt_()
            denom = (float) (denom + eps);                                      // .add_(eps)
            float gn = (float) (grad / (double) denom);                         // grad.div_(denom)
            float y = p[i];
            if (weightDecay != 0) {
                gn = (float) (gn + weightDecay * y);                            // grad_normalized.add_(y, alpha=decay)
            }
            y = (float) (y + sc.ckp1() * ((double) z[i] - y));                  // y.lerp_(end=z, weight=ckp1)
            y = (float) (y + sc.lr() * (beta1 * (1 - sc.ckp1()) - 1) * gn);     // y.add_(gn, alpha=lr*(...))
            p[i] = y;
            z[i] = (float) (z[i] - sc.lr() * gn);                               // z.sub_(gn, alpha=lr)
        }
    }

    /**
     * {@code eval()} ({@code train} false) or {@code train()} over {@code [from, to)} of a group that has stepped:
     * {@code p.lerp_(end=z, weight=1-1/beta1)} (y to x) or {@code weight=1-beta1} (x to y). The caller sets
     * {@link Scalars#trainMode} (and leaves p alone for a group without z, as the original does).
     */
    public static void switchMode(float[] p, float[] z, int from, int to, double beta1, boolean train) {
        double w = train ? 1 - beta1 : 1 - 1 / beta1;
        for (int i = from; i < to; i++) {
            p[i] = (float) (p[i] + w * ((double) z[i] - p[i]));
        }
    }
}
