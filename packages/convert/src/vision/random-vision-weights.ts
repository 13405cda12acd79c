import { RandomNumberGenerator, tensorSeed } from '../checkpoint/random-number-generator';
import { InMemoryTensorSource } from '../tensor-source';
import type { MobileNetV5Architecture } from './mobilenet-v5-architecture';
import { expectedVisionTensors } from './expected-vision-tensors';

/**
 * Layer scales γ multiply each residual branch before it is added. The release initialises
 * them at 1e-5, which would make every block all but invisible in a parity test; 0.5 ± 0.1
 * keeps each branch's contribution clearly measurable while the residual stream grows only
 * like sqrt(1 + n·γ²) over n blocks (each branch output is RmsNorm-ed, so it has RMS ≈ 1).
 */
const LAYER_SCALE_MEAN = 0.5;
const LAYER_SCALE_STANDARD_DEVIATION = 0.1;
/** Norm weights: around 1, with enough spread that a wrong channel index shows. */
const NORM_STANDARD_DEVIATION = 0.1;
/** The stem bias is zero in the release; small but non-zero here so the Add is tested. */
const STEM_BIAS_STANDARD_DEVIATION = 0.1;

export interface RandomVisionWeightsOptions {
  seed: number;
  /** Add the tensors to this source (e.g. a random text checkpoint) instead of a new one. */
  target?: InMemoryTensorSource;
}

/**
 * Random vision-tower weights for `architecture`: every tensor of `expectedVisionTensors`,
 * deterministic in `seed` (each tensor from its own (seed, name) stream, as the text
 * generator does, so the two can be merged into one checkpoint).
 *
 * - Conv weights: N(0, 1/fan_in), fan_in = in/groups · k · k, so each conv keeps unit scale;
 *   every conv is followed by an RmsNorm2d anyway, which fixes the scale per block.
 * - Norm weights 1 + 0.1·N(0,1); layer scales 0.5 + 0.1·N(0,1) (see above).
 * - The attention logits q·k·kd^-0.5 then have unit variance: neither one-hot nor uniform.
 */
export function randomVisionTowerWeights(architecture: MobileNetV5Architecture, options: RandomVisionWeightsOptions): InMemoryTensorSource {
  const source = options.target ?? new InMemoryTensorSource();
  for (const tensor of expectedVisionTensors(architecture)) {
    const count = tensor.shape.reduce((product, size) => product * size, 1);
    const values = new Float32Array(count);
    const random = new RandomNumberGenerator(tensorSeed(options.seed, tensor.name));
    if (tensor.name.endsWith('layer_scale.gamma')) random.fillNormal(values, LAYER_SCALE_MEAN, LAYER_SCALE_STANDARD_DEVIATION);
    else if (tensor.name.endsWith('conv_stem.conv.bias')) random.fillNormal(values, 0, STEM_BIAS_STANDARD_DEVIATION);
    else if (tensor.shape.length === 1) random.fillNormal(values, 1, NORM_STANDARD_DEVIATION);
    else {
      const fanIn = tensor.shape.slice(1).reduce((product, size) => product * size, 1);
      random.fillNormal(values, 0, 1 / Math.sqrt(fanIn));
    }
    source.set(tensor.name, tensor.shape, values);
  }
  return source;
}

/**
 * A tiny tower with every block kind of MobileNetV5-300M in the release's order: ER with and
 * without stride and skip; UIR with dw_start + strided dw_mid, dw_start only, and neither;
 * MQA with kv_stride 2 (down_conv + norm on K and V) and kv_stride 1; the MSFA over the last
 * two stages with a nearest 2× upsample and a 3×3 / stride-3 average pool, like 48 → 16.
 * 96×96 in: stem 48, stages 24, 12, 6, 3; MSFA 6 → 2×2 = 4 tokens.
 */
export const TINY_VISION_ARCHITECTURE = {
  image_size: 96,
  stem_size: 8,
  block_args: [
    ['er_r1_k3_s2_e4_c8', 'er_r1_k3_s1_e2_c8'],
    ['uir_r1_a3_k5_s2_e2_c16', 'uir_r1_a5_k0_s1_e2_c16'],
    ['uir_r1_a5_k5_s2_e2_c24', 'uir_r1_a0_k0_s1_e1_c24', 'mqa_r1_k3_h2_v2_s1_d8_c24', 'uir_r1_a0_k0_s1_e2_c24'],
    ['uir_r1_a5_k5_s2_e2_c32', 'mqa_r1_k3_h3_s1_d8_c32', 'uir_r1_a0_k0_s1_e2_c32'],
  ],
  msfa_indices: [-2, -1],
  msfa_output_resolution: 2,
} as const;

/**
 * A copy of a config.json object whose vision tower is `architecture` (a
 * `vision_config.mobilenetv5_architecture` description, by default TINY_VISION_ARCHITECTURE),
 * with `vision_soft_tokens_per_image` set to the tower's token count.
 */
export function withVisionArchitecture(
  rawConfig: Record<string, unknown>,
  architecture: Record<string, unknown> = TINY_VISION_ARCHITECTURE,
): Record<string, unknown> {
  const copy = structuredClone(rawConfig);
  const vision = { ...(copy['vision_config'] as Record<string, unknown>), mobilenetv5_architecture: structuredClone(architecture) };
  copy['vision_config'] = vision;
  const resolution = architecture['msfa_output_resolution'];
  if (typeof resolution === 'number') copy['vision_soft_tokens_per_image'] = resolution * resolution;
  return copy;
}
