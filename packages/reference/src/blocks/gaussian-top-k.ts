import { inverseNormalCdf } from './inverse-normal-cdf';

/**
 * Gaussian top-k of §1.8 over one gate vector: `relu(g − (mean(g) + std(g)·Φ⁻¹(s)))`. Confirmed
 * in HF `Gemma3nTextMLP._gaussian_topk`: `torch.std(..., unbiased=False)`, the population std
 * (llama.cpp's n−1 is the outlier), and survivors are shifted by the cutoff, not kept as they
 * were. A sparsity of 0 skips the step (HF: `if self.activation_sparsity > 0.0`), returning a copy.
 */
export function gaussianTopK(gate: Float32Array, sparsity: number): Float32Array {
  if (!(sparsity > 0)) return Float32Array.from(gate);
  let sum = 0;
  for (const value of gate) sum += value;
  const mean = sum / gate.length;
  let sumOfSquaredDeviations = 0;
  for (const value of gate) sumOfSquaredDeviations += (value - mean) * (value - mean);
  const populationStd = Math.sqrt(sumOfSquaredDeviations / gate.length);
  const cutoff = mean + populationStd * inverseNormalCdf(sparsity);
  const output = new Float32Array(gate.length);
  for (let index = 0; index < gate.length; index++) output[index] = Math.max(0, gate[index]! - cutoff);
  return output;
}
