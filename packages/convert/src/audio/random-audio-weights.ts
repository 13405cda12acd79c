import type { Gemma3nConfig } from '@gemma3n/core';
import { RandomNumberGenerator, tensorSeed } from '../checkpoint/random-number-generator';
import { InMemoryTensorSource } from '../tensor-source';
import { expectedAudioTowerTensors } from './audio-tower-tensors';

/**
 * Seeded random `model.audio_tower.*` weights for `config` (every tensor of
 * `expectedAudioTowerTensors`), each drawn from its own (seed, name) stream like the text
 * generator in ../checkpoint, so it can be merged into that generator unchanged.
 *
 * - norm weights: 1 + 0.1·N(0, 1) (Gemma 3n norms have no +1 offset);
 * - `per_dim_scale`: N(0, 0.5²), so softplus(per_dim_scale) differs per dimension (HF initialises
 *   it to 0, which would hide a wrong dimension order);
 * - convolutions and Linear weights: N(0, 1/fan-in), fan-in = all axes but the first.
 *
 * Writes into `target` when given (e.g. a random text checkpoint that already has
 * `model.embed_audio.*`), else into a new source.
 */
export function randomAudioTowerWeights(
  config: Gemma3nConfig,
  options: { seed: number; target?: InMemoryTensorSource },
): InMemoryTensorSource {
  const source = options.target ?? new InMemoryTensorSource();
  for (const tensor of expectedAudioTowerTensors(config)) {
    const values = new Float32Array(tensor.shape.reduce((product, size) => product * size, 1));
    const random = new RandomNumberGenerator(tensorSeed(options.seed, tensor.name));
    if (tensor.name.endsWith('norm.weight')) random.fillNormal(values, 1, 0.1);
    else if (tensor.name.endsWith('per_dim_scale')) random.fillNormal(values, 0, 0.5);
    else {
      const fanIn = tensor.shape.slice(1).reduce((product, size) => product * size, 1);
      random.fillNormal(values, 0, 1 / Math.sqrt(fanIn));
    }
    source.set(tensor.name, tensor.shape, values);
  }
  return source;
}
