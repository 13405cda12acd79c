import { linear } from './linear';
import { rmsNorm } from './rms-norm';

/**
 * LAuReL block of §1.5 for one token: `x + RMSNorm_post_laurel(linear_right(linear_left(x)))`,
 * D → rank → D. Matches HF `Gemma3nTextLaurelBlock.forward` (the residual is the normed input x).
 */
export function laurel(
  input: Float32Array,
  linearLeft: Float32Array,
  linearRight: Float32Array,
  postLaurelNorm: Float32Array,
  hiddenSize: number,
  rank: number,
  epsilon: number,
): Float32Array {
  const low = linear(linearLeft, input, hiddenSize, rank);
  const normed = rmsNorm(linear(linearRight, low, rank, hiddenSize), postLaurelNorm, epsilon);
  const output = new Float32Array(hiddenSize);
  for (let index = 0; index < hiddenSize; index++) output[index] = input[index]! + normed[index]!;
  return output;
}
