package vecopt.optim;

/**
 * How 8-bit block-quantized Adam state is coded ({@link Optimizer.Builder#eightBitState(EightBitCode, int)}). Both
 * keep one byte per element and variable and one float32 scale per block of 256 elements of a tensor.
 *
 * <pre>{@code
 * AdamW fast = AdamW.builder(params).eightBitState().build();   // FLOAT_CODES
 * AdamW compatible = AdamW.builder(params).eightBitState(EightBitCode.BITSANDBYTES_DYNAMIC, 4096).build();
 * }</pre>
 */
public enum EightBitCode {
    /**
     * vecopt's float codes ({@code vecopt.kernel.BlockCodes}): exp_avg as a signed 8-bit float (4 exponent, 3
     * fraction bits), the square root of exp_avg_sq as an unsigned one (4 and 4), computed from the float's bits in
     * the vector loops; a positive {@code sqrt(v)} is never coded as 0. The default.
     */
    FLOAT_CODES,
    /**
     * bitsandbytes' dynamic maps and CPU quantizer ({@code vecopt.kernel.DynamicMap}): exp_avg in
     * {@code create_dynamic_map(signed=True)}, exp_avg_sq itself in {@code create_dynamic_map(signed=False)}, coded
     * through bitsandbytes' 65,536-bin lookup table, for state that must match bitsandbytes' codes. Scalar loops
     * (a table lookup per element: several times slower than {@link #FLOAT_CODES}, see the README). As in
     * bitsandbytes, a moment of 0 comes back as about 2e-5 of its block's largest magnitude (its bins have none
     * centred on 0), and values below about 1e-5 of it lose their own value.
     */
    BITSANDBYTES_DYNAMIC
}
