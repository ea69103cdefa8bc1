package vecopt.checkpoint;

import java.util.List;
import vecopt.optim.AdadeltaOptions;
import vecopt.optim.AdafactorOptions;
import vecopt.optim.AdagradOptions;
import vecopt.optim.AdamaxOptions;
import vecopt.optim.AsgdOptions;
import vecopt.optim.GroupOptions;
import vecopt.optim.LambOptions;
import vecopt.optim.LarsOptions;
import vecopt.optim.LionOptions;
import vecopt.optim.NAdamOptions;
import vecopt.optim.RAdamOptions;
import vecopt.optim.RmspropOptions;
import vecopt.optim.RpropOptions;
import vecopt.optim.ScheduleFreeAdamWOptions;

/**
 * The options of a group of one of the optimizers added after AdamW, Adam and SGD, as a checkpoint records them:
 * PyTorch's option names (optax's for LAMB and LARS, Hugging Face's for Adafactor; {@code trust_ratio} is LARS's {@code trust_ratio_mask} for the
 * group, {@code max_weight_norm} LAMB's clamp, not optax's, an infinite value written as the string
 * {@code "Infinity"}) (a pair such as {@code betas} or {@code etas} as two numbers, {@code beta1} and
 * {@code beta2} as the Adam encoding has them), and for each whether a checkpoint may be resumed with another value
 * (the difference is reported) or not (the state's meaning or presence would differ). {@code lr_scale} and
 * {@code maximize} are every group's and handled by the caller.
 */
final class OptionFields {
    /** What a different value on resume means. */
    enum Rule {
        /** Allowed, and reported in {@link Restored#differences()}. */
        MAY_DIFFER,
        /** Refused: the state's meaning differs (RMSprop's centered). */
        MUST_MATCH,
        /** Zero and non-zero refused (a state buffer exists only for non-zero), other values reported. */
        ZERO_MUST_MATCH
    }

    /**
     * One option: a number, or a flag when {@code flag} is not null. An {@code optional} number may be absent (HF's
     * {@code None}, JSON {@code null}: {@code none}); its {@code rule} then says whether present on one side only is
     * refused ({@link Rule#MUST_MATCH}) or reported, and two present values may always differ.
     */
    record Field(String name, double number, Boolean flag, Rule rule, boolean optional, boolean none) {
        static Field num(String name, double value) {
            return new Field(name, value, null, Rule.MAY_DIFFER, false, false);
        }

        static Field num(String name, double value, Rule rule) {
            return new Field(name, value, null, rule, false, false);
        }

        static Field flag(String name, boolean value, Rule rule) {
            return new Field(name, Double.NaN, value, rule, false, false);
        }

        /** A number that may be None ({@code value} null); {@code rule} applies to None on one side only. */
        static Field optional(String name, Double value, Rule rule) {
            return new Field(name, value == null ? Double.NaN : value, null, rule, true, value == null);
        }

        String json() {
            if (none) {
                return "null";
            }
            if (flag != null) {
                return flag.toString();
            }
            // JSON has no infinity (LAMB's max_weight_norm is infinite by default): written as a string
            return Double.isInfinite(number) ? Json.quote(Double.toString(number)) : Double.toString(number);
        }
    }

    /** How {@link Field#json()} writes an infinite number, and all a reader takes as a string for a number. */
    static final java.util.Set<String> INFINITIES = java.util.Set.of("Infinity", "-Infinity");

    private OptionFields() {
    }

    /** The fields of {@code o}, in the order the JSON lists them; null for AdamW/Adam and SGD (encoded apart). */
    static List<Field> of(GroupOptions o) {
        return switch (o) {
            case AdagradOptions a -> List.of(Field.num("lr_decay", a.lrDecay()), Field.num("weight_decay",
                    a.weightDecay()), Field.num("initial_accumulator_value", a.initialAccumulatorValue()),
                    Field.num("eps", a.eps()));
            case RmspropOptions r -> List.of(Field.num("alpha", r.alpha()), Field.num("eps", r.eps()),
                    Field.num("weight_decay", r.weightDecay()),
                    Field.num("momentum", r.momentum(), Rule.ZERO_MUST_MATCH),
                    Field.flag("centered", r.centered(), Rule.MUST_MATCH));
            case LionOptions l -> List.of(Field.num("beta1", l.beta1()), Field.num("beta2", l.beta2()),
                    Field.num("weight_decay", l.weightDecay()));
            case AdamaxOptions a -> List.of(Field.num("beta1", a.beta1()), Field.num("beta2", a.beta2()),
                    Field.num("eps", a.eps()), Field.num("weight_decay", a.weightDecay()));
            case NAdamOptions n -> List.of(Field.num("beta1", n.beta1()), Field.num("beta2", n.beta2()),
                    Field.num("eps", n.eps()), Field.num("weight_decay", n.weightDecay()),
                    Field.num("momentum_decay", n.momentumDecay()),
                    Field.flag("decoupled_weight_decay", n.decoupledWeightDecay(), Rule.MAY_DIFFER));
            case RAdamOptions r -> List.of(Field.num("beta1", r.beta1()), Field.num("beta2", r.beta2()),
                    Field.num("eps", r.eps()), Field.num("weight_decay", r.weightDecay()),
                    Field.flag("decoupled_weight_decay", r.decoupledWeightDecay(), Rule.MAY_DIFFER));
            case AdadeltaOptions a -> List.of(Field.num("rho", a.rho()), Field.num("eps", a.eps()),
                    Field.num("weight_decay", a.weightDecay()));
            case RpropOptions r -> List.of(Field.num("eta_minus", r.etaMinus()), Field.num("eta_plus", r.etaPlus()),
                    Field.num("step_size_min", r.stepSizeMin()), Field.num("step_size_max", r.stepSizeMax()));
            case AsgdOptions a -> List.of(Field.num("lambd", a.lambd()), Field.num("alpha", a.alpha()),
                    Field.num("t0", a.t0()), Field.num("weight_decay", a.weightDecay()));
            // optax's names. mu and nu mean the same under any of LAMB's options, and LARS keeps its trace for every
            // group whatever its options (optax keeps it at momentum 0 too): every option may differ.
            case LambOptions l -> List.of(Field.num("b1", l.b1()), Field.num("b2", l.b2()), Field.num("eps", l.eps()),
                    Field.num("eps_root", l.epsRoot()), Field.num("weight_decay", l.weightDecay()),
                    Field.num("max_weight_norm", l.maxWeightNorm()));
            case LarsOptions l -> List.of(Field.num("weight_decay", l.weightDecay()),
                    Field.num("trust_coefficient", l.trustCoefficient()), Field.num("eps", l.eps()),
                    Field.flag("trust_ratio", l.trustRatio(), Rule.MAY_DIFFER), Field.num("momentum", l.momentum()),
                    Field.flag("nesterov", l.nesterov(), Rule.MAY_DIFFER));
            case ScheduleFreeAdamWOptions f -> List.of(Field.num("beta1", f.beta1()), Field.num("beta2", f.beta2()),
                    Field.num("eps", f.eps()), Field.num("weight_decay", f.weightDecay()),
                    Field.num("warmup_steps", f.warmupSteps()), Field.num("r", f.r()),
                    Field.num("weight_lr_power", f.weightLrPower()));
            // Hugging Face's names (transformers' Adafactor); its eps pair as eps1 and eps2. lr None is the relative
            // step (HF's default), reported when it changes; beta1 None keeps no exp_avg: refused on one side only.
            case AdafactorOptions a -> List.of(Field.optional("lr", a.lr(), Rule.MAY_DIFFER),
                    Field.num("eps1", a.eps1()), Field.num("eps2", a.eps2()),
                    Field.num("clip_threshold", a.clipThreshold()), Field.num("decay_rate", a.decayRate()),
                    Field.optional("beta1", a.beta1(), Rule.MUST_MATCH), Field.num("weight_decay", a.weightDecay()),
                    Field.flag("scale_parameter", a.scaleParameter(), Rule.MAY_DIFFER),
                    Field.flag("relative_step", a.relativeStep(), Rule.MAY_DIFFER),
                    Field.flag("warmup_init", a.warmupInit(), Rule.MAY_DIFFER));
            default -> null;
        };
    }

    /** The JSON object of {@code fields}, then {@code lr_scale} and {@code maximize}. */
    static String json(List<Field> fields, GroupOptions o) {
        StringBuilder b = new StringBuilder("{");
        for (Field f : fields) {
            b.append(Json.quote(f.name())).append(':').append(f.json()).append(',');
        }
        return b.append("\"lr_scale\":").append(o.lrScale()).append(",\"maximize\":").append(o.maximize())
                .append('}').toString();
    }
}
