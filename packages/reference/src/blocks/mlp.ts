import { geluTanh } from './activations';
import { gaussianTopK } from './gaussian-top-k';
import { linear } from './linear';

/**
 * Feed-forward block of §1.8 for one token:
 * `down_proj( gelu_tanh(topk_s(gate_proj x)) · up_proj x )`. Matches HF `Gemma3nTextMLP.forward`
 * (the top-k runs on the gate before the activation; up_proj is untouched).
 */
export function mlp(
  input: Float32Array,
  gateProjection: Float32Array,
  upProjection: Float32Array,
  downProjection: Float32Array,
  hiddenSize: number,
  intermediateSize: number,
  sparsity: number,
): Float32Array {
  const gate = gaussianTopK(linear(gateProjection, input, hiddenSize, intermediateSize), sparsity);
  const up = linear(upProjection, input, hiddenSize, intermediateSize);
  const activated = new Float32Array(intermediateSize);
  for (let index = 0; index < intermediateSize; index++) activated[index] = geluTanh(gate[index]!) * up[index]!;
  return linear(downProjection, activated, intermediateSize, hiddenSize);
}
