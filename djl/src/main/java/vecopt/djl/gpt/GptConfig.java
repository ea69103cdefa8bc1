package vecopt.djl.gpt;

/**
 * The shape of a {@link Gpt}: vocabulary, context length, width, heads, layers, the MLP's hidden width (a multiple of
 * the model width, 4 in GPT-2) and where the LayerNorms sit.
 *
 * <pre>{@code
 * GptConfig cfg = new GptConfig(64, 64, 128, 4, 4, 4, Norm.PRE);
 * long n = cfg.parameterCount();   // 0.8 M
 * }</pre>
 *
 * @param vocab   tokens of the vocabulary
 * @param context positions (the longest input sequence)
 * @param width   model width d (embedding size), a multiple of {@code heads}
 * @param heads   attention heads, each of width {@code width / heads}
 * @param layers  transformer layers
 * @param mlpMult the MLP's hidden width over {@code width}
 * @param norm    pre-LN (GPT-2) or post-LN (the original Transformer, BERT)
 */
public record GptConfig(int vocab, int context, int width, int heads, int layers, int mlpMult, Norm norm) {
    /** Where each layer's LayerNorms sit. */
    public enum Norm {
        /**
         * {@code x + f(LN(x))} for attention and MLP, and a final LN before the head (GPT-2, Radford et al. 2019):
         * the residual stream is never normalised, so the gradients of the early layers stay well scaled.
         */
        PRE,
        /**
         * {@code LN(x + f(x))} after each sublayer (Vaswani et al. 2017): the residual stream passes through a
         * LayerNorm twice per layer, and Xiong et al. 2020 ("On Layer Normalization in the Transformer
         * Architecture") show that the gradients near the output are then large at initialisation, which is why
         * post-LN needs a learning-rate warmup.
         */
        POST
    }

    public GptConfig {
        positive("vocab", vocab);
        positive("context", context);
        positive("width", width);
        positive("heads", heads);
        positive("layers", layers);
        positive("mlpMult", mlpMult);
        if (width % heads != 0) {
            throw new IllegalArgumentException("width must be a multiple of heads " + heads + ", got " + width);
        }
        if (norm == null) {
            throw new IllegalArgumentException("norm must be PRE or POST, got null");
        }
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
        }
    }

    /** The same model with the LayerNorms placed as {@code n} says. */
    public GptConfig withNorm(Norm n) {
        return new GptConfig(vocab, context, width, heads, layers, mlpMult, n);
    }

    /**
     * Trainable parameters: token and position embeddings, per layer the attention's qkv and output projections, the
     * MLP's two layers and two LayerNorms (scale and shift), the final LayerNorm (pre-LN only) and the output head.
     */
    public long parameterCount() {
        long d = width, h = (long) mlpMult * width;
        long perLayer = d * 3 * d + 3 * d + d * d + d + d * h + h + h * d + d + 2 * 2 * d;
        return (long) vocab * d + (long) context * d + layers * perLayer + (norm == Norm.PRE ? 2 * d : 0)
                + d * vocab + vocab;
    }
}
