import { parseGemma3nConfig, type Gemma3nConfig } from '@gemma3n/core';
import { InMemoryTensorSource } from '../tensor-source';
import { roundToBfloat16 } from '../safetensors/float-conversions';
import { randomAudioTowerWeights } from '../audio/random-audio-weights';
import { visionArchitectureFromConfig } from '../vision/mobilenet-v5-architecture';
import { randomVisionTowerWeights } from '../vision/random-vision-weights';
import { expectedCheckpointTensors, TEXT_PREFIX, type ExpectedTensor } from './expected-checkpoint-tensors';
import { RandomNumberGenerator, tensorSeed } from './random-number-generator';

export interface RandomCheckpointOptions {
  seed: number;
  /**
   * `BF16` rounds every value to the nearest bfloat16, so the in-memory weights equal what a
   * bf16 safetensors file of them holds (parity tests then compare like with like).
   */
  dtype?: 'F32' | 'BF16';
  /** Also emit `lm_head.weight` (a copy of embed_tokens), as untied exports do. */
  includeLmHead?: boolean;
  /**
   * Also emit the vision and audio towers (`model.vision_tower.*`, `model.audio_tower.*`), from
   * the audio and vision generators; the vision config must describe a buildable tower (see
   * TINY_SHAPES_WITH_TOWERS). Text weights do not change with this option.
   */
  includeTowers?: boolean;
}

/**
 * Embeddings are tied, so embed_tokens sets both the input of the residual stream (E·√D, RMS
 * √D·σ) and, with the final norm, the spread of the logits (≈ √D·σ·|norm.weight|). Measured
 * with the reference forward pass (see random-checkpoint-margins.test.ts): with σ = 0.75 and
 * norm ≈ 1 the current token's embedding dominates the stream, every token predicts itself and
 * greedy decoding repeats one token forever. A small σ keeps the layers' contributions
 * (each post-normed to RMS ≈ 1) comparable to the input, and a final norm around 4 restores
 * a logit standard deviation of ≈ 5–8 for D 32–64: a clear top-1 below the softcap of 30.
 */
const EMBEDDING_STANDARD_DEVIATION = 0.25;
const FINAL_NORM_MEAN = 4;
/** Norm weights and scales: around 1, with enough spread that a wrong index shows. */
const NORM_STANDARD_DEVIATION = 0.1;
/**
 * AltUp coefficients mix the four streams (P_i = H_i + Σ_j C_ij·H_j, once per layer). Kept
 * small so a dozen layers do not blow the streams up, but not zero, so the mixing is tested.
 */
const ALTUP_COEFFICIENT_STANDARD_DEVIATION = 0.1;

/**
 * Random Gemma 3n weights for `rawConfig` (a config.json object), every tensor of
 * `expectedCheckpointTensors`, deterministic in `seed`: each tensor is drawn from its own
 * stream seeded by (seed, name), so its values do not depend on the other tensors.
 *
 * - Norm weights and `correct_output_scale`: 1 + 0.1·N(0,1) (Gemma 3n norms have no +1 offset).
 * - Linear weights [out, in]: N(0, 1/in), so each layer keeps activations at unit scale.
 * - `altup.modality_router`: N(0, D) — the router divides its normalised input by D, and this
 *   makes the tanh input ≈ N(0, 1) so the router is neither saturated nor constant.
 * - embed_tokens rows with ids ≥ vocab_size_per_layer_input copy the pad row, as in the
 *   released checkpoints (those ids are multimodal and embedded by the embedders instead).
 */
export function randomCheckpointWeights(
  rawConfig: Record<string, unknown>,
  options: RandomCheckpointOptions,
): InMemoryTensorSource {
  const config = parseGemma3nConfig(rawConfig);
  const source = new InMemoryTensorSource();
  for (const tensor of expectedCheckpointTensors(config)) {
    const values = randomTensor(config, tensor, options.seed);
    if (options.dtype === 'BF16') roundToBfloat16(values);
    source.set(tensor.name, tensor.shape, values);
  }
  if (options.includeTowers) {
    if (config.vision !== null) randomVisionTowerWeights(visionArchitectureFromConfig(config.vision), { seed: options.seed, target: source });
    if (config.audio !== null) randomAudioTowerWeights(config, { seed: options.seed, target: source });
    if (options.dtype === 'BF16') {
      for (const name of source.names()) if (name.includes('_tower.')) roundToBfloat16(source.get(name));
    }
  }
  if (options.includeLmHead) {
    const embedding = source.get(`${TEXT_PREFIX}embed_tokens.weight`);
    source.set('lm_head.weight', source.info(`${TEXT_PREFIX}embed_tokens.weight`).shape, embedding.slice());
  }
  return source;
}

function randomTensor(config: Gemma3nConfig, tensor: ExpectedTensor, seed: number): Float32Array {
  const count = tensor.shape.reduce((product, size) => product * size, 1);
  const values = new Float32Array(count);
  const random = new RandomNumberGenerator(tensorSeed(seed, tensor.name));
  if (tensor.name === `${TEXT_PREFIX}embed_tokens.weight`) return randomTokenEmbedding(config, values, random);
  const { mean, standardDeviation } = tensorDistribution(config, tensor);
  return random.fillNormal(values, mean, standardDeviation);
}

/**
 * The normal distribution each checkpoint tensor is drawn from (see randomCheckpointWeights).
 * embed_tokens is N(0, 0.25²) for ids below vocab_size_per_layer_input; the rows above copy the
 * pad row, which callers handle.
 */
export function tensorDistribution(config: Gemma3nConfig, tensor: ExpectedTensor): { mean: number; standardDeviation: number } {
  const name = tensor.name;
  const normal = (mean: number, standardDeviation: number) => ({ mean, standardDeviation });
  if (name === `${TEXT_PREFIX}norm.weight`) return normal(FINAL_NORM_MEAN, NORM_STANDARD_DEVIATION * FINAL_NORM_MEAN);
  if (isNormLike(name)) return normal(1, NORM_STANDARD_DEVIATION);
  if (name === `${TEXT_PREFIX}embed_tokens.weight`) return normal(0, EMBEDDING_STANDARD_DEVIATION);
  if (name.endsWith('altup.modality_router.weight')) return normal(0, Math.sqrt(config.text.hiddenSize));
  if (name.endsWith('altup.prediction_coefs.weight') || name.endsWith('altup.correction_coefs.weight')) {
    return normal(0, ALTUP_COEFFICIENT_STANDARD_DEVIATION);
  }
  // The lookup is multiplied by √P, so 1/√P gives per-layer inputs of unit scale.
  if (name === `${TEXT_PREFIX}embed_tokens_per_layer.weight`) return normal(0, 1 / Math.sqrt(config.text.hiddenSizePerLayerInput));
  // Embedder tables feed an RMSNorm straight away; their scale only matters relative to the
  // norm's epsilon, so unit variance.
  if (name.endsWith('.embedding.weight')) return normal(0, 1);
  const fanIn = tensor.shape[tensor.shape.length - 1] ?? 1;
  return normal(0, 1 / Math.sqrt(fanIn));
}

function isNormLike(name: string): boolean {
  return name.endsWith('norm.weight') || name.endsWith('layernorm.weight') || name.endsWith('altup.correct_output_scale');
}

function randomTokenEmbedding(config: Gemma3nConfig, values: Float32Array, random: RandomNumberGenerator): Float32Array {
  const { vocabSize, vocabSizePerLayerInput, hiddenSize, padTokenId } = config.text;
  if (padTokenId >= vocabSizePerLayerInput) {
    throw new RangeError(
      `pad_token_id ${padTokenId} must be below vocab_size_per_layer_input ${vocabSizePerLayerInput} to copy its row`,
    );
  }
  random.fillNormal(values.subarray(0, vocabSizePerLayerInput * hiddenSize), 0, EMBEDDING_STANDARD_DEVIATION);
  const padRow = values.slice(padTokenId * hiddenSize, (padTokenId + 1) * hiddenSize);
  for (let row = vocabSizePerLayerInput; row < vocabSize; row++) {
    values.set(padRow, row * hiddenSize);
  }
  return values;
}
