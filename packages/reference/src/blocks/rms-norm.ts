/**
 * RMSNorm of §1.2: `y = x / sqrt(mean(x²) + eps) · w`, over groups of `width` consecutive
 * values (the last dimension). Confirmed in HF `Gemma3nRMSNorm`: no `1 + w` offset (unlike
 * Gemma 1–3), the norm is taken in fp32 and `with_scale=False` means w = 1; pass `null` for that.
 * `input.length` must be a multiple of `width`.
 */
export function rmsNorm(input: Float32Array, weight: Float32Array | null, epsilon: number, width = input.length): Float32Array {
  const output = new Float32Array(input.length);
  for (let groupStart = 0; groupStart < input.length; groupStart += width) {
    let sumOfSquares = 0;
    for (let index = 0; index < width; index++) {
      const value = input[groupStart + index]!;
      sumOfSquares += value * value;
    }
    const inverseRms = 1 / Math.sqrt(sumOfSquares / width + epsilon);
    for (let index = 0; index < width; index++) {
      const scale = weight === null ? 1 : weight[index]!;
      output[groupStart + index] = input[groupStart + index]! * inverseRms * scale;
    }
  }
  return output;
}
