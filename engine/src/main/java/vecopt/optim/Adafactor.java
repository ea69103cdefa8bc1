package vecopt.optim;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import vecopt.exec.ChunkGrid;
import vecopt.kernel.AdafactorChunk;
import vecopt.kernel.AdafactorStep;
import vecopt.kernel.Chunk;
import vecopt.kernel.Kernels;
import vecopt.memory.BFloat16;
import vecopt.memory.Dtype;
import vecopt.param.ParamSet;
import vecopt.param.Shape;
import vecopt.param.Tensor;

/**
 * Adafactor (Shazeer and Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost", 2018) with the
 * semantics of Hugging Face's {@code transformers.optimization.Adafactor} ({@code src/transformers/optimization.py},
 * itself fairseq's). Per tensor, at step {@code t} of its group:
 * <pre>
 *   g      = -grad if maximize else grad                        (times the clipping coefficient)
 *   RMS    = ||p|| / sqrt(numel)                                 (HF's state "RMS")
 *   lr     = (relativeStep ? min(warmupInit ? 1e-6 * t : 1e-2, 1 / sqrt(t)) : lr) * stepLr * lrScale
 *            * (scaleParameter ? max(eps2, RMS) : 1)
 *   beta2t = 1 - t^decayRate
 *   w      = g^2 + eps1
 *   factored (rank >= 2, over the last two dimensions [R, C]; leading dimensions are a batch):
 *     exp_avg_sq_row = beta2t * exp_avg_sq_row + (1 - beta2t) * mean over C of w       ([..., R])
 *     exp_avg_sq_col = beta2t * exp_avg_sq_col + (1 - beta2t) * mean over R of w       ([..., C])
 *     u = rsqrt(row / mean over R of row) * rsqrt(col) * g
 *   else:
 *     exp_avg_sq = beta2t * exp_avg_sq + (1 - beta2t) * w;  u = rsqrt(exp_avg_sq) * g
 *   u      = u / max(1, RMS(u) / clipThreshold) * lr
 *   exp_avg = beta1 * exp_avg + (1 - beta1) * u;  u = exp_avg                          (beta1 given)
 *   p      = p - weightDecay * lr * p                                                 (weightDecay != 0)
 *   p      = p - u
 * </pre>
 * The float operations and their order are in {@link AdafactorStep}.
 *
 * <p><b>Passes.</b> The per-tensor reductions (RMS(p), the row and column means, RMS(u)) make it three passes over
 * the chunk grid (cut per tensor), their sums added between passes in grid order (bitwise the same for any thread
 * count and heap or off-heap):
 * <ol>
 *   <li>reads p and g: each chunk's p^2 and, for a factored tensor, its sums of w per row and per column it
 *       touches (a row crossing chunks is summed per chunk); an unfactored tensor also updates its
 *       {@code exp_avg_sq} (reads and writes it) and sums u^2 here;</li>
 *   <li>between: the row and column state and factors (R + C floats per matrix, on the stepping thread);</li>
 *   <li>reads g (factored tensors only): each chunk's u^2;</li>
 *   <li>between: each tensor's RMS, lr and clipping divisor;</li>
 *   <li>reads p, g (an unfactored tensor: its {@code exp_avg_sq}; beta1: {@code exp_avg}) and writes p (and
 *       {@code exp_avg}), the update recomputed bit for bit.</li>
 * </ol>
 * Bytes per parameter: a factored tensor 24 (8 + 4 + 12; 32 with beta1), an unfactored one 32 (16 + 16; 40 with
 * beta1). The naive design (a pass for each reduction, the update stored to scratch: RMS(p) 4, the row and column
 * sums 4, u written 8, RMS(u) 4, the apply 12) moves 32 for a factored tensor and needs 4 bytes of scratch per
 * parameter. State memory: R + C floats per [R, C] matrix ({@code exp_avg_sq_row}, {@code exp_avg_sq_col}, plus
 * their factors and double sums of the same sizes while stepping), one float per parameter for a 1-D tensor
 * ({@code exp_avg_sq}), and one per parameter for {@code exp_avg} with beta1. Each chunk also keeps its column
 * sums in double: C per {@link #CHUNK} (262,144) elements (0.125 byte per parameter for a 4096-wide matrix).
 *
 * <p><b>Differences from HF</b>, each at most a rounding unless said: the sums (HF's float32 {@code norm} and
 * {@code mean}) are in double, in a fixed order, and rounded to float where HF's result is a float tensor; the
 * {@code mul_(beta).add_(x, alpha=1 - beta)} updates are fused multiply-adds (as PyTorch's vectorized
 * {@code add} with alpha computes them); the step counter is the group's (HF: per tensor, equal within a group that
 * steps together); HF's learning rate is additionally multiplied by the {@link #step(double)} argument and
 * {@code lrScale} (exact for 1.0); the row factor {@code rsqrt(row / mean(row))} is computed in double and rounded
 * to float once (HF: three float32 roundings, where a row of zero gradients against row means above about 1.4e15,
 * with the default {@code eps1} 1e-30, divides to 0, and the infinite factor times its zero gradients is a NaN that
 * the update's RMS spreads over the whole tensor; here the factor is finite, as in HF's arithmetic in float64).
 * Still as in HF: where {@code rsqrt(row / mean) * rsqrt(col)} itself exceeds float's range (a zero row and a zero
 * column against means above about 1e17) the update is infinite or NaN. {@code RMS} is recomputed from p at every
 * step before it is used, as HF does, so it carries nothing from one step to the next: it is kept per tensor for
 * {@link #rms(String)} and saved by checkpoints (with the factored state, under HF's names:
 * {@code vecopt.checkpoint.Checkpoint}) so that {@code rms} reads the same after a load.
 *
 * <p><b>Mixed precision.</b> bfloat16 and float16 gradients are taken: each pass widens a chunk's gradients exactly
 * before it reads them ({@code vecopt.kernel.AdafactorStaging}), so the step is bitwise the float32 step fed the same
 * gradients widened. bfloat16 and float16 parameters keep a float32 master copy ({@code master_param}), which passes
 * 1 and 3 read (RMS(p), the update's scale, weight decay, the apply) and pass 3 writes, the 16-bit copy rounded from
 * it (nearest even) after each chunk's apply; or, bfloat16 under {@code stochasticRounding(seed)}, none: the passes
 * read the parameters widened and pass 3 stores them rounded stochastically. HF keeps no master and rounds to nearest
 * ({@code p.copy_(p_data_fp32)}); that mode is not offered (updates below half a 16-bit unit would be lost). Under
 * {@code bfloat16State(seed)} {@code exp_avg} and a 1-D tensor's {@code exp_avg_sq} are bfloat16, rounded
 * stochastically with the keys of variables 0 and 1; the factored statistics stay float32 (R + C floats per matrix).
 * {@code exp_avg} is used as computed and stored rounded; a 1-D {@code exp_avg_sq} is stored rounded by pass 1 (whose
 * RMS(u) takes it as computed) and read as stored by pass 3. {@code trackNorms}, 8-bit state and ZeRO sharding are
 * refused by name.
 *
 * <pre>{@code
 * try (Adafactor opt = Adafactor.builder(params)                      // HF's defaults: relative step, no beta1
 *         .group("manual", AdafactorOptions.DEFAULTS.manual(1e-3).withScaleParameter(false), "fc.bias")
 *         .build()) {
 *     opt.step(1.0);                                                   // 1.0: HF's learning rate unscaled
 * }
 * Adafactor lean = Adafactor.builder(bf16Params).stochasticRounding(42).bfloat16State(7).build(); // 2 + 2 bytes
 * }</pre>
 */
public final class Adafactor extends Optimizer<AdafactorOptions> {
    /**
     * Elements per chunk of Adafactor's grid: 4 of the engine's ({@link ChunkGrid#CHUNK}), 1 MiB per array. Every
     * chunk writes its own double sum per column it touches and the stepping thread adds them all between passes 1
     * and 2: at 65,536 elements that was 1 byte per parameter of an 8192-wide matrix written and read again, on one
     * thread (thread CPU time per element at 64M, 8192 wide, loaded machine: pass 1 0.62x -> 0.69-0.70x its C
     * pass, the adding 0.085 -> 0.021 ns per element; 8 times made no further difference).
     */
    public static final int CHUNK = 4 * ChunkGrid.CHUNK;
    private final Tensor[] tensors;
    private final int[] tensorGroup;
    private final int[] tensorFirst;     // per tensor: its first chunk, or -1 (length 0)
    private final int[] tensorChunks;
    private final int[] rowsOf;          // R, or 0 for an unfactored tensor
    private final int[] colsOf;          // C
    private final float[][] row;         // exp_avg_sq_row, [B * R]
    private final float[][] col;         // exp_avg_sq_col, [B * C]
    private final float[][] rowFactor;
    private final float[][] colFactor;
    private final double[][] rowTotal;
    private final double[][] colTotal;
    private final MemorySegment[] expAvgSq; // unfactored tensors: float32, or bfloat16 under bfloat16 state
    private final float[] rms;           // HF's state "RMS", per tensor: of p before the last update
    private final float[] lastLr;
    private final float[] lastDivisor;   // per tensor: the clipping divisor of the last update
    private final Chunk[] chunks;
    private final AdafactorChunk[] work; // per chunk
    private final AdafactorStep[] steps; // per group
    private final long[] groupStep;
    private final double[] lrFactor;
    private final Map<String, Integer> index;
    private int pass;

    private Adafactor(Builder b) {
        super(untracked(b, "Adafactor"));
        List<Tensor> all = params().tensors();
        this.tensors = all.toArray(new Tensor[0]);
        int n = tensors.length;
        Map<Tensor, Integer> position = new IdentityHashMap<>(n);
        this.index = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            position.put(tensors[i], i);
            index.put(tensors[i].name(), i);
        }
        this.tensorGroup = new int[n];
        for (int g = 0; g < groups().size(); g++) {
            for (Tensor t : groups().get(g).tensors()) {
                tensorGroup[position.get(t)] = g;
            }
        }
        this.rowsOf = new int[n];
        this.colsOf = new int[n];
        this.row = new float[n][];
        this.col = new float[n][];
        this.rowFactor = new float[n][];
        this.colFactor = new float[n][];
        this.rowTotal = new double[n][];
        this.colTotal = new double[n][];
        this.expAvgSq = new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            Tensor t = tensors[i];
            Shape s = t.shape();
            if (s.rank() >= 2) { // HF factors any tensor of rank >= 2 over its last two dimensions
                long c = s.dim(s.rank() - 1), r = s.dim(s.rank() - 2), batch = s.elements() / (r * c);
                rowsOf[i] = fit(t, "rows", r);
                colsOf[i] = fit(t, "columns", c);
                row[i] = new float[fit(t, "exp_avg_sq_row elements", batch * r)];
                col[i] = new float[fit(t, "exp_avg_sq_col elements", batch * c)];
                rowFactor[i] = new float[row[i].length];
                colFactor[i] = new float[col[i].length];
                rowTotal[i] = new double[row[i].length];
                colTotal[i] = new double[col[i].length];
            } else {
                int len = fit(t, "elements (exp_avg_sq of a 1-D tensor)", t.length());
                expAvgSq[i] = stateType == Dtype.BFLOAT16 ? MemorySegment.ofArray(new short[len])
                        : MemorySegment.ofArray(new float[len]);
            }
        }
        this.rms = new float[n];
        this.lastLr = new float[n];
        this.lastDivisor = new float[n];
        Arrays.fill(lastDivisor, Float.NaN);
        Arrays.fill(rms, Float.NaN);
        Arrays.fill(lastLr, Float.NaN);
        Tensor[] byChunk = chunkTensors();
        this.chunks = chunks();
        this.work = new AdafactorChunk[chunks.length];
        this.tensorFirst = new int[n];
        this.tensorChunks = new int[n];
        Arrays.fill(tensorFirst, -1);
        long[] next = new long[n]; // the tensor's next element: the grid keeps a tensor's chunks together and in order
        for (int c = 0; c < chunks.length; c++) {
            int t = position.get(byChunk[c]);
            if (tensorFirst[t] < 0) {
                tensorFirst[t] = c;
            } else if (tensorFirst[t] + tensorChunks[t] != c) {
                throw new IllegalStateException("tensor '" + tensors[t].name() + "': chunks not consecutive");
            }
            tensorChunks[t]++;
            int len = chunks[c].length();
            work[c] = rowsOf[t] > 0
                    ? new AdafactorChunk(next[t], len, rowsOf[t], colsOf[t], rowFactor[t], colFactor[t])
                    : new AdafactorChunk(next[t], expAvgSq[t].asSlice(next[t] * stateType.bytes(),
                            (long) len * stateType.bytes()));
            next[t] += len;
        }
        this.steps = new AdafactorStep[groups().size()];
        for (int g = 0; g < steps.length; g++) {
            steps[g] = new AdafactorStep();
        }
        this.groupStep = new long[steps.length];
        this.lrFactor = new double[steps.length];
    }

    private static int fit(Tensor t, String what, long value) {
        if (value > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' (shape " + t.shape() + "): " + what + " "
                    + value + " exceed what Adafactor's state arrays hold (2^31 - 17)");
        }
        return (int) value;
    }

    /** A builder whose default group has {@link AdafactorOptions#DEFAULTS}. */
    public static Builder builder(ParamSet params) {
        return new Builder(params);
    }

    @Override
    List<String> stateNames(List<ParamGroup<AdafactorOptions>> groups) {
        for (ParamGroup<AdafactorOptions> g : groups) {
            if (g.options().beta1() != null) {
                return List.of("exp_avg");
            }
        }
        return List.of();
    }

    /**
     * HF's names of the state this optimizer keeps: {@code exp_avg} (with beta1, in the per-element buffers),
     * {@code exp_avg_sq_row} and {@code exp_avg_sq_col} (factored tensors), {@code exp_avg_sq} (1-D tensors).
     */
    @Override
    public List<String> stateNames() {
        List<String> names = new ArrayList<>(super.stateNames());
        names.addAll(List.of("exp_avg_sq_row", "exp_avg_sq_col", "exp_avg_sq"));
        return names;
    }

    /**
     * A read-only view of state {@code stateName} of tensor {@code tensorName}: {@code exp_avg_sq_row} (shape
     * {@code [..., R]}), {@code exp_avg_sq_col} ({@code [..., C]}) of a factored tensor, {@code exp_avg_sq} of a
     * 1-D one, {@code exp_avg} with beta1.
     */
    @Override
    public MemorySegment state(String tensorName, String stateName) {
        int t = tensor(tensorName);
        MemorySegment a = switch (stateName) {
            case "exp_avg_sq_row" -> row[t] == null ? null : MemorySegment.ofArray(row[t]);
            case "exp_avg_sq_col" -> col[t] == null ? null : MemorySegment.ofArray(col[t]);
            case "exp_avg_sq" -> expAvgSq[t];
            default -> null;
        };
        if (a == null) {
            if (stateName.startsWith("exp_avg_sq")) {
                throw new IllegalArgumentException("tensor '" + tensorName + "' (shape " + tensors[t].shape() + ") has"
                        + " no '" + stateName + "': " + (rowsOf[t] > 0 ? "it is factored (exp_avg_sq_row, exp_avg_sq_col)"
                        : "it is 1-D (exp_avg_sq)"));
            }
            return super.state(tensorName, stateName);
        }
        return a.asReadOnly();
    }

    /**
     * The element type of state variable {@code stateName}: {@code exp_avg} and a 1-D tensor's {@code exp_avg_sq}
     * are bfloat16 under {@code bfloat16State}; {@code exp_avg_sq_row} and {@code exp_avg_sq_col} (R + C floats per
     * matrix) and a master copy are always float32.
     */
    @Override
    public Dtype stateType(String stateName) {
        return switch (stateName) {
            case "exp_avg_sq_row", "exp_avg_sq_col" -> Dtype.FLOAT32;
            case "exp_avg_sq" -> stateType;
            default -> super.stateType(stateName);
        };
    }

    /** HF's state {@code RMS} of tensor {@code tensorName}: the RMS of its parameters before the last update (NaN before). */
    public float rms(String tensorName) {
        return rms[tensor(tensorName)];
    }

    /** The learning rate tensor {@code tensorName} was updated with in the last update (NaN before). */
    public float lr(String tensorName) {
        return lastLr[tensor(tensorName)];
    }

    /**
     * The divisor tensor {@code tensorName}'s update was clipped by in the last update, HF's
     * {@code max(1, RMS(u) / clip_threshold)} (NaN before).
     */
    public float clipDivisor(String tensorName) {
        return lastDivisor[tensor(tensorName)];
    }

    private int tensor(String name) {
        Integer i = index.get(name);
        if (i == null) {
            throw new IllegalArgumentException("no tensor named '" + name + "' in this optimizer's parameter set");
        }
        return i;
    }

    @Override
    void prepare(int group, AdafactorOptions o, double lr, long t, double gradScale) {
        groupStep[group] = t;
        lrFactor[group] = lr;
        steps[group].prepare(o.eps1(), o.decayRate(), o.beta1() == null ? Double.NaN : o.beta1(),
                o.weightDecay() != 0, t, gradScale);
        roundingKeys(steps[group], t);
    }

    /**
     * Why exp_avg (with beta1) is not made 8-bit. The signed code spans [2^-15, 1.75] of its block's scale
     * ({@code vecopt.kernel.BlockCodes}), and the scale must bound the block's new exp_avg before its elements are
     * visited. exp_avg averages the clipped update {@code u / max(1, RMS(u) / clipThreshold) * lr}; the clipping
     * bounds an element only through the whole tensor's RMS, so the sound bound known before pass 3 is
     * {@code sqrt(numel) * clipThreshold * lr} (2^12 times the RMS bound for a 4096 x 4096 matrix: only the elements
     * below an eighth of it would code as 0 or the smallest code). A tight bound would need each block's largest update
     * kept from pass 2 (pass 1 for a 1-D tensor), which those passes do not produce. The factored second moment is
     * R + C floats per matrix already, so 8 bits would save nothing there.
     */
    @Override
    String eightBitNever() {
        return "exp_avg averages the update after clipping, which bounds an element only through the tensor's RMS"
                + " (|u| <= sqrt(numel) * clip_threshold * lr: 2^12 times that RMS for a 4096 x 4096 matrix, so every"
                + " element below an eighth of it would code as 0 or the smallest code), and the factored exp_avg_sq"
                + " is already rows + columns floats per matrix";
    }

    @Override
    boolean chunksPerTensor() {
        return true;
    }

    @Override
    int chunkElements() {
        return CHUNK;
    }

    @Override
    int passes() {
        return 3;
    }

    @Override
    void beforePass(int pass) {
        this.pass = pass;
        if (pass == 1) {
            for (int t = 0; t < tensors.length; t++) {
                if (tensorFirst[t] >= 0) {
                    rms[t] = rootMeanSquare(t, true);
                    if (rowsOf[t] > 0) {
                        factors(t);
                    } else {
                        scalars(t);
                    }
                }
            }
        } else if (pass == 2) {
            for (int t = 0; t < tensors.length; t++) {
                if (tensorFirst[t] >= 0 && rowsOf[t] > 0) {
                    scalars(t);
                }
            }
        }
    }

    /** HF's {@code _rms}: {@code norm(2) / numel ** 0.5}, the norm from the chunks' sums in grid order. */
    private float rootMeanSquare(int t, boolean params) {
        double s = 0;
        for (int c = tensorFirst[t]; c < tensorFirst[t] + tensorChunks[t]; c++) {
            s += params ? work[c].paramSquares() : work[c].updateSquares();
        }
        return (float) Math.sqrt(s) / (float) Math.sqrt((double) tensors[t].length());
    }

    /** The row and column state of factored tensor {@code t}, then its factors. */
    private void factors(int t) {
        final AdafactorStep k = steps[tensorGroup[t]];
        final float b2 = k.beta2t(), c2 = k.oneMinusBeta2t();
        final int R = rowsOf[t], C = colsOf[t];
        final double[] rt = rowTotal[t], ct = colTotal[t];
        Arrays.fill(rt, 0.0);
        Arrays.fill(ct, 0.0);
        for (int c = tensorFirst[t]; c < tensorFirst[t] + tensorChunks[t]; c++) {
            AdafactorChunk w = work[c];
            int r0 = (int) w.rowFirst();
            for (int i = 0; i < w.rowCount(); i++) {
                rt[r0 + i] += w.rowSum(i);
            }
            w.addColSums(ct);
        }
        final float[] r = row[t], cl = col[t], rf = rowFactor[t], cf = colFactor[t];
        for (int i = 0; i < r.length; i++) {
            r[i] = Math.fma((float) (rt[i] / C), c2, r[i] * b2);
        }
        for (int i = 0; i < cl.length; i++) {
            cl[i] = Math.fma((float) (ct[i] / R), c2, cl[i] * b2);
        }
        for (int b = 0; b < r.length; b += R) {
            double s = 0;
            for (int i = b; i < b + R; i++) {
                s += r[i];
            }
            // In double, rounded once: in float (HF's float32 arithmetic) the quotient of a row of zero gradients
            // (eps1 = 1e-30) by a mean above ~1.4e15 underflows to 0, the factor is infinite, and infinity times
            // the row's zero gradients is a NaN that the update's RMS spreads over the whole tensor.
            final double mean = s / R;
            for (int i = b; i < b + R; i++) {
                rf[i] = (float) (1.0 / Math.sqrt(r[i] / mean));
            }
        }
        for (int i = 0; i < cl.length; i++) {
            cf[i] = 1f / (float) Math.sqrt(cl[i]);
        }
    }

    /** Tensor {@code t}'s lr (HF's {@code _get_lr}), clipping divisor and decay factor, into its chunks. */
    private void scalars(int t) {
        final int g = tensorGroup[t];
        final AdafactorOptions o = groups().get(g).options();
        final long step = groupStep[g];
        double rel = o.relativeStep() ? Math.min(o.warmupInit() ? 1e-6 * step : 1e-2, 1.0 / Math.sqrt(step)) : o.lr();
        rel *= lrFactor[g];
        float lr, decay;
        if (o.scaleParameter() && rms[t] > (float) o.eps2()) { // Python's max(eps2, RMS): the float32 tensor RMS
            lr = rms[t] * (float) rel;
            decay = (float) -o.weightDecay() * lr;
        } else { // a Python float: eps2 * rel or rel
            double l = o.scaleParameter() ? o.eps2() * rel : rel;
            lr = (float) l;
            decay = (float) (-o.weightDecay() * l);
        }
        float d = Math.max(rootMeanSquare(t, false) / (float) o.clipThreshold(), 1f); // NaN stays NaN, as clamp_
        lastLr[t] = lr;
        lastDivisor[t] = d;
        for (int c = tensorFirst[t]; c < tensorFirst[t] + tensorChunks[t]; c++) {
            work[c].prepareApply(d, lr, decay);
        }
    }

    @Override
    void runItem(Kernels kernels, Chunk[] item, int firstChunk, double[] norms) {
        final int p = pass;
        for (int j = 0; j < item.length; j++) {
            Chunk c = item[j];
            AdafactorChunk w = work[firstChunk + j];
            if (p != 1 || w.factored()) {
                kernels.adafactor(c, steps[c.group()], w, p);
            }
        }
    }

    @Override
    void run(Kernels kernels, Chunk chunk, double[] norms) {
        throw new UnsupportedOperationException("Adafactor runs whole work items (runItem)");
    }

    /**
     * Hugging Face's {@code step}, one per group here ({@code state["step"]} per tensor in HF, equal within a group
     * that steps together): the group's update count, saved with the group by checkpoints and checked against it.
     */
    @Override
    List<String> scalarStateNames() {
        return List.of("step");
    }

    @Override
    double scalarState(int group, String name) {
        if (!name.equals("step")) {
            return super.scalarState(group, name);
        }
        return groups().get(group).steps();
    }

    /** Nothing to set: {@code step} is the group's update count, which the counters restore. */
    @Override
    void restoreScalarState(int group, double[] values) {
        if (values.length != 1) {
            throw new IllegalArgumentException("Adafactor keeps one scalar state (step), got " + values.length);
        }
    }

    /**
     * Tensor {@code t}'s factored state ({@code exp_avg_sq_row}, {@code exp_avg_sq_col}) or {@code exp_avg_sq}, and
     * {@code RMS}, live, for checkpoints.
     */
    @Override
    Map<String, MemorySegment> factoredState(Tensor t) {
        int i = tensor(t.name());
        Map<String, MemorySegment> m = new LinkedHashMap<>();
        if (rowsOf[i] > 0) {
            m.put("exp_avg_sq_row", MemorySegment.ofArray(row[i]));
            m.put("exp_avg_sq_col", MemorySegment.ofArray(col[i]));
        } else {
            m.put("exp_avg_sq", expAvgSq[i]);
        }
        m.put("RMS", MemorySegment.ofArray(rms).asSlice((long) i * Float.BYTES, Float.BYTES));
        return m;
    }

    @Override
    void continueExtraState(Optimizer<?> previous, List<Tensor> shared, boolean copy) {
        Adafactor before = (Adafactor) previous;
        for (Tensor t : shared) {
            int here = tensor(t.name()), there = before.tensor(t.name());
            if (!t.shape().equals(before.tensors[there].shape())) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' has shape " + t.shape() + " here and "
                        + before.tensors[there].shape() + " in previous: Adafactor's state follows the shape");
            }
            if (copy) {
                if (rowsOf[here] > 0) {
                    System.arraycopy(before.row[there], 0, row[here], 0, row[here].length);
                    System.arraycopy(before.col[there], 0, col[here], 0, col[here].length);
                } else {
                    copyState(before.expAvgSq[there], expAvgSq[here]);
                }
                rms[here] = before.rms[there];
            }
        }
    }

    /**
     * Copies a 1-D tensor's {@code exp_avg_sq} from {@code from} into {@code to}: as it is between equal types,
     * widened (exactly) from bfloat16 into float32; the reverse is refused before ({@code continueFrom}).
     */
    private static void copyState(MemorySegment from, MemorySegment to) {
        if (from.byteSize() == to.byteSize()) {
            MemorySegment.copy(from, 0, to, 0, to.byteSize());
            return;
        }
        for (long e = 0; e < from.byteSize() / Short.BYTES; e++) {
            to.setAtIndex(ValueLayout.JAVA_FLOAT, e, BFloat16.widen(from.getAtIndex(ValueLayout.JAVA_SHORT, e)));
        }
    }

    public static final class Builder extends Optimizer.Builder<AdafactorOptions, Builder> {
        private Builder(ParamSet params) {
            super(params, AdafactorOptions.DEFAULTS);
        }

        /**
         * Builds the optimizer. Every storage mix is taken: float32, bfloat16 and float16 gradients and parameters
         * (16-bit parameters keep a float32 master copy, or under {@code stochasticRounding} none), float32 or
         * bfloat16 state; 8-bit state is refused by name ({@link Adafactor}).
         *
         * <pre>{@code
         * Adafactor opt = Adafactor.builder(bf16Params).stochasticRounding(42).bfloat16State(7).build();
         * }</pre>
         */
        public Adafactor build() {
            return new Adafactor(this);
        }
    }
}
