package vecopt.djl.train;

import java.util.SplittableRandom;

/**
 * The demo's language: token sequences drawn from a random second-order Markov source, generated from a seed (no
 * corpus to download). After token {@code b} only {@link #successors} tokens can follow (a random set per
 * {@code b}); which of them is likely depends on the token {@code a} before {@code b}: for each pair {@code (a, b)}
 * their probabilities are a Dirichlet(1/2) draw, so the next token is learnable but not determined. The first token
 * is uniform; the second is uniform over its predecessor's successors.
 *
 * <p>Why this task: it has two levels a model learns one after the other. The current token alone narrows the next
 * to a few candidates (a loss near {@code ln successors}, learned in tens of steps); beating that needs the token
 * before it, so the model must attend to the previous position (an MLP on the current token cannot), and must learn
 * a table of {@code vocab^2} contexts from samples, so held-out sequences (fresh draws from the same source) measure
 * generalisation, not recall. And the best possible loss is known exactly: {@link #oracleLoss} is the cross-entropy
 * of the true probabilities on the held-out tokens, the floor no model can beat, so a table of losses reads as "how
 * close to the floor".
 *
 * <pre>{@code
 * MarkovTask task = new MarkovTask(64, 4, 7);
 * MarkovTask.Split data = task.generate(8192, 256, 64, 42);
 * double floor = task.oracleLoss(data.heldOut());
 * }</pre>
 */
public final class MarkovTask {
    private final int vocab;
    private final int successors;
    private final int[] next1;      // [b * successors + j]: the j-th token that can follow b (uniform at position 1)
    private final double[] prob1;
    private final int[] next2;      // [(a * vocab + b) * successors + j]: next1's j-th token after b, its probability
                                    // after (a, b) in prob2
    private final double[] prob2;

    /**
     * @param vocab      tokens
     * @param successors tokens that can follow a token (distinct), {@code 1 <= successors <= vocab}
     * @param seed       seeds the source's tables (not the samples)
     */
    public MarkovTask(int vocab, int successors, long seed) {
        if (vocab < 2) {
            throw new IllegalArgumentException("vocab must be >= 2, got " + vocab);
        }
        if (successors < 1 || successors > vocab) {
            throw new IllegalArgumentException("successors must be in [1, vocab " + vocab + "], got " + successors);
        }
        this.vocab = vocab;
        this.successors = successors;
        SplittableRandom r = new SplittableRandom(seed);
        next1 = new int[vocab * successors];
        prob1 = new double[vocab * successors];
        int[] perm = new int[vocab];
        for (int b = 0; b < vocab; b++) {
            for (int i = 0; i < vocab; i++) {
                perm[i] = i;
            }
            for (int j = 0; j < successors; j++) { // partial Fisher-Yates: the first `successors` of a permutation
                int k = j + r.nextInt(vocab - j);
                int t = perm[j];
                perm[j] = perm[k];
                perm[k] = t;
                next1[b * successors + j] = perm[j];
                prob1[b * successors + j] = 1.0 / successors;
            }
        }
        next2 = new int[vocab * vocab * successors];
        prob2 = new double[vocab * vocab * successors];
        for (int a = 0; a < vocab; a++) {
            for (int b = 0; b < vocab; b++) {
                int c = (a * vocab + b) * successors;
                double sum = 0;
                for (int j = 0; j < successors; j++) {
                    next2[c + j] = next1[b * successors + j];
                    // z^2 for a standard normal z is a Gamma(1/2) draw up to scale; normalised, they are Dirichlet(1/2)
                    double z = r.nextGaussian();
                    prob2[c + j] = z * z;
                    sum += prob2[c + j];
                }
                for (int j = 0; j < successors; j++) {
                    prob2[c + j] /= sum;
                }
            }
        }
    }


    public int vocab() {
        return vocab;
    }

    public int successors() {
        return successors;
    }

    /** Sequences of {@code length + 1} tokens each: inputs are tokens 0..length-1, targets tokens 1..length. */
    public record Sequences(long[] tokens, int count, int length) {
        public Sequences {
            if (tokens.length != (long) count * (length + 1)) {
                throw new IllegalArgumentException("tokens must hold count * (length + 1) = "
                        + (long) count * (length + 1) + " ids, got " + tokens.length);
            }
        }

        /** Inputs and targets of sequences {@code rows[from .. from + n)}, each {@code n * length} ids. */
        void gather(int[] rows, int from, int n, long[] inputs, long[] targets) {
            for (int i = 0; i < n; i++) {
                int s = rows[from + i] * (length + 1);
                System.arraycopy(tokens, s, inputs, i * length, length);
                System.arraycopy(tokens, s + 1, targets, i * length, length);
            }
        }

        /** Inputs and targets of the contiguous sequences {@code [from, from + n)}. */
        void slice(int from, int n, long[] inputs, long[] targets) {
            for (int i = 0; i < n; i++) {
                int s = (from + i) * (length + 1);
                System.arraycopy(tokens, s, inputs, i * length, length);
                System.arraycopy(tokens, s + 1, targets, i * length, length);
            }
        }
    }

    /** A training set and a held-out set of independent draws. */
    public record Split(Sequences train, Sequences heldOut) {
    }

    /** {@code train} and {@code heldOut} sequences of {@code length} predicted tokens, drawn with {@code seed}. */
    public Split generate(int train, int heldOut, int length, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return new Split(sample(r, train, length), sample(r, heldOut, length));
    }

    private Sequences sample(SplittableRandom r, int count, int length) {
        if (count <= 0 || length <= 0) {
            throw new IllegalArgumentException("count and length must be > 0, got " + count + " and " + length);
        }
        long[] out = new long[count * (length + 1)];
        for (int s = 0; s < count; s++) {
            int base = s * (length + 1);
            int a = r.nextInt(vocab);
            int b = draw(r, a, next1, prob1);
            out[base] = a;
            out[base + 1] = b;
            for (int t = 2; t <= length; t++) {
                int c = draw(r, a * vocab + b, next2, prob2);
                out[base + t] = c;
                a = b;
                b = c;
            }
        }
        return new Sequences(out, count, length);
    }

    private int draw(SplittableRandom r, int context, int[] next, double[] prob) {
        double u = r.nextDouble();
        int base = context * successors;
        for (int j = 0; j < successors - 1; j++) {
            u -= prob[base + j];
            if (u < 0) {
                return next[base + j];
            }
        }
        return next[base + successors - 1];
    }

    /** The true probability of {@code token} after context {@code (a, b)} ({@code a < 0}: after {@code b} alone). */
    double probability(int a, int b, int token) {
        int base = a < 0 ? b * successors : (a * vocab + b) * successors;
        int[] next = a < 0 ? next1 : next2;
        double[] prob = a < 0 ? prob1 : prob2;
        for (int j = 0; j < successors; j++) {
            if (next[base + j] == token) {
                return prob[base + j];
            }
        }
        return 0;
    }

    /**
     * The mean cross-entropy, in nats, of the source's own probabilities on every target token of {@code s}: the
     * lowest held-out loss any model can expect on these sequences (the Bayes risk of the task, measured on them).
     */
    public double oracleLoss(Sequences s) {
        double sum = 0;
        int stride = s.length() + 1;
        for (int i = 0; i < s.count(); i++) {
            int base = i * stride;
            for (int t = 1; t <= s.length(); t++) {
                int a = t >= 2 ? (int) s.tokens()[base + t - 2] : -1;
                sum -= Math.log(probability(a, (int) s.tokens()[base + t - 1], (int) s.tokens()[base + t]));
            }
        }
        return sum / ((double) s.count() * s.length());
    }
}
