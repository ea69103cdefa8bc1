package vecopt.bench;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What each benchmark measures, for the figures: the kernel's name, which implementation ran it, the state bytes it
 * moves per parameter, and the memory ceiling it is read against. Bytes per parameter count each array read once and
 * each array written once, 4 bytes each (the write-allocate read of a written line is not counted, as in STREAM):
 * <ul>
 *   <li>AdamW, Adam (L2): read p, g, m, v; write p, m, v: 28</li>
 *   <li>AMSGrad: also read and write vmax: 36</li>
 *   <li>SGD momentum, Nesterov: read p, g, buf; write p, buf: 20</li>
 *   <li>Adagrad, RMSprop: read p, g, one state; write p and it: 12 (RMSprop centered with momentum: 28)</li>
 *   <li>Lion: read p, g, exp_avg; write p, exp_avg: 20</li>
 *   <li>Adamax, NAdam, RAdam, Adadelta, Rprop: read p, g, two states; write p and both: 28</li>
 *   <li>ASGD averaging: read p, g, ax; write p, ax: 20 (before averaging starts ax is only written: 16)</li>
 *   <li>LAMB, two passes: read p, g, mu, nu, write mu, nu (24); read p, mu, nu, write p (16): 40</li>
 *   <li>LARS, two passes: read p, g (8); read p, g, trace, write p, trace (20): 28</li>
 *   <li>Adafactor, three passes over a factored matrix: read p, g (8); read g (4); read p, g, write p (12): 24</li>
 *   <li>schedule-free AdamW: read p, g, z, exp_avg_sq; write p, z, exp_avg_sq: 28 (its train/eval switch: read p,
 *   z, write p: 12)</li>
 *   <li>global norm: read g: 4; clip (norm, then g *= coef): read g twice, write it once: 12</li>
 *   <li>fused clip + AdamW: norm pass 4 + AdamW 28: 32; clip then AdamW: 12 + 28 = 40</li>
 *   <li>ceilings: triad 12, AdamW traffic 28, read 4</li>
 * </ul>
 * An optimizer's whole step ({@code StepBench.step}) is read against its own streams' traffic in C, measured with it
 * on the same parameters ({@code StepBench.traffic}: the bytes above, next to no arithmetic); the kernel-level rows
 * against the AdamW traffic ceiling.
 */
final class Catalog {
    /**
     * How one benchmark's figures are read.
     *
     * @param nativePeer the method of the same class that is this kernel's native peer
     */
    record Entry(String kernel, String impl, int bytesPerParam, String ceiling, String nativePeer) {
        Entry(String kernel, String impl, int bytesPerParam, String ceiling) {
            this(kernel, impl, bytesPerParam, ceiling, NATIVE);
        }
    }

    static final String CEILING = "CeilingBench";
    static final String TRAFFIC = "CeilingBench.adamwTraffic";
    static final String READ = "CeilingBench.read";
    /** The layer-wise optimizers' own ceilings: their passes' traffic in C (see CeilingBench). */
    static final String LARS_TRAFFIC = "CeilingBench.larsTraffic";
    static final String LAMB_TRAFFIC = "CeilingBench.lambTraffic";
    static final String ADAFACTOR_TRAFFIC = "CeilingBench.adafactorTraffic";
    /**
     * An optimizer step's own ceiling: its streams in C ({@code StepBench.traffic}) on the same parameters (size,
     * memory, threads, optimizer), where the CeilingBench ceilings are looked up by size and threads alone.
     */
    static final String OWN_TRAFFIC_METHOD = "traffic";
    static final String OWN_TRAFFIC = "StepBench." + OWN_TRAFFIC_METHOD;

    /** Names of the implementations that are peers of the engine, as the methods are called. */
    static final String NATIVE = "nativeC";
    static final String SCALAR = "scalar";

    private static final Map<String, String> IMPL = Map.ofEntries(
            Map.entry("engine", "engine"), Map.entry("scalar", "engine scalar"), Map.entry("javaLoop", "java loop"),
            Map.entry("nativeC", "native C"), Map.entry("reference", "reference"), Map.entry("step", "engine step"),
            Map.entry("triad", "native C"), Map.entry("adamwTraffic", "native C"), Map.entry("read", "native C"),
            Map.entry("larsTraffic", "native C"), Map.entry("lambTraffic", "native C"),
            Map.entry("adafactorTraffic", "native C"));
    static final String REFERENCE = "reference";

    private Catalog() {
    }

    static Optional<Entry> of(Result r) {
        String impl = IMPL.getOrDefault(r.method(), r.method())
                + (r.param("layout", "staggered").equals("aliased") ? " 4K-aliased" : "");
        return switch (r.className()) {
            case "AdamBench" -> {
                String v = r.param("adam", "adamw");
                yield Optional.of(new Entry(v, impl, v.equals("amsgrad") ? 36 : 28, TRAFFIC));
            }
            case "SgdBench" -> {
                String v = r.param("sgd", "momentum");
                yield Optional.of(new Entry(v.equals("nesterov") ? "nesterov" : "sgd_momentum", impl, 20, TRAFFIC));
            }
            case "StepBench" -> {
                // Named apart from AdamBench's kernel-level rows: these run through the optimizer and its pool. Each
                // is read against its own traffic (StepBench.traffic, same parameters), which is itself a row.
                String who = switch (r.method()) {
                    case NATIVE -> "native C omp";
                    case OWN_TRAFFIC_METHOD -> "native C traffic";
                    default -> "engine step";
                };
                Optional<Entry> e = switch (r.param("optimizer", "adamw")) {
                    case "adamw" -> Optional.of(new Entry("adamw", who, 28, TRAFFIC));
                    case "amsgrad" -> Optional.of(new Entry("amsgrad", who, 36, TRAFFIC));
                    case "momentum" -> Optional.of(new Entry("sgd_momentum", who, 20, TRAFFIC));
                    // read p, g, sum; write p, sum
                    case "adagrad" -> Optional.of(new Entry("adagrad", who, 20, TRAFFIC));
                    // read p, g, square_avg; write p, square_avg
                    case "rmsprop" -> Optional.of(new Entry("rmsprop", who, 20, TRAFFIC));
                    // also read and write momentum_buffer and grad_avg
                    case "rmsprop_centered_momentum" -> Optional.of(new Entry("rmsprop centered momentum", who, 36,
                            TRAFFIC));
                    // read p, g, exp_avg; write p, exp_avg
                    case "lion" -> Optional.of(new Entry("lion", who, 20, TRAFFIC));
                    // read p, g, exp_avg, exp_inf / exp_avg_sq; write p and both
                    case "adamax" -> Optional.of(new Entry("adamax", who, 28, TRAFFIC));
                    case "nadam" -> Optional.of(new Entry("nadam", who, 28, TRAFFIC));
                    case "radam" -> Optional.of(new Entry("radam", who, 28, TRAFFIC));
                    case "adadelta" -> Optional.of(new Entry("adadelta", who, 28, TRAFFIC));
                    case "rprop" -> Optional.of(new Entry("rprop", who, 28, TRAFFIC));
                    // averaging: read p, g, ax; write p, ax (16 while ax only copies p, before t0)
                    case "asgd" -> Optional.of(new Entry("asgd", who, 20, TRAFFIC));
                    // two passes: read p, g, mu, nu, write mu, nu (24); read p, mu, nu, write p (16)
                    case "lamb" -> Optional.of(new Entry("lamb", who, 40, LAMB_TRAFFIC));
                    // two passes: read p, g (8); read p, g, trace, write p, trace (20)
                    case "lars" -> Optional.of(new Entry("lars", who, 28, LARS_TRAFFIC));
                    // three passes over a factored matrix: read p, g (8); read g (4); read p, g, write p (12)
                    case "adafactor" -> Optional.of(new Entry("adafactor", who, 24, ADAFACTOR_TRAFFIC));
                    // read p, g, z, exp_avg_sq; write p, z, exp_avg_sq (as AdamW)
                    case "sfadamw" -> Optional.of(new Entry("sfadamw", who, 28, TRAFFIC));
                    // LAMB with bfloat16 mu, nu: read p, g, mu, nu, write mu, nu (16); read p, mu, nu, write p (12)
                    // (no ceiling of its own: the float32 passes' traffic, 40 bytes, is not its traffic)
                    case "lamb_bf16state" -> Optional.of(new Entry("lamb bf16 state", who, 28, null));
                    // 8-bit state: read p, g, the state's codes; write p, the codes (14, and 8 bytes of scales per
                    // 256 elements); no ceiling of its own
                    case "momentum_q8" -> Optional.of(new Entry("momentum 8-bit state", who, 14, null));
                    case "lion_q8" -> Optional.of(new Entry("lion 8-bit state", who, 14, null));
                    // read p, g, exp_avg's and sqrt(exp_avg_sq)'s codes; write p and both (16, and 16 bytes of
                    // scales per 256 elements)
                    case "nadam_q8" -> Optional.of(new Entry("nadam 8-bit state", who, 16, null));
                    // LAMB with 8-bit mu, nu: read p, g, the codes, write the codes (12); read p, the codes, write p
                    // (10); and 16 bytes of scales per 256 elements in each pass; no ceiling of its own
                    case "lamb_q8" -> Optional.of(new Entry("lamb 8-bit state", who, 22, null));
                    default -> Optional.empty();
                };
                yield e.map(x -> r.method().equals(OWN_TRAFFIC_METHOD)
                        ? new Entry(x.kernel(), who, x.bytesPerParam(), null, OWN_TRAFFIC_METHOD)
                        : new Entry(x.kernel(), who, x.bytesPerParam(), OWN_TRAFFIC, x.nativePeer()));
            }
            // A whole AdamW step over a model's layout, against the native multi-tensor loop over the same pieces;
            // the single-shot construction time is not a throughput.
            case "LayoutBench" -> switch (r.method()) {
                case "step" -> Optional.of(new Entry("adamw " + r.param("layout", "?"), "engine step", 28, TRAFFIC));
                case NATIVE -> Optional.of(new Entry("adamw " + r.param("layout", "?"), "native C pieces", 28, TRAFFIC));
                default -> Optional.empty();
            };
            case "ClipBench" -> switch (r.method()) {
                case "norm" -> Optional.of(new Entry("global norm", "engine pool", 4, READ, "nativeNorm"));
                case "nativeNorm" -> Optional.of(new Entry("global norm", "native C", 4, READ, "nativeNorm"));
                case "fusedClipAdamW" -> Optional.of(new Entry("clip+adamw", "engine fused", 32, TRAFFIC));
                case "clipThenAdamW" -> Optional.of(new Entry("clip+adamw", "clip, then step", 40, TRAFFIC));
                case "nativeC" -> Optional.of(new Entry("clip+adamw", "native C fused", 32, TRAFFIC));
                default -> Optional.empty();
            };
            // AdamW under each storage mix, against the same mix's traffic in C (its own ceiling) as "x native",
            // and against the float32 traffic ceiling, by bytes, as "x ceiling".
            case "MixedBench" -> {
                String st = r.param("storage", "fp32");
                yield Optional.of(new Entry("adamw " + st, impl, MixedBench.bytes(st), TRAFFIC, "traffic"));
            }
            case "CeilingBench" -> switch (r.method()) {
                case "triad" -> Optional.of(new Entry("ceiling triad", impl, 12, null));
                case "adamwTraffic" -> Optional.of(new Entry("ceiling adamw traffic", impl, 28, null));
                case "read" -> Optional.of(new Entry("ceiling read", impl, 4, null));
                case "larsTraffic" -> Optional.of(new Entry("ceiling lars passes", impl, 28, null));
                case "lambTraffic" -> Optional.of(new Entry("ceiling lamb passes", impl, 40, null));
                case "adafactorTraffic" -> Optional.of(new Entry("ceiling adafactor passes", impl, 24, null));
                default -> Optional.empty();
            };
            default -> Optional.empty();
        };
    }

    /** Parameters per operation: every benchmark here runs one full pass over {@code size} parameters. */
    static long paramsPerOp(Result r) {
        String s = r.params().get("size");
        if (s == null) {
            throw new IllegalArgumentException(r.benchmark() + " has no 'size' parameter");
        }
        return Long.parseLong(s);
    }

    /** The result among {@code all} of method {@code method} of r's class with exactly r's parameters, if any. */
    static Optional<Result> peer(Result r, String method, List<Result> all) {
        String want = r.className() + "." + method;
        for (Result x : all) {
            if (x.benchmark().equals(want) && x.params().equals(r.params())) {
                return Optional.of(x);
            }
        }
        return Optional.empty();
    }

    /**
     * The scalar peer of r: the scalar reference on the same parameters (for an optimizer step: the reference of
     * its kernel at the same size and memory), else the engine's scalar kernel; empty when neither was measured.
     */
    static Optional<Result> scalarPeer(Result r, List<Result> all) {
        if (r.method().equals(REFERENCE) || r.method().equals(SCALAR)) {
            return Optional.empty();
        }
        if (r.className().equals("StepBench")) {
            String optimizer = r.param("optimizer", "adamw");
            if (!optimizer.equals("adamw") && !optimizer.equals("momentum")) {
                return Optional.empty(); // no reference benchmark of the other optimizers
            }
            boolean adam = optimizer.equals("adamw");
            String bench = adam ? "AdamBench.reference" : "SgdBench.reference";
            for (Result x : all) {
                if (x.benchmark().equals(bench) && x.param("size", "").equals(r.param("size", "?"))
                        && x.param("memory", "").equals(r.param("memory", "?"))
                        && (adam ? x.param("adam", "") .equals("adamw") : x.param("sgd", "").equals("momentum"))) {
                    return Optional.of(x);
                }
            }
            return Optional.empty();
        }
        Optional<Result> ref = peer(r, REFERENCE, all);
        return ref.isPresent() ? ref : peer(r, SCALAR, all);
    }

    /** The ceiling benchmark {@code ceiling} at r's size and thread count (1 when r has none), if measured. */
    static Optional<Result> ceiling(Result r, String ceiling, List<Result> all) {
        if (ceiling == null) {
            return Optional.empty();
        }
        if (ceiling.equals(OWN_TRAFFIC)) {
            return peer(r, OWN_TRAFFIC_METHOD, all);
        }
        String size = r.param("size", "");
        String threads = r.param("threads", "1");
        for (Result x : all) {
            if (x.benchmark().equals(ceiling) && x.param("size", "").equals(size)
                    && x.param("threads", "1").equals(threads)) {
                return Optional.of(x);
            }
        }
        return Optional.empty();
    }
}
