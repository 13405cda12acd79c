/**
 * `output[o] = Σ_i weight[o, i] · input[i]` for a PyTorch Linear weight stored `[out, in]`
 * row-major, without bias (Gemma 3n has no biases in the text decoder, §1.1 attention_bias).
 * Accumulates in float64 (JS numbers) and stores float32.
 *
 * `input` is read from `inputOffset`, so a row of a `[T, in]` matrix can be passed without a
 * copy. Only the first `outFeatures` rows of `weight` are used.
 */
export function linear(
  weight: Float32Array,
  input: Float32Array,
  inFeatures: number,
  outFeatures: number,
  inputOffset = 0,
): Float32Array {
  const output = new Float32Array(outFeatures);
  for (let outIndex = 0; outIndex < outFeatures; outIndex++) {
    const rowStart = outIndex * inFeatures;
    let sum = 0;
    for (let inIndex = 0; inIndex < inFeatures; inIndex++) {
      sum += weight[rowStart + inIndex]! * input[inputOffset + inIndex]!;
    }
    output[outIndex] = sum;
  }
  return output;
}

/** Mean of the squares of `length` values from `offset` (the RMS² of §1.2, §1.4, §1.9). */
export function meanOfSquares(values: Float32Array, offset = 0, length = values.length - offset): number {
  let sum = 0;
  for (let index = 0; index < length; index++) {
    const value = values[offset + index]!;
    sum += value * value;
  }
  return sum / length;
}
